"""Checkpoints of a :func:`~numnet.optim.minimize` run: one archive of plain arrays + JSON, never pickle.

A checkpoint holds everything a run needs to continue as if never stopped:
the method's name and options, the problem's size and dtype, the iteration
count, the evaluation counters, the elapsed time, the history, the best and
the last iterate, and the method's state (:class:`~numnet.optim.base.Method`)
with its arrays, memories, moments, damping or radius and generator states.
In memory it is a *record*, the ``dict`` :func:`read_checkpoint` returns and
a ``checkpoint=`` callable of ``minimize`` receives.

File layout: the archive format of :mod:`numnet.io` (an uncompressed zip of
``.npy`` members, read by :class:`numnet._archive.Archive`). The member
``__meta__`` is UTF-8 JSON (a ``uint8`` array); the arrays of the state are
packed one after another into one member per dtype, named by kind and item
size (``f8``, ``f4``, ``u4``, …), whose dtype, length and SHA-256 the JSON
declares under ``"arrays"``; the state and the best iterate are JSON trees
referring to slices of them (:mod:`numnet.optim._tree`: nothing is imported
or executed on load). The JSON also holds the method, options, sizes,
counters, history and, under ``"extra"``, what a caller attaches (the
estimators keep their stopping rule's state there).

Reading checks, before any array is read, what :func:`numnet.load` checks:
exactly one archive (nothing appended or prepended), member names and sizes
from the zip directory and the ``.npy`` headers against the JSON, the JSON at
most :data:`MAX_META` bytes and :data:`MAX_JSON_DEPTH` deep; then the
checksums and every field of the record. Memory stays within about twice the
file's size. Every failure is a ``ValueError``. Files are written
atomically (temporary file, then rename), and a SIGINT or SIGTERM that
arrives during a write takes effect when the write is done
(:func:`signals_held`), so an interrupt never leaves a half-written archive
or a masking error.
"""

import hashlib
import io
import json
import os
import re
import signal
import threading
import zipfile
from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from .._archive import Archive, json_depth
from .._files import atomic_path
from ._tree import DTYPE, Packer, decode, encode, jsonable

__all__ = [
    "RunSnapshot",
    "checkpoint_record",
    "write_checkpoint",
    "read_checkpoint",
    "save_checkpoint",
    "load_checkpoint",
    "check_resumable",
    "continuation",
    "interrupts_as_keyboard",
    "interrupt_signal",
    "signals_held",
    "FORMAT",
    "VERSION",
    "MAX_META",
    "MAX_JSON_DEPTH",
]

FORMAT = "numnet-checkpoint"
VERSION = 2
MAX_META = 64 * 2**20
"""Largest JSON part (bytes) written and read: the history of about 300,000 iterations."""
MAX_JSON_DEPTH = 64
"""Deepest nesting of the JSON part (a method state needs about 15)."""
_META = "__meta__"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_RUN_KEYS = {
    "method",
    "options",
    "n_params",
    "dtype",
    "n_samples",
    "nit",
    "counts",
    "elapsed",
    "best",
    "last",
    "history",
    "state",
}
_TERMINATED = "signal SIGTERM"
_EPOCH = (1980, 1, 1, 0, 0, 0)


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


# ------------------------------------------------------------------ records


def checkpoint_record(snapshot, method, opts, problem, x_like):
    """The record of ``snapshot``, a run of ``method`` with ``opts`` on ``problem`` (x of ``x_like``'s size)."""
    best = snapshot.best
    return {
        "method": method.name,
        "options": options_record(opts),
        "n_params": int(x_like.size),
        "dtype": str(x_like.dtype),
        "n_samples": _n_samples(problem),
        "nit": snapshot.nit,
        "counts": list(snapshot.counts),
        "elapsed": snapshot.elapsed,
        "best": {
            "x": best.x,
            "fun": best.fun,
            "grad_norm": best.grad_norm,
            "step": best.step,
            "inner": best.inner,
        },
        "last": {"fun": snapshot.last_fun, "grad_norm": snapshot.last_grad_norm},
        "history": snapshot.history[: snapshot.nit],
        "state": snapshot.state,
    }


def continuation(record, x):
    """``record``'s method state, its run's bookkeeping started afresh at ``x``, for any number of samples.

    Iterations, history, counters and elapsed time restart at 0 and the best
    iterate is ``x`` with value +inf (so the next iterate replaces it): the
    state goes on over new rows, as ``partial_fit`` does with each batch.
    """
    return {
        **record,
        "n_samples": "any",
        "nit": 0,
        "counts": [0, 0, 0],
        "elapsed": 0.0,
        "history": [],
        "best": {
            "x": x,
            "fun": float("inf"),
            "grad_norm": float("nan"),
            "step": float("nan"),
            "inner": 0,
        },
        "last": {"fun": float("inf"), "grad_norm": float("nan")},
    }


def options_record(opts):
    """The options as JSON data; values that are not (callables, objects) are recorded by type name."""

    def one(v):
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, np.generic):
            return v.item()
        return {"object": type(v).__qualname__}

    return {k: one(v) for k, v in opts._asdict().items()}


def _n_samples(problem):
    n = getattr(problem.objective, "n_samples", None)
    return int(n) if isinstance(n, (int, np.integer)) else None


def check_resumable(meta, method, opts, problem, x_like):
    """Raise ValueError unless the record ``meta`` is of this method, options, size and dtype."""
    if meta["method"] != method.name:
        raise ValueError(
            f"resume: the checkpoint is of method {meta['method']!r}, not {method.name!r}"
        )
    now = options_record(opts)
    diff = [
        f"{k}={now.get(k)!r} (checkpoint: {v!r})"
        for k, v in meta["options"].items()
        if now.get(k) != v
    ]
    diff += [f"{k}={v!r} (checkpoint: not set)" for k, v in now.items() if k not in meta["options"]]
    if diff:
        raise ValueError(f"resume: options differ from the checkpoint's: {', '.join(diff)}")
    mine = {
        "n_params": int(x_like.size),
        "dtype": str(x_like.dtype),
        "n_samples": _n_samples(problem),
    }
    for key, value in mine.items():
        if meta[key] != value and not (key == "n_samples" and meta[key] == "any"):
            raise ValueError(
                f"resume: the checkpoint has {key}={meta[key]!r}, but this problem has {value!r}"
            )


# ------------------------------------------------------------------ writing


def write_checkpoint(target, record):
    """Write ``record`` to ``target``: a path (atomically) or a seekable binary file object.

    Raises ``ValueError`` when the JSON part would exceed :data:`MAX_META`
    bytes or :data:`MAX_JSON_DEPTH` levels (nothing is written then) and
    ``TypeError`` when the state holds something that is not plain data.
    """
    packer = Packer()
    meta = {
        **record,
        "format": FORMAT,
        "version": VERSION,
        "best": {**record["best"], "x": encode(record["best"]["x"], packer, "best.x")},
        "state": encode(record["state"], packer, "state"),
    }
    meta["arrays"] = {
        name: {"dtype": parts[0].dtype.str, "size": size[0], "sha256": _digest(parts)}
        for name, (parts, size) in packer.groups.items()
    }
    text = json.dumps(meta, default=jsonable)
    _check_text(text, "cannot write the checkpoint")
    with signals_held():  # a Ctrl-C in the middle of a write takes effect when the file is complete
        if hasattr(target, "write"):
            _write_archive(target, text, packer.groups)
            return
        with atomic_path(target, suffix=".npz") as tmp, open(tmp, "wb") as f:
            _write_archive(f, text, packer.groups)


def _bytes(a):
    """The array's bytes in C order, as a flat ``uint8`` view (a copy only when not contiguous)."""
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def _digest(parts):
    h = hashlib.sha256()
    for a in parts:
        h.update(_bytes(a))
    return h.hexdigest()


def _write_archive(f, text, groups):
    """An uncompressed zip of ``.npy`` members, as ``np.savez`` writes, each packed member streamed."""
    blob = text.encode("utf-8")
    with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        _write_member(
            zf, _META, np.dtype(np.uint8), [np.frombuffer(blob, dtype=np.uint8)], len(blob)
        )
        for name, (parts, size) in groups.items():
            _write_member(zf, name, parts[0].dtype, parts, size[0])


def _write_member(zf, name, dtype, parts, size):
    info = zipfile.ZipInfo(
        f"{name}.npy", date_time=_EPOCH
    )  # a fixed time stamp: same record, same bytes
    with zf.open(info, "w", force_zip64=True) as member:
        np.lib.format.write_array_header_1_0(
            member, {"descr": dtype.str, "fortran_order": False, "shape": (size,)}
        )
        for a in parts:
            member.write(_bytes(a))


def save_checkpoint(path, snapshot, method, opts, problem, x_like):
    """Write ``snapshot`` of a run of ``method`` to ``path`` atomically."""
    write_checkpoint(path, checkpoint_record(snapshot, method, opts, problem, x_like))


# ------------------------------------------------------------------ reading


def read_checkpoint(source, name=None):
    """The record of the checkpoint in ``source``: a path, or bytes (a ``uint8`` array) holding one.

    Raises ``ValueError`` (naming ``name``, by default the path) for anything
    that is not a complete, unmodified checkpoint of this version.
    """
    if name is None:
        name = str(source) if isinstance(source, (str, os.PathLike)) else "the checkpoint"
    if isinstance(source, np.ndarray):
        if source.dtype != np.uint8 or source.ndim != 1:
            raise ValueError(
                f"{name} must be a 1-D uint8 array (the bytes of a checkpoint), got "
                f"dtype {source.dtype} and shape {source.shape}"
            )
        source = source.tobytes()
    if isinstance(source, (bytes, bytearray, memoryview)):
        source = io.BytesIO(source)
    with Archive(source, name=name) as archive:
        meta = _read_meta(archive, name)
        arrays = _read_arrays(archive, meta.pop("arrays"), name)
    try:
        _check_record(meta)
        meta["best"]["x"] = decode(meta["best"]["x"], arrays)
        meta["state"] = decode(meta["state"], arrays)
        _check_best(meta)
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        raise ValueError(f"{name} is not a readable numnet checkpoint: {exc}") from None
    return meta


def _read_meta(archive, name):
    if _META not in archive.keys:
        raise ValueError(f"{name} is not a numnet checkpoint (no {_META} member)")
    try:
        text = archive.read_bytes(_META, MAX_META).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{name}: the metadata is not valid UTF-8: {exc}") from None
    _check_text(text, name)
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{name}: the metadata is not valid JSON: {exc}") from None
    if not isinstance(meta, dict) or meta.pop("format", None) != FORMAT:
        raise ValueError(f"{name} is not a numnet checkpoint (no format tag)")
    version = meta.pop("version", None)
    if type(version) is not int or version != VERSION:
        raise ValueError(
            f"{name} is a checkpoint of version {version!r}; this numnet reads version {VERSION}"
        )
    if not isinstance(meta.get("arrays"), dict):
        raise ValueError(f"{name}: the metadata has no arrays table")
    return meta


def _check_text(text, where):
    size = len(text.encode("utf-8"))
    if size > MAX_META:
        raise ValueError(f"{where}: the metadata has {size} bytes; at most {MAX_META} are allowed")
    depth = json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ValueError(
            f"{where}: the metadata is nested {depth} deep; at most {MAX_JSON_DEPTH} is allowed"
        )


def _read_arrays(archive, table, name):
    """The packed members the table declares, sizes and headers checked before any is read."""
    if archive.keys != set(table) | {_META}:
        raise ValueError(
            f"{name}: members {sorted(archive.keys - {_META})} do not match the metadata's "
            f"{sorted(table)}"
        )
    specs = {key: _member_spec(key, spec, name) for key, spec in table.items()}
    for key, (dtype, size, _) in specs.items():
        archive.check(key, dtype, (size,))
    arrays = {key: archive.read(key, dtype, (size,)) for key, (dtype, size, _) in specs.items()}
    for key, (_, _, sha256) in specs.items():
        if hashlib.sha256(arrays[key].data).hexdigest() != sha256:
            raise ValueError(f"{name}: member {key!r} fails its SHA-256 checksum (corrupt file)")
    return arrays


def _member_spec(key, spec, name):
    if not isinstance(spec, dict) or set(spec) != {"dtype", "size", "sha256"}:
        raise ValueError(f"{name}: the metadata of member {key!r} is malformed")
    dtype, size, sha256 = spec["dtype"], spec["size"], spec["sha256"]
    match = DTYPE.fullmatch(dtype) if isinstance(dtype, str) else None
    if (
        match is None
        or key != "".join(match.groups())
        or type(size) is not int
        or size < 0
        or not isinstance(sha256, str)
        or not _SHA256.fullmatch(sha256)
    ):
        raise ValueError(
            f"{name}: member {key!r} is declared as {spec!r}; expected a dtype such as '<f8' "
            "named by kind and size, a length and a SHA-256"
        )
    return np.dtype(dtype), size, sha256


_FIELDS = {
    "method": str,
    "options": dict,
    "n_params": int,
    "dtype": str,
    "nit": int,
    "counts": list,
    "elapsed": float,
    "best": dict,
    "last": dict,
    "history": list,
}


def _check_record(meta):
    """Every field of the record of the type and range a run needs (before anything is decoded)."""
    extra, missing = set(meta) - _RUN_KEYS - {"extra"}, _RUN_KEYS - set(meta)
    if extra or missing:
        raise ValueError(f"unexpected fields {sorted(extra)}, missing {sorted(missing)}")
    for key, kind in _FIELDS.items():
        if not isinstance(meta[key], kind) or isinstance(meta[key], bool):
            raise ValueError(f"{key} must be a {kind.__name__}, got {str(meta[key])[:40]!r}")
    if (
        meta["dtype"] not in ("float32", "float64")
        or meta["n_params"] < 0
        or meta["nit"] < 0
        or not meta["elapsed"] >= 0
    ):
        raise ValueError("dtype, n_params, nit or elapsed out of range")
    if len(meta["counts"]) != 3 or not all(type(c) is int and c >= 0 for c in meta["counts"]):
        raise ValueError(f"counts must be 3 non-negative ints, got {meta['counts']!r}")
    if len(meta["history"]) != meta["nit"] or not all(isinstance(h, dict) for h in meta["history"]):
        raise ValueError(f"history must hold nit={meta['nit']} records")
    n = meta["n_samples"]
    if not (n is None or n == "any" or (type(n) is int and n >= 0)):
        raise ValueError(f"n_samples must be an int, 'any' or null, got {n!r}")
    if not isinstance(meta.get("extra", {}), dict):
        raise ValueError("extra must be a JSON object")
    _check_numbers(meta["best"], ("fun", "grad_norm", "step", "inner"), "best")
    _check_numbers(meta["last"], ("fun", "grad_norm"), "last")


def _check_numbers(part, keys, where):
    if set(part) - {"x"} != set(keys) or not all(
        isinstance(part[k], (int, float)) and not isinstance(part[k], bool) for k in keys
    ):
        raise ValueError(f"{where} must hold the numbers {', '.join(keys)}")


def _check_best(meta):
    x = meta["best"]["x"]
    if (
        not isinstance(x, np.ndarray)
        or x.shape != (meta["n_params"],)
        or str(x.dtype) != meta["dtype"]
    ):
        raise ValueError(
            f"best.x must be a {meta['dtype']} vector of n_params={meta['n_params']} entries"
        )


def load_checkpoint(path):
    """The record of the checkpoint file at ``path`` (errors name it as ``resume=``)."""
    return read_checkpoint(path, name=f"resume={str(path)!r}")


# ------------------------------------------------------------------ signals


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def interrupt_signal(exc):
    """The signal a KeyboardInterrupt stands for: SIGTERM when raised by :func:`interrupts_as_keyboard`."""
    return signal.SIGTERM if exc.args == (_TERMINATED,) else signal.SIGINT


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


@contextmanager
def signals_held():
    """SIGINT and SIGTERM wait until the block is done, then take effect as they would have (main thread).

    The handlers are replaced, not the signal mask: in a process with other
    threads (BLAS, progress bars) the kernel may deliver a signal to any of
    them, and Python still runs its handler in the main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = []
    previous = {
        s: signal.signal(s, lambda signum, frame: caught.append(signum))
        for s in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_DFL if handler is None else handler)
        if caught:
            signal.raise_signal(caught[0])
