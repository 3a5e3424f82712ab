"""What an MLP keeps of its optimizer between calls: ``optimizer_state_``, for warm_start and partial_fit.

scikit-learn's ``warm_start`` means "reuse the solution of the previous call
as initialization". numnet keeps that meaning and adds the optimizer: a
fitted MLP (or Network) estimator holds in ``optimizer_state_`` the
checkpoint of its last run (:mod:`numnet.optim.checkpoint`, as bytes: a
1-D ``uint8`` array that :func:`numnet.io.save` stores like any other
array) — the method's state (L-BFGS/BFGS/SR1 memory, Adam moments or the
momentum buffer, damping μ or trust radius, mini-batch generator states and
dropout key), the iteration count and history — plus, under ``extra``, what
the estimator adds: the seeds of the validation split and of the
optimizer, the early-stopping monitor (best score, scores, best loss,
iterations without improvement), a SHA-256 of ``theta_`` and of the
training rows, and the split settings.

A later ``fit`` with ``warm_start=True`` *continues that run* when it is
still the same run: same solver and solver options, same training rows
(bitwise), same early-stopping split, and ``theta_`` unchanged since. It then
runs ``max_iter`` more iterations from the optimizer's last iterate with its
state, and ``fit(max_iter=N)`` equals ``fit(max_iter=k)`` followed by a
warm-started ``fit(max_iter=N-k)`` bit for bit. Otherwise it starts a new
run from ``theta_`` (scikit-learn's meaning; the optimizer state restarts).
``partial_fit`` continues the method's state on each new batch of rows (any
number of them): one epoch per call, ``theta_`` the iterate after it, so
k calls on the same rows equal ``fit(max_iter=k)`` while the loss does not
increase (fit keeps the best iterate).
"""

import hashlib
import io
from typing import NamedTuple

import numpy as np

from ..optim import METHODS
from ..optim.checkpoint import continuation, options_record, read_checkpoint, write_checkpoint

__all__ = [
    "Previous",
    "previous_run",
    "keep_run",
    "restore_monitor",
    "data_digest",
    "read_optimizer_state",
    "check_optimizer_state",
]

NAME = "optimizer_state_"
_EXTRA = {"theta_sha256": str, "data_sha256": str, "seeds": dict, "monitor": dict, "split": list}


class Previous(NamedTuple):
    """The run a call continues: its record (for ``minimize(resume=...)``), seeds and monitor state."""

    record: dict
    seeds: dict
    monitor: dict
    offset: int


def data_digest(*arrays):
    """SHA-256 over the dtypes, shapes and bytes of ``arrays``."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.reshape(-1).view(np.uint8))
    return h.hexdigest()


def _split(est, incremental):
    return [bool(est.early_stopping and not incremental), float(est.validation_fraction)]


def previous_run(est, X, Y, incremental, options_for):
    """The run that this call continues, or None when it starts a new one (see the module notes).

    ``options_for(seed)`` gives the solver options for an optimizer seed.
    """
    blob = vars(est).get(NAME)
    method = METHODS.get(est.solver)
    if blob is None or method is None or not method.checkpointable:
        return None
    record = read_optimizer_state(blob)
    extra = record["extra"]
    if (
        extra["theta_sha256"] != data_digest(est.theta_)
        or record["method"] != est.solver
        or record["dtype"] != str(est.theta_.dtype)
        or extra["split"] != _split(est, incremental)
    ):
        return None
    seeds = extra["seeds"]
    if record["options"] != options_record(method.bind(options_for(seeds["optimizer"]))):
        return None
    if incremental:
        return Previous(continuation(record, est.theta_), seeds, extra["monitor"], 0)
    if extra["data_sha256"] != data_digest(X, Y):
        return None
    return Previous(record, seeds, extra["monitor"], record["nit"])


def keep_run(est, record, seeds, monitor, X, Y, incremental):
    """Store ``record`` (the run's last checkpoint, or None) with the estimator's part in ``optimizer_state_``."""
    if record is None:
        vars(est).pop(NAME, None)
        return
    extra = {
        "theta_sha256": data_digest(est.theta_),
        "data_sha256": data_digest(X, Y),
        "seeds": seeds,
        "monitor": {
            "best_loss": float(monitor.best_loss),
            "stall": int(monitor.stall),
            "best_score": float(monitor.best_score),
            "scores": [float(s) for s in monitor.scores],
        },
        "split": _split(est, incremental),
    }
    history = [{k: v for k, v in h.items() if k != "time"} for h in record["history"]]
    buf = io.BytesIO()  # without clock readings: the same fit gives the same bytes
    write_checkpoint(buf, {**record, "elapsed": 0.0, "history": history, "extra": extra})
    est.optimizer_state_ = np.frombuffer(buf.getvalue(), dtype=np.uint8)


def restore_monitor(monitor, state, theta):
    """Put the monitor where the previous call left it (its best iterate is ``theta_``)."""
    monitor.best_loss, monitor.stall = state["best_loss"], state["stall"]
    monitor.best_score, monitor.scores = state["best_score"], list(state["scores"])
    monitor.best_x = theta.copy() if monitor.scores else None


def read_optimizer_state(value):
    """The record in ``optimizer_state_`` with its ``extra`` checked; ValueError naming the attribute."""
    record = read_checkpoint(value, name=NAME)
    extra = record.get("extra")
    if (
        not isinstance(extra, dict)
        or set(extra) != set(_EXTRA)
        or not all(isinstance(extra[k], t) for k, t in _EXTRA.items())
    ):
        raise ValueError(f"{NAME} has no valid estimator part (keys {sorted(_EXTRA)})")
    _check_parts(extra)
    return record


def _check_parts(extra):
    seeds, monitor = extra["seeds"], extra["monitor"]
    if set(seeds) != {"split", "optimizer"} or not all(
        s is None or type(s) is int for s in seeds.values()
    ):
        raise ValueError(f"{NAME}: seeds must be ints or null")
    keys = {"best_loss": float, "stall": int, "best_score": float, "scores": list}
    if (
        set(monitor) != set(keys)
        or not all(isinstance(monitor[k], t) for k, t in keys.items())
        or not all(isinstance(s, float) for s in monitor["scores"])
    ):
        raise ValueError(f"{NAME}: the monitor state is malformed")


def check_optimizer_state(value, theta):
    """Raise ValueError unless the bytes ``value`` hold a readable run of ``theta``'s size and dtype."""
    record = read_optimizer_state(value)
    if (record["n_params"], record["dtype"]) != (theta.size, str(theta.dtype)):
        raise ValueError(
            f"{NAME} is a run of {record['n_params']} {record['dtype']} parameters, "
            f"but theta_ has {theta.size} of {theta.dtype}"
        )
