"""Stochastic kick: restart a stalled local method from a random perturbation of the best point.

Notes 000, "Training the neural network": "if non-convexity is 'ugly', modify
standard methods (stochastic kick)".
"""

from collections import deque

import numpy as np

from .._checks import check_choice, check_int, check_non_negative, check_positive
from ..base import robust_norm
from ._common import SCALES, Budget, Collector, check_method, check_target, kick_vector, local_run

__all__ = ["stochastic_kick", "StallTest"]


class StallTest:
    """A ``minimize`` callback that stops a run when it stalls or reaches the target.

    Stalled: over the last ``window`` iterations the loss fell by at most
    ``rtol · max(|J_k|, tiny)``, J_{k−window} − J_k ≤ rtol |J_k|. The
    gradient-norm test is ``minimize``'s own ``gtol``. ``step_length`` is
    the mean ‖θ_k − θ_{k−1}‖ over the last ``window`` iterations.
    """

    def __init__(self, window, rtol, target):
        self.window, self.rtol, self.target = window, rtol, target
        self.funs, self.steps, self.x, self.why = (
            deque(maxlen=window + 1),
            deque(maxlen=window),
            None,
            None,
        )

    def __call__(self, result):
        if self.x is not None:
            self.steps.append(robust_norm(result.x - self.x))
        self.x = result.x
        self.funs.append(result.fun)
        if self.target is not None and result.fun <= self.target:
            self.why = "target"
        elif len(self.funs) > self.window and self.funs[0] - self.funs[-1] <= self.rtol * max(
            abs(self.funs[-1]), np.finfo(float).tiny
        ):
            self.why = "stall"
        if self.why is not None:
            raise StopIteration

    @property
    def step_length(self):
        return float(np.mean(self.steps)) if self.steps else 0.0


def _check(window, rtol, kick, scale, anneal, max_kicks, max_iter):
    check_int(window, "window")
    check_non_negative(rtol, "rtol")
    check_positive(kick, "kick")
    check_choice(scale, "scale", SCALES)
    check_positive(anneal, "anneal")
    if anneal > 1:
        raise ValueError(f"anneal must be in (0, 1], got {anneal!r}")
    check_int(max_kicks, "max_kicks", minimum=0)
    check_int(max_iter, "max_iter")


def stochastic_kick(
    objective,
    theta0,
    method="gauss-newton",
    *,
    seed=0,
    window=10,
    rtol=1e-4,
    kick=0.1,
    scale="param",
    anneal=0.7,
    max_kicks=10,
    target=None,
    max_iter=1000,
    gtol=1e-10,
    ftol=0.0,
    max_time=None,
    **options,
):
    """Run a local method; when it stalls, kick the best point at random and go on.

    Parameters
    ----------
    objective : Objective or FunctionObjective
    theta0 : array_like of shape (n_params,)
    method : str, default="gauss-newton"
        The local method (any key of :data:`~numnet.optim.METHODS`).
    seed : int, default=0
        Seed of the kicks; with one BLAS thread the run is reproducible bit for bit.
    window : int, default=10
        Stall test: iterations over which the decrease is measured.
    rtol : float, default=1e-4
        Stall test: a run stops when J_{k−window} − J_k ≤ rtol · |J_k|
        (it also stops at ‖∇J‖ ≤ ``gtol``).
    kick : float, default=0.1
        Initial kick size, relative to the scale.
    scale : {"param", "step"}, default="param"
        The kick ξ has E‖ξ‖ ≈ kick · ‖θ_best‖ ("param") or kick · the mean
        length of the stalled run's last ``window`` steps ("step").
    anneal : float in (0, 1], default=0.7
        The kick size is multiplied by ``anneal`` after every kick.
    max_kicks : int, default=10
        Kicks after the first run (inner runs: at most ``max_kicks + 1``).
    target : float, optional
        Stop as soon as J ≤ target.
    max_iter : int, default=1000
        Iterations over all inner runs.
    gtol, ftol : float
        ``minimize``'s tolerances for each inner run.
    max_time : float, optional
        Seconds for the whole strategy.
    **options
        Options of the local method (checked before any evaluation).

    Returns
    -------
    GlobalResult
        The best point; ``runs`` has per run ``kick`` (the size used to
        start it, 0 for the first), ``start_fun`` (J at its start, an
        evaluation not counted in ``nfev``) and ``why`` (``"stall"``,
        ``"target"`` or the run's own stop).

    Notes
    -----
    Run k (k ≥ 1) starts from θ_best + ξ_k, ξ_k = σ_k z, z ~ N(0, I),
    σ_k = kick · anneal^(k−1) · s / √p with s the chosen scale; it always
    restarts from the best point seen, so the best loss never increases,
    and the shrinking kick turns the search from exploring into refining
    (as simulated annealing lowers its temperature).
    """
    budget = Budget(max_iter, max_time, check_target(target))
    _check(window, rtol, kick, scale, anneal, max_kicks, max_iter)
    check_method(method, options)
    rng, collect, x, size, used = (
        np.random.default_rng(seed),
        Collector(budget),
        np.asarray(theta0),
        kick,
        0.0,
    )
    for _ in range(max_kicks + 1):
        stall, start_fun = StallTest(window, rtol, budget.target), float(objective.value(x))
        res = local_run(
            objective,
            x,
            method,
            options,
            budget,
            max_iter=max_iter,
            gtol=gtol,
            ftol=ftol,
            callback=stall,
        )
        collect.add(res, kick=used, start_fun=start_fun, why=stall.why or res.status.name)
        stop = "target" if budget.reached(collect.best_fun) else budget.exhausted()
        if stop is not None:
            break
        best = collect.best_x
        x, used = best + kick_vector(rng, best, size, scale, stall.step_length), size
        size *= anneal
    return collect.result(stop or "done", seed)
