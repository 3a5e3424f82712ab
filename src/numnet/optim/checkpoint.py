"""Checkpoints of a :func:`~numnet.optim.minimize` run: ``.npz`` of plain arrays + JSON, never pickle.

A checkpoint holds everything a run needs to continue as if never stopped:
the method's name and options, the problem's size and dtype, the iteration
count, the evaluation counters, the elapsed time, the history, the best and
the last iterate, and the method's state (:class:`~numnet.optim.base.Method`)
with its arrays, memories, moments, damping or radius and generator states.

File layout: every array is one ``.npy`` member; the member ``__meta__`` is
UTF-8 JSON (a ``uint8`` array). In the JSON, the state is a tree: an array
is ``{"@array": member}``, a NumPy scalar ``{"@scalar": dtype, "value": v}``,
a tuple ``{"@tuple": [...]}``, a dict ``{"@dict": {...}}``, a NamedTuple
``{"@namedtuple": "module:QualName", "fields": {...}}``. A NamedTuple class
is looked up among the modules already imported (nothing is imported or
executed on load), and its fields must match. Files are written atomically
(temporary file, then rename) and read with ``allow_pickle=False``.
"""

import json
import signal
import sys
import threading
import zipfile
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from .._files import atomic_path

__all__ = ["RunSnapshot", "save_checkpoint", "load_checkpoint", "check_resumable", "interrupts_as_keyboard",
           "FORMAT", "VERSION"]

FORMAT = "numnet-checkpoint"
VERSION = 1
_META = "__meta__"


class RunSnapshot(NamedTuple):
    """A run after its last completed iteration (``history[:nit]`` are its records)."""

    state: object
    nit: int
    best: object
    last_fun: float
    last_grad_norm: float
    counts: tuple
    elapsed: float
    history: list


# ------------------------------------------------------------------ the state as JSON + arrays

def _encode(value, arrays, path):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError(f"cannot checkpoint an object array at {path}")
        arrays[path] = value
        return {"@array": path}
    if isinstance(value, np.generic):
        return {"@scalar": value.dtype.str, "value": value.item()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        derived = getattr(type(value), "DERIVED", ())
        return {"@namedtuple": f"{type(value).__module__}:{type(value).__qualname__}",
                "fields": {f: None if f in derived else _encode(getattr(value, f), arrays, f"{path}.{f}")
                           for f in value._fields}}
    if isinstance(value, (tuple, list)):
        return {"@tuple": [_encode(v, arrays, f"{path}.{i}") for i, v in enumerate(value)]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"@dict": {k: _encode(v, arrays, f"{path}.{k}") for k, v in value.items()}}
    raise TypeError(f"cannot checkpoint a {type(value).__name__} at {path}: a method state holds plain data")


def _decode(tree, arrays):
    if not isinstance(tree, dict):
        return tree
    if "@array" in tree:
        return arrays[tree["@array"]]
    if "@scalar" in tree:
        return np.dtype(tree["@scalar"]).type(tree["value"])
    if "@tuple" in tree:
        return tuple(_decode(v, arrays) for v in tree["@tuple"])
    if "@dict" in tree:
        return {k: _decode(v, arrays) for k, v in tree["@dict"].items()}
    cls = _namedtuple_class(tree["@namedtuple"], tuple(tree["fields"]))
    return cls(**{k: _decode(v, arrays) for k, v in tree["fields"].items()})


def _namedtuple_class(name, fields):
    """The NamedTuple class ``module:QualName`` among imported modules, with exactly ``fields``."""
    module, _, qualname = name.partition(":")
    obj = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if not (isinstance(obj, type) and issubclass(obj, tuple) and getattr(obj, "_fields", None) == fields):
        raise ValueError(f"state type {name!r} with fields {fields} is not a loaded NamedTuple")
    return obj


def _jsonable(value):
    """History entries a callback returned: NumPy scalars and arrays as numbers and lists, others as repr."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return repr(value)


def options_record(opts):
    """The options as JSON data; values that are not (callables, objects) are recorded by type name."""
    def one(v):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, np.generic):
            return v.item()
        return {"object": type(v).__qualname__}
    return {k: one(v) for k, v in opts._asdict().items()}


# ------------------------------------------------------------------ files

def save_checkpoint(path, snapshot, method, opts, problem, x_like):
    """Write ``snapshot`` of a run of ``method`` to ``path`` atomically."""
    arrays = {}
    best = snapshot.best
    meta = {"format": FORMAT, "version": VERSION, "method": method.name, "options": options_record(opts),
            "n_params": int(x_like.size), "dtype": str(x_like.dtype), "n_samples": _n_samples(problem),
            "nit": snapshot.nit, "counts": list(snapshot.counts), "elapsed": snapshot.elapsed,
            "best": {"x": _encode(best.x, arrays, "best.x"), "fun": best.fun, "grad_norm": best.grad_norm,
                     "step": best.step, "inner": best.inner},
            "last": {"fun": snapshot.last_fun, "grad_norm": snapshot.last_grad_norm},
            "history": snapshot.history[: snapshot.nit],
            "state": _encode(snapshot.state, arrays, "state")}
    text = json.dumps(meta, default=_jsonable)
    arrays[_META] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, **arrays)


def load_checkpoint(path):
    """The metadata (dict) of the checkpoint at ``path``, with ``best["x"]`` and ``state`` decoded."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        meta = json.loads(bytes(arrays.pop(_META)).decode("utf-8"))
        if meta.get("format") != FORMAT or meta.get("version") != VERSION:
            raise ValueError(f"format {meta.get('format')!r} version {meta.get('version')!r}")
        meta["best"]["x"] = _decode(meta["best"]["x"], arrays)
        meta["state"] = _decode(meta["state"], arrays)
    except (OSError, EOFError, zipfile.BadZipFile, ValueError, KeyError, TypeError, AttributeError,
            RecursionError) as exc:
        raise ValueError(f"resume={str(path)!r} is not a readable numnet checkpoint: {exc}") from None
    return meta


def _n_samples(problem):
    n = getattr(problem.objective, "n_samples", None)
    return int(n) if isinstance(n, (int, np.integer)) else None


def check_resumable(meta, method, opts, problem, x_like):
    """Raise ValueError unless the checkpoint ``meta`` is of this method, options, size and dtype."""
    if meta["method"] != method.name:
        raise ValueError(f"resume: the checkpoint is of method {meta['method']!r}, not {method.name!r}")
    now = options_record(opts)
    diff = [f"{k}={now.get(k)!r} (checkpoint: {v!r})" for k, v in meta["options"].items() if now.get(k) != v]
    diff += [f"{k}={v!r} (checkpoint: not set)" for k, v in now.items() if k not in meta["options"]]
    if diff:
        raise ValueError(f"resume: options differ from the checkpoint's: {', '.join(diff)}")
    mine = {"n_params": int(x_like.size), "dtype": str(x_like.dtype), "n_samples": _n_samples(problem)}
    for key, value in mine.items():
        if meta[key] != value:
            raise ValueError(f"resume: the checkpoint has {key}={meta[key]!r}, but this problem has {value!r}")


# ------------------------------------------------------------------ signals

def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


@contextmanager
def interrupts_as_keyboard(active):
    """While active (and in the main thread), SIGTERM raises KeyboardInterrupt, as SIGINT does."""
    if not active or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)
