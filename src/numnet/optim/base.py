"""``minimize``: one entry point, one result type, one driver loop for every method.

A method is a generator ``method(problem, x0, f0, g0, **options)`` that yields
an :class:`Iterate` after each accepted step and contains only its algorithm.
The driver here does the bookkeeping every method shares: counting, history,
the callback, stopping tests, the best iterate, and the guard against
non-finite iterates. A method that cannot make progress raises
:class:`NoProgress` with a message; the driver then returns the best iterate
seen with ``success=False``.
"""

import time
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

from .._validation import check_theta
from .problem import Problem

__all__ = ["minimize", "OptimizeResult", "Status", "Iterate", "NoProgress", "METHODS", "register"]

METHODS = {}


def register(name):
    """Decorator adding a method generator to :data:`METHODS` under ``name``."""
    def deco(fn):
        METHODS[name] = fn
        return fn
    return deco


class Status(Enum):
    """Why a run stopped."""

    GTOL = "gradient norm below gtol"
    FTOL = "relative decrease below ftol"
    MAX_ITER = "maximum number of iterations reached"
    MAX_TIME = "time limit reached"
    CALLBACK = "stopped by the callback"
    NO_PROGRESS = "no progress"
    NON_FINITE = "non-finite value"

    @property
    def success(self):
        return self in (Status.GTOL, Status.FTOL, Status.CALLBACK)


class NoProgress(Exception):
    """Raised by a method that cannot find an acceptable step."""


@dataclass
class Iterate:
    """What a method yields after an accepted step."""

    x: np.ndarray
    fun: float
    grad: np.ndarray | None = None
    step: float = float("nan")
    inner: int = 0
    grad_norm: float | None = None

    def __post_init__(self):
        if self.grad_norm is None:
            self.grad_norm = float(np.linalg.norm(self.grad)) if self.grad is not None else float("nan")


@dataclass
class OptimizeResult:
    """The outcome of :func:`minimize`, with SciPy's field names.

    ``x`` is the best iterate seen (lowest ``fun``); ``history`` holds one
    record per iteration: ``nit``, ``fun``, ``grad_norm``, ``step``,
    ``inner`` (CG iterations), ``time`` (seconds since the start) and whatever
    the callback returned (a dict is merged, anything else is stored under
    ``"callback"``).
    """

    x: np.ndarray
    fun: float
    grad_norm: float
    nit: int
    nfev: int
    ngev: int
    nhvp: int
    status: Status
    message: str
    history: list = field(default_factory=list)

    @property
    def success(self):
        return self.status.success

    def __repr__(self):
        return (f"OptimizeResult(success={self.success}, status={self.status.name}, fun={self.fun:.6g}, "
                f"grad_norm={self.grad_norm:.3g}, nit={self.nit}, nfev={self.nfev}, ngev={self.ngev}, "
                f"nhvp={self.nhvp}, message={self.message!r})")


def minimize(objective, theta0, method="lbfgs", *, callback=None, max_iter=100, gtol=1e-6,
             ftol=0.0, max_time=None, **options):
    """Minimize an objective from ``theta0``.

    Parameters
    ----------
    objective : Objective or FunctionObjective
    theta0 : ndarray of shape (n_params,)
        Start; never modified.
    method : str, default="lbfgs"
        A key of :data:`METHODS` (see each method's docstring for its options).
    callback : callable, optional
        ``callback(result)`` after every iteration with the intermediate
        :class:`OptimizeResult`; its return value (e.g. a dict with a
        validation accuracy) is stored in the history record; raising
        ``StopIteration`` stops the run (early stopping).
    max_iter : int, default=100
        Iterations (epochs for the stochastic methods).
    gtol : float, default=1e-6
        Stop when ‖∇J‖ ≤ gtol.
    ftol : float, default=0.0
        Stop when J_{k−1} − J_k ≤ ftol · max(1, |J_k|) (0 disables).
    max_time : float, optional
        Seconds.
    **options
        Keyword-only options of the method.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    _check_limits(max_iter, gtol, ftol, max_time)
    problem = Problem(objective)
    x0 = np.array(check_theta(theta0, theta0.shape[0] if np.ndim(theta0) == 1 else -1, name="theta0"))
    f0, g0 = problem.value_and_grad(x0)
    if not (np.isfinite(f0) and np.isfinite(g0).all()):
        raise ValueError("theta0 gives a non-finite objective value or gradient")
    run = _Run(problem, Iterate(x0, float(f0), g0), time.perf_counter())
    if run.best.grad_norm <= gtol:
        return run.result(Status.GTOL)
    status = run.drive(METHODS[method](problem, x0.copy(), float(f0), g0, **options),
                       callback, max_iter, gtol, ftol, max_time)
    return run.result(status)


def _check_limits(max_iter, gtol, ftol, max_time):
    if not isinstance(max_iter, (int, np.integer)) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}")
    for name, val in (("gtol", gtol), ("ftol", ftol)):
        if not (np.isfinite(val) and val >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {val!r}")
    if max_time is not None and not max_time > 0:
        raise ValueError(f"max_time must be positive, got {max_time!r}")


class _Run:
    """Bookkeeping of one run: history, best iterate, message."""

    def __init__(self, problem, start, t0):
        self.problem, self.best, self.last, self.t0 = problem, start, start, t0
        self.history, self.message = [], None

    def drive(self, steps, callback, max_iter, gtol, ftol, max_time):
        if max_iter == 0:
            return Status.MAX_ITER
        try:
            for it in steps:
                status = self.accept(it, callback)
                status = status or self.stop(it, gtol, ftol, max_iter, max_time)
                if status is not None:
                    return status
        except NoProgress as exc:
            self.message = f"no progress: {exc}"
            return Status.NO_PROGRESS
        finally:
            steps.close()
        self.message = "the method ended its iterations"
        return Status.MAX_ITER

    def accept(self, it, callback):
        if not np.isfinite(it.fun):
            return Status.NON_FINITE
        prev, self.last = self.last, it
        if it.fun <= self.best.fun:
            self.best = it
        rec = {"nit": len(self.history) + 1, "fun": it.fun, "grad_norm": it.grad_norm,
               "step": it.step, "inner": it.inner, "time": time.perf_counter() - self.t0}
        self.history.append(rec)
        self._prev_fun = prev.fun
        if callback is None:
            return None
        try:
            out = callback(self.result(Status.MAX_ITER, current=it))
        except StopIteration:
            return Status.CALLBACK
        rec.update(out if isinstance(out, dict) else ({} if out is None else {"callback": out}))
        return None

    def stop(self, it, gtol, ftol, max_iter, max_time):
        if it.grad_norm <= gtol:
            return Status.GTOL
        if ftol > 0 and self._prev_fun - it.fun <= ftol * max(1.0, abs(it.fun)):
            return Status.FTOL
        if len(self.history) >= max_iter:
            return Status.MAX_ITER
        if max_time is not None and time.perf_counter() - self.t0 >= max_time:
            return Status.MAX_TIME
        return None

    def result(self, status, current=None):
        it = self.best if current is None else current
        c = self.problem.counts
        return OptimizeResult(x=it.x, fun=it.fun, grad_norm=it.grad_norm, nit=len(self.history),
                              nfev=c.nfev, ngev=c.ngev, nhvp=c.nhvp, status=status,
                              message=self.message or status.value, history=self.history)
