"""Tikhonov continuation: follow the minimizer of J + ½α‖θ‖² as α decreases to 0.

Notes 000 lists the regularized problem min E + λR(W, K, b) and the
non-convexity of the unregularized one. A large α makes J + ½α‖θ‖² nearly
convex (every start ends at the same point, near θ = 0); decreasing α in
steps and warm-starting each stage from the previous minimizer follows a
path of minimizers to α = 0. The path keeps the weights bounded, so it
avoids the minima "at infinity" where tanh units saturate into step functions
and their gradients vanish (the spurious minima of the inverse crime with a
few hidden units); it ends at the minimum-norm end of its branch, which need
not be the global minimum when a lower-norm function fits almost as well.
"""

import numpy as np

from .._checks import check_int, check_non_negative, check_open_unit, check_positive
from ._common import Budget, Collector, check_method, check_target, local_run
from .kick import StallTest

__all__ = ["tikhonov_continuation", "alpha_schedule"]


def alpha_schedule(alpha0, factor, alpha_min):
    """α₀, α₀·factor, … down to ≥ alpha_min, then 0."""
    alphas = [alpha0]
    while alphas[-1] * factor >= alpha_min * (1 - 1e-12):
        alphas.append(alphas[-1] * factor)
    return alphas + [0.0]


def _check(alpha0, factor, alpha_min, stage_iter, max_iter):
    check_positive(alpha0, "alpha0")
    check_open_unit(factor, "factor")
    check_non_negative(alpha_min, "alpha_min")
    if alpha_min > alpha0:
        raise ValueError(f"alpha_min must be at most alpha0 = {alpha0!r}, got {alpha_min!r}")
    check_int(stage_iter, "stage_iter")
    check_int(max_iter, "max_iter")


def tikhonov_continuation(
    make_objective,
    theta0,
    method="gauss-newton",
    *,
    alpha0=1e-3,
    factor=0.1,
    alpha_min=1e-10,
    stage_iter=30,
    max_iter=1000,
    target=None,
    window=10,
    rtol=0.0,
    gtol=1e-10,
    ftol=0.0,
    max_time=None,
    **options,
):
    """Minimize J(θ) by minimizing J(θ) + ½α‖θ‖² for decreasing α, each stage warm-started.

    Parameters
    ----------
    make_objective : callable
        ``make_objective(alpha)`` returns the objective J + ½α‖θ‖² (e.g.
        ``lambda a: Objective(net, loss, X, Y, a or None)``); ``alpha = 0``
        gives J itself.
    theta0 : array_like of shape (n_params,)
    method : str, default="gauss-newton"
        The local method of every stage.
    alpha0, factor, alpha_min : float, default=1e-3, 0.1, 1e-10
        The stages α = α₀ factorᵏ ≥ alpha_min, then α = 0 (:func:`alpha_schedule`).
    stage_iter : int, default=30
        Iterations of each stage with α > 0.
    max_iter : int, default=1000
        Iterations over all stages; the last stage (α = 0) gets what is left.
    target : float, optional
        Stop as soon as J ≤ target (J unregularized, checked after every stage
        and during the last).
    window, rtol : int, float, default=10, 0.0
        Stall test of every stage (:class:`~numnet.optim.global_search.kick.StallTest`;
        rtol = 0 stops a stage only when J stops decreasing at all).
    gtol, ftol : float
        ``minimize``'s tolerances of every stage.
    max_time : float, optional
        Seconds for the whole strategy.
    **options
        Options of the local method (checked before any evaluation).

    Returns
    -------
    GlobalResult
        ``runs`` has per stage ``alpha`` and ``fun`` = J(θ) unregularized at
        its end (``finals`` the same); ``fun`` and ``x`` are the best J seen
        (the last stage's end unless the path went up).
    """
    _check(alpha0, factor, alpha_min, stage_iter, max_iter)
    budget = Budget(max_iter, max_time, check_target(target))
    check_method(method, options)
    plain, collect, x, stop = make_objective(0.0), Collector(budget), np.asarray(theta0), None
    for alpha in alpha_schedule(alpha0, factor, alpha_min):
        stall = StallTest(window, rtol, budget.target if alpha == 0 else None)
        res = local_run(
            make_objective(alpha) if alpha > 0 else plain,
            x,
            method,
            options,
            budget,
            max_iter=stage_iter if alpha > 0 else max_iter,
            gtol=gtol,
            ftol=ftol,
            callback=stall,
        )
        x = res.x
        collect.add(res, value=res.fun if alpha == 0 else plain.value(x), alpha=alpha)
        stop = "target" if budget.reached(collect.best_fun) else budget.exhausted()
        if stop is not None:
            break
    return collect.result(stop or "done", None)
