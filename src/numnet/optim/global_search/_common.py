"""What the global strategies share: the result, the local runs, the kicks, the option checks.

A global strategy calls :func:`~numnet.optim.minimize` several times (the
*inner runs*) and keeps the best point. :class:`GlobalResult` is an
:class:`~numnet.optim.OptimizeResult` whose ``history`` is every inner
run's history in order (each record tagged with its ``run``) and whose
``runs`` summarizes each inner run. All randomness comes from one
``np.random.Generator`` built from ``seed``.
"""

import time
from dataclasses import dataclass, field

import numpy as np

from ..base import OptimizeResult, Status, robust_norm
from ..driver import minimize
from ..methods import METHODS

__all__ = [
    "GlobalResult",
    "Budget",
    "Collector",
    "local_run",
    "kick_vector",
    "check_method",
    "check_target",
    "SCALES",
]

#: How a random kick is sized: relative to ‖θ‖ ("param") or to the last steps' length ("step").
SCALES = ("param", "step")


@dataclass
class GlobalResult(OptimizeResult):
    """The best point of several inner :func:`~numnet.optim.minimize` runs.

    Besides the :class:`~numnet.optim.OptimizeResult` fields (``x``, ``fun``
    and ``grad_norm`` of the best point; ``nit``, ``nfev``, ``ngev``,
    ``nhvp`` summed over the inner runs; ``status`` of the run that found
    the best point):

    - ``history``: the records of every inner run in order, each with
      ``run`` (its index), ``run_nit`` (its own iteration count), ``nit``
      counting over all runs and ``time`` since the strategy started;
    - ``runs``: one dict per inner run (``run``, ``fun``, ``nit``,
      ``status``, ``time`` at its end, and the strategy's own entries);
    - ``finals``: the final (best) loss of every inner run;
    - ``reached``: whether ``fun`` ≤ ``target`` (None without a target);
    - ``stop``: why the strategy stopped.

    ``success`` is ``reached`` when a target was given, else the best run's.
    """

    runs: list = field(default_factory=list)
    finals: np.ndarray = field(default_factory=lambda: np.empty(0))
    target: float | None = None
    reached: bool | None = None
    stop: str = ""
    seed: int | None = None

    @property
    def success(self):
        return bool(self.reached) if self.target is not None else self.status.success


class Budget:
    """The strategy's limits: total iterations and seconds, and the target value."""

    def __init__(self, max_iter, max_time, target):
        self.max_iter, self.max_time, self.target = max_iter, max_time, target
        self.t0, self.used = time.perf_counter(), 0

    def elapsed(self):
        return time.perf_counter() - self.t0

    def iterations_left(self):
        return self.max_iter - self.used

    def time_left(self):
        return None if self.max_time is None else self.max_time - self.elapsed()

    def exhausted(self):
        """``"max_iter"``, ``"max_time"`` or None."""
        if self.iterations_left() <= 0:
            return "max_iter"
        left = self.time_left()
        return "max_time" if left is not None and left <= 0 else None

    def reached(self, fun):
        return self.target is not None and fun <= self.target


def check_method(method, options):
    """The method's record with ``options`` bound and checked, before any evaluation (as ``minimize``)."""
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    METHODS[method].bind(options)
    return method


def check_target(target):
    if target is not None and not (
        isinstance(target, (int, float, np.integer, np.floating)) and np.isfinite(target)
    ):
        raise ValueError(f"target must be None or a finite number, got {target!r}")
    return None if target is None else float(target)


def local_run(objective, x0, method, options, budget, *, max_iter, gtol, ftol, callback=None):
    """One inner :func:`~numnet.optim.minimize` run within the budget's iterations and seconds."""
    left = budget.time_left()
    return minimize(
        objective,
        x0,
        method,
        callback=callback,
        max_iter=min(max_iter, budget.iterations_left()),
        gtol=gtol,
        ftol=ftol,
        max_time=None if left is None else max(left, 1e-9),
        **options,
    )


def kick_vector(rng, x, size, scale, step_length):
    """A random kick ξ with ‖ξ‖ ≈ size · ‖x‖ (scale "param") or size · step_length (scale "step").

    ξ = σ z, z ~ N(0, I_p), σ = size · reference / √p, so that E‖ξ‖² = (size · reference)².
    ``reference`` falls back to 1 when it is 0 (a zero θ, or no step taken).
    """
    reference = robust_norm(x) if scale == "param" else step_length
    reference = reference if reference > 0 and np.isfinite(reference) else 1.0
    sigma = size * reference / np.sqrt(x.size)
    return (sigma * rng.standard_normal(x.size)).astype(x.dtype, copy=False)


class Collector:
    """Gathers inner runs into one history, the run summaries and the best point."""

    def __init__(self, budget):
        self.budget, self.history, self.runs, self.results, self.best = budget, [], [], [], None

    def add(self, res, *, value=None, **extra):
        """Record an inner run (its history re-numbered over all runs); returns its summary.

        ``value`` (default ``res.fun``) is what the run is ranked by, e.g.
        the unregularized loss at the end of a regularized run.
        """
        i, offset, t_start = (
            len(self.runs),
            len(self.history),
            self.budget.elapsed() - _run_time(res),
        )
        for rec in res.history:
            self.history.append(
                {
                    **rec,
                    "run": i,
                    "run_nit": rec["nit"],
                    "nit": offset + rec["nit"],
                    "time": t_start + rec["time"],
                }
            )
        self.budget.used += res.nit
        value = float(res.fun if value is None else value)
        summary = {
            "run": i,
            "fun": value,
            "nit": res.nit,
            "status": res.status.name,
            "time": self.budget.elapsed(),
            **extra,
        }
        self.runs.append(summary)
        self.results.append(res)
        if self.best is None or value < self.best[0]:
            self.best = (value, res)
        return summary

    @property
    def best_fun(self):
        return self.best[0]

    @property
    def best_x(self):
        return self.best[1].x

    def result(self, stop, seed):
        """The :class:`GlobalResult` of the runs so far."""
        fun, best = self.best
        counts = [sum(getattr(r, k) for r in self.results) for k in ("nfev", "ngev", "nhvp")]
        reached = None if self.budget.target is None else bool(fun <= self.budget.target)
        return GlobalResult(
            x=best.x,
            fun=fun,
            grad_norm=best.grad_norm,
            nit=len(self.history),
            nfev=counts[0],
            ngev=counts[1],
            nhvp=counts[2],
            status=Status.MAX_TIME if stop == "max_time" else best.status,
            message=_message(stop, self.runs, fun, best),
            history=self.history,
            runs=self.runs,
            finals=np.array([r["fun"] for r in self.runs]),
            target=self.budget.target,
            reached=reached,
            stop=stop,
            seed=seed,
        )


def _run_time(res):
    return res.history[-1]["time"] if res.history else 0.0


def _message(stop, runs, fun, best):
    i = next(r["run"] for r in runs if r["fun"] == fun)
    why = {
        "target": "target reached",
        "max_iter": "iteration budget used",
        "max_time": "time limit reached",
        "done": "every run done",
    }[stop]
    return f"{why} after {len(runs)} runs; best from run {i} ({best.message})"
