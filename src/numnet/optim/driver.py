"""``minimize``: one entry point, one result type, one driver loop for every method.

A method (:class:`~numnet.optim.base.Method`) contains only its algorithm, as
``init`` and ``step`` over a plain-data state. The driver does what every
method shares: it binds and checks the options before any evaluation, then
counts, records the history, calls the callback, tests the stopping rules,
keeps the best iterate, refuses non-finite iterates, and writes checkpoints
(:mod:`numnet.optim.checkpoint`). A method that cannot make progress raises
:class:`~numnet.optim.base.NoProgress`; the driver then returns the best
iterate seen with ``success=False``.
"""

import os
import time
from pathlib import Path

import numpy as np

from .._validation import check_int, check_theta
from .base import Iterate, Method, NoProgress, OptimizeResult, Status
from .checkpoint import (
    RunSnapshot,
    check_resumable,
    checkpoint_record,
    interrupts_as_keyboard,
    load_checkpoint,
    write_checkpoint,
)
from .methods import METHODS
from .problem import Problem

__all__ = ["minimize"]


def minimize(
    objective,
    theta0,
    method="lbfgs",
    *,
    callback=None,
    max_iter=100,
    gtol=1e-6,
    ftol=0.0,
    max_time=None,
    checkpoint=None,
    checkpoint_every=1,
    resume=None,
    **options,
):
    """Minimize an objective from ``theta0``.

    Parameters
    ----------
    objective : Objective or FunctionObjective
    theta0 : array_like of shape (n_params,)
        Start; never modified. With ``resume`` only its size and dtype are used.
    method : str or Method, default="lbfgs"
        A key of :data:`METHODS` (see each method's docstring for its options).
    callback : callable, optional
        ``callback(result)`` after every iteration with the intermediate
        :class:`OptimizeResult` (``status=Status.RUNNING``, ``x`` the current
        iterate); its return value (e.g. a dict with a validation accuracy)
        is stored in the history record; raising ``StopIteration`` stops the
        run (early stopping).
    max_iter : int, default=100
        Iterations (epochs for the stochastic methods), counting those
        before a ``resume``.
    gtol : float, default=1e-6
        Stop when ‖∇J‖ ≤ gtol (the norm computed without underflow).
    ftol : float, default=0.0
        Stop when J_{k−1} − J_k ≤ ftol · max(1, |J_k|) (0 disables).
    max_time : float, optional
        Seconds, counting those before a ``resume``.
    checkpoint : str, Path or callable, optional
        Write the run's full state there (atomically, an archive of arrays +
        JSON, :mod:`numnet.optim.checkpoint`) every ``checkpoint_every``
        iterations, when the run ends, and on KeyboardInterrupt — SIGINT,
        or SIGTERM, which raises KeyboardInterrupt while the run has a
        checkpoint — before the interrupt propagates; always the state
        after the last completed iteration (step, history record and
        callback). A callable is called with the record (the ``dict``
        :func:`~numnet.optim.checkpoint.read_checkpoint` returns) instead
        of a file being written. Nothing is written when the run stops
        before its first iteration (gtol met at the start, ``max_iter=0``).
    checkpoint_every : int, default=1
        Iterations between checkpoints.
    resume : str, Path or dict, optional
        Continue the run saved in this checkpoint file, or in a record a
        ``checkpoint`` callable received: method, options, number
        of parameters, dtype and number of samples must match (ValueError
        otherwise). At a fixed thread count the continued run equals the
        uninterrupted one bit for bit (iterates, history, counters).
    **options
        Keyword-only options of the method. Unknown names raise TypeError
        listing the valid ones, bad values ValueError or TypeError naming
        the option, both before the first evaluation.
    """
    method = _method(method)
    _check_limits(max_iter, gtol, ftol, max_time)
    _check_checkpointing(method, checkpoint, checkpoint_every, resume)
    problem = Problem(objective)
    theta0 = np.asarray(theta0)
    x0 = np.array(check_theta(theta0, theta0.shape[0] if theta0.ndim == 1 else -1, name="theta0"))
    opts = method.bind(options)
    method.check_problem(problem, opts)
    run = _Run(problem, method, opts, callback, x0)
    status = run.resume(resume, max_iter, gtol) if resume is not None else run.start(max_iter, gtol)
    if status is None:
        saver = None if checkpoint is None else _Saver(checkpoint, checkpoint_every, run)
        status = run.drive(max_iter, gtol, ftol, max_time, saver)
    return run.result(status)


def _method(method):
    if isinstance(method, Method):
        return method
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {sorted(METHODS)}, got {method!r}")
    return METHODS[method]


def _check_limits(max_iter, gtol, ftol, max_time):
    if not isinstance(max_iter, (int, np.integer)) or max_iter < 0:
        raise ValueError(f"max_iter must be a non-negative integer, got {max_iter!r}")
    for name, val in (("gtol", gtol), ("ftol", ftol)):
        if not (np.isfinite(val) and val >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {val!r}")
    if max_time is not None and not max_time > 0:
        raise ValueError(f"max_time must be positive, got {max_time!r}")


def _check_checkpointing(method, checkpoint, checkpoint_every, resume):
    """Types of the checkpoint arguments, a checkpointable method, a writable folder: before any work."""
    for name, path, also in (("checkpoint", checkpoint, callable), ("resume", resume, _is_record)):
        if path is not None and not (isinstance(path, (str, os.PathLike)) or also(path)):
            kind = "a callable" if name == "checkpoint" else "a checkpoint record (dict)"
            raise TypeError(f"{name} must be None, a path or {kind}, got {path!r}")
        if path is not None and not method.checkpointable:
            raise ValueError(
                f"{name}: method {method.name!r} keeps its state in a generator; "
                "only a Method can be checkpointed"
            )
    check_int(checkpoint_every, "checkpoint_every")
    if isinstance(checkpoint, (str, os.PathLike)):
        folder = Path(checkpoint).parent
        existing = next((p for p in (folder, *folder.parents) if p.exists()), Path("."))
        if not (existing.is_dir() and os.access(existing, os.W_OK)):
            raise ValueError(
                f"checkpoint={str(checkpoint)!r}: {str(existing)!r} is not a writable folder"
            )


def _is_record(value):
    return isinstance(value, dict)


class _Run:
    """Bookkeeping of one run: state, history, best and last iterate, the last completed iteration."""

    def __init__(self, problem, method, opts, callback, x0):
        self.problem, self.method, self.opts, self.callback, self.x0 = (
            problem,
            method,
            opts,
            callback,
            x0,
        )
        self.history, self.message, self.state, self.committed = [], None, None, None
        self.note = method.describe(problem, opts, x0)
        self.t0 = time.perf_counter()

    def start(self, max_iter, gtol):
        """Evaluate the start; the method's initial state unless the start already stops the run."""
        x0 = self.x0
        f0, g0 = self.problem.value_and_grad(x0)
        if not (np.isfinite(f0) and np.isfinite(g0).all()):
            raise ValueError("theta0 gives a non-finite objective value or gradient")
        self.best = self.last = Iterate(x0, float(f0), g0)
        if self.best.grad_norm <= gtol:
            return Status.GTOL
        if max_iter == 0:
            return Status.MAX_ITER
        self.state = self.method.init(self.problem, x0.copy(), float(f0), g0, self.opts)
        self.commit()
        return None

    def resume(self, source, max_iter, gtol):
        """Continue from the checkpoint file or record ``source``; a status when it already stops the run."""
        meta = source if _is_record(source) else load_checkpoint(source)
        check_resumable(meta, self.method, self.opts, self.problem, self.x0)
        best, last = meta["best"], meta["last"]
        self.best = Iterate(
            best["x"], best["fun"], None, best["step"], best["inner"], best["grad_norm"]
        )
        self.last = Iterate(None, last["fun"], None, grad_norm=last["grad_norm"])
        self.history = list(meta["history"])
        counts = self.problem.counts
        counts.nfev, counts.ngev, counts.nhvp = meta["counts"]
        self.t0 = time.perf_counter() - meta["elapsed"]
        self.state = self.method.restore(self.problem, meta["state"], self.opts)
        self.commit()
        if len(self.history) >= max_iter:
            return Status.MAX_ITER
        return Status.GTOL if self.last.grad_norm <= gtol else None

    def drive(self, max_iter, gtol, ftol, max_time, saver):
        """Iterate until a stopping rule; checkpoint at the end and on KeyboardInterrupt."""
        with interrupts_as_keyboard(saver is not None):
            try:
                status = self.iterate(max_iter, gtol, ftol, max_time, saver)
                if saver is not None:
                    saver.save()
            except KeyboardInterrupt:
                if saver is not None:
                    saver.save()
                raise
        return status

    def iterate(self, max_iter, gtol, ftol, max_time, saver):
        while True:
            try:
                state, it = self.method.step(self.problem, self.state, self.opts)
            except NoProgress as exc:
                self.message = f"no progress: {exc}"
                return Status.NO_PROGRESS
            except StopIteration:
                self.message = "the method ended its iterations"
                return Status.MAX_ITER
            if not np.isfinite(it.fun):
                return Status.NON_FINITE
            prev_fun, status = self.last.fun, self.accept(it)
            self.state = state
            self.commit()
            if saver is not None and self.committed.nit % saver.every == 0:
                saver.save()
            status = status or self.stop(it, prev_fun, gtol, ftol, max_iter, max_time)
            if status is not None:
                return status

    def accept(self, it):
        """Record the iterate (history, best) and call the callback; CALLBACK when it asks to stop."""
        self.last = it
        if it.fun <= self.best.fun:
            self.best = it
        rec = {
            "nit": len(self.history) + 1,
            "fun": it.fun,
            "grad_norm": it.grad_norm,
            "step": it.step,
            "inner": it.inner,
            "time": time.perf_counter() - self.t0,
        }
        if it.info:
            rec.update(it.info)
        self.history.append(rec)
        if self.callback is None:
            return None
        try:
            out = self.callback(self.result(Status.RUNNING, current=it))
        except StopIteration:
            return Status.CALLBACK
        rec.update(out if isinstance(out, dict) else ({} if out is None else {"callback": out}))
        return None

    def stop(self, it, prev_fun, gtol, ftol, max_iter, max_time):
        if it.grad_norm <= gtol:
            return Status.GTOL
        if ftol > 0 and prev_fun - it.fun <= ftol * max(1.0, abs(it.fun)):
            return Status.FTOL
        if len(self.history) >= max_iter:
            return Status.MAX_ITER
        if max_time is not None and time.perf_counter() - self.t0 >= max_time:
            return Status.MAX_TIME
        return None

    def commit(self):
        """Remember the run after a completed iteration: what a checkpoint writes."""
        c = self.problem.counts
        self.committed = RunSnapshot(
            self.state,
            len(self.history),
            self.best,
            self.last.fun,
            self.last.grad_norm,
            (c.nfev, c.ngev, c.nhvp),
            time.perf_counter() - self.t0,
            self.history,
        )

    def result(self, status, current=None):
        it = self.best if current is None else current
        c, message = self.problem.counts, self.message or status.value
        return OptimizeResult(
            x=it.x,
            fun=it.fun,
            grad_norm=it.grad_norm,
            nit=len(self.history),
            nfev=c.nfev,
            ngev=c.ngev,
            nhvp=c.nhvp,
            status=status,
            message=message if self.note is None else f"{message}; {self.note}",
            history=self.history,
        )


class _Saver:
    """Writes the run's last completed iteration to ``path``, or hands it to it (once per iteration count)."""

    def __init__(self, path, every, run):
        self.path, self.every, self.run, self.saved = path, every, run, None

    def save(self):
        snap, run = self.run.committed, self.run
        if snap is None or snap.nit == self.saved:
            return
        record = checkpoint_record(snap, run.method, run.opts, run.problem, run.x0)
        if callable(self.path):
            self.path(record)
        else:
            write_checkpoint(self.path, record)
        self.saved = snap.nit
