"""Shard loading: each rank reads only its own rows of a ``.npy`` file, a CSV file or a folder of them.

A data file is a table: one row per sample, one column the target (the
last by default), the others the features, as for
:func:`numnet.data_files.load_csv`. How the rows are divided:

- ``.npy`` files, and folders of them (the parts, in name order, stacked):
  rank r of K takes the consecutive rows :func:`shard_range` (N, r, K) of
  the stacked table, read through a memory map, so only those rows' pages
  are ever read (N from the headers alone).
- a CSV file: rank r takes the lines that *start* in its share of the
  file's bytes (the byte range ``shard_range(size, r, K)``; the usual
  split of text files, one record per line), so no rank reads more than
  its bytes and one line. The header, when the first line has no number,
  is read by every rank (for column names) and skipped.
- a folder of CSV files: whole files, to the rank whose byte share holds
  the file's middle byte.

The ranks then agree, in one reduction, on the row counts (so each rank
knows the global index of its first row) and on the type of the targets
(integral labels on one rank and fractional values on another give float
targets everywhere, as one process reading the whole file would). A
failure on one rank (missing file, a bad cell) raises on every rank.
"""

import csv
import os
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .._validation import check_float_dtype
from ..data_files import target_column
from .comm import as_reducer

__all__ = ["Shard", "shard_range", "load_shard"]

_KINDS = ("int", "float", "str")


class Shard(NamedTuple):
    """This rank's rows: features ``X``, targets ``y``, the global index ``start`` of its first row, ``n_total``."""

    X: np.ndarray
    y: np.ndarray
    start: int
    n_total: int


def shard_range(n, rank, size):
    """``(lo, hi)``: rank ``rank``'s block of ``n`` items split into ``size`` consecutive blocks.

    The first ``n mod size`` ranks get one item more than the others.
    """
    q, r = divmod(int(n), int(size))
    lo = rank * q + min(rank, r)
    return lo, lo + q + (rank < r)


def load_shard(path, *, target=None, comm=None, dtype=np.float64, delimiter=","):
    """Read this rank's rows of a ``.npy`` or ``.csv`` file, or of a folder of such files.

    Parameters
    ----------
    path : str or os.PathLike
        A ``.npy`` file (a 2-D numeric table), a ``.csv`` file, or a folder
        holding ``.npy`` or ``.csv`` parts (read in name order).
    target : None, int or str, default=None
        The target column: the last one when None, an index (negative
        counts from the end), or a CSV header name.
    comm : mpi4py communicator or Reducer, optional
        Default: ``MPI.COMM_WORLD`` under ``mpiexec``, else one process
        (which reads every row).
    dtype : float32 or float64, default=float64
        Dtype of X (and of fractional targets).
    delimiter : str, default=","
        CSV field separator.

    Returns
    -------
    Shard
        ``X`` (n_local, n_columns − 1), ``y`` (n_local,): int64 when every
        target on every rank is integral, ``dtype`` when numeric otherwise,
        str when some target is not a number; ``start`` and ``n_total``.
    """
    reducer, dtype = as_reducer(comm), check_float_dtype(dtype)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    box = {}

    def fill(out):
        box["X"], labels = _read(Path(path), target, reducer, dtype, delimiter)
        box["labels"] = labels
        out[reducer.rank] = len(box["X"])
        out[reducer.size + _KINDS.index(_kind(labels))] = len(labels) > 0

    sums = reducer.sum(reducer.size + len(_KINDS), fill)
    counts, kinds = sums[: reducer.size], sums[reducer.size :]
    kind = next((k for k, present in zip(reversed(_KINDS), reversed(kinds)) if present), "int")
    start = int(counts[: reducer.rank].sum())
    return Shard(box["X"], _as_kind(box["labels"], kind, dtype), start, int(counts.sum()))


def _read(path, target, reducer, dtype, delimiter):
    """This rank's (X, labels) from a file or folder; labels are floats (npy) or strings (csv)."""
    if path.is_dir():
        npy, csvs = sorted(path.glob("*.npy")), sorted(path.glob("*.csv"))
        if bool(npy) == bool(csvs):
            raise ValueError(
                f"path {str(path)!r} must hold .npy files or .csv files (one kind), "
                f"found {len(npy)} .npy and {len(csvs)} .csv"
            )
        if npy:
            return _read_npy(npy, target, reducer, dtype)
        return _read_csv_files(csvs, target, reducer, dtype, delimiter)
    if not path.is_file():
        raise ValueError(f"path {str(path)!r}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return _read_npy([path], target, reducer, dtype)
    if suffix == ".csv":
        lo, hi = shard_range(path.stat().st_size, reducer.rank, reducer.size)
        return _parse_csv(path, lo, hi, False, target, dtype, delimiter)
    raise ValueError(f"path {str(path)!r} must end in .npy or .csv, or be a folder of such files")


# ------------------------------------------------------------------ .npy


def _open_npy(path):
    try:
        table = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise ValueError(f"path {str(path)!r} is not a readable .npy file: {exc}") from exc
    if table.ndim != 2 or table.dtype.kind not in "biuf" or table.shape[1] < 2:
        raise ValueError(
            f"path {str(path)!r} must hold a 2-D numeric table with at least 2 columns "
            f"(features and target), got shape {table.shape}, dtype {table.dtype}"
        )
    return table


def _read_npy(paths, target, reducer, dtype):
    """This rank's rows of the stacked tables, read through memory maps (only those pages are touched)."""
    tables = [_open_npy(p) for p in paths]
    width = tables[0].shape[1]
    for p, t in zip(paths, tables):
        if t.shape[1] != width:
            raise ValueError(
                f"path {str(p)!r} has {t.shape[1]} columns, {str(paths[0])!r} has {width}"
            )
    t = target_column(target, None, width, paths[0])
    ends = np.cumsum([len(tab) for tab in tables])
    lo, hi = shard_range(int(ends[-1]), reducer.rank, reducer.size)
    blocks, first = [], 0
    for tab, end in zip(tables, ends):
        a, b = max(lo, first), min(hi, int(end))
        if a < b:
            blocks.append(np.asarray(tab[a - first : b - first], dtype=np.float64))
        first = int(end)
    rows = np.concatenate(blocks) if blocks else np.zeros((0, width))
    X = np.delete(rows, t, axis=1)
    bad = np.argwhere(~np.isfinite(rows))
    if len(bad):
        raise ValueError(f"{_where(paths)}: NaN or inf at row {lo + bad[0][0]}, column {bad[0][1]}")
    return X.astype(dtype), rows[:, t]


def _where(paths):
    return f"path {str(paths[0])!r}" if len(paths) == 1 else f"the folder {str(paths[0].parent)!r}"


# ------------------------------------------------------------------ CSV


def _csv_lines(path, lo, hi, header, whole=False):
    """(byte offset, text) of the lines starting in [lo, hi) (every line when ``whole``), header excluded."""
    with open(path, "rb") as f:
        first = f.readline()
        if lo > 0 and not whole:
            f.seek(lo - 1)
            f.readline()  # the rest of the line that started before lo
        else:
            f.seek(len(first) if header else 0)
        lines = []
        while whole or f.tell() < hi:
            pos, raw = f.tell(), f.readline()
            if not raw:
                break
            text = _decode(raw, path, pos)
            if text.strip():
                lines.append((pos, text))
    return lines


def _decode(raw, path, pos):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"path {str(path)!r} is not a UTF-8 CSV file (at byte {pos}): {exc}"
        ) from None
    return text.removeprefix("\ufeff") if pos == 0 else text


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _header(path, delimiter):
    with open(path, "rb") as f:
        first = _decode(f.readline(), path, 0)
    cells = [c.strip() for c in next(csv.reader([first], delimiter=delimiter), [])]
    return cells, not any(_is_number(c) for c in cells)


def _read_csv_files(paths, target, reducer, dtype, delimiter):
    """Whole files to the rank holding their middle byte; this rank's files parsed and stacked."""
    sizes = np.array([p.stat().st_size for p in paths], dtype=np.float64)
    middles = np.cumsum(sizes) - sizes / 2
    owner = np.minimum((middles * reducer.size / max(sizes.sum(), 1)).astype(int), reducer.size - 1)
    parts = [
        _parse_csv(p, 0, 0, True, target, dtype, delimiter)
        for p, r in zip(paths, owner)
        if r == reducer.rank
    ]
    if not parts:
        width = len(_header(paths[0], delimiter)[0])
        return np.zeros((0, width - 1), dtype), np.zeros(0, dtype=str)
    return np.concatenate([X for X, _ in parts]), np.concatenate([y for _, y in parts])


def _parse_csv(path, lo, hi, whole, target, dtype, delimiter):
    """(X, target texts) of the lines of ``path`` starting in [lo, hi) (all when ``whole``).

    ValueError naming the byte offset of a bad line.
    """
    cells, header = _header(path, delimiter)
    lines = _csv_lines(path, lo, hi, header, whole)
    width = len(cells)
    if width < 2:
        raise ValueError(
            f"path {str(path)!r} needs at least 2 columns (features and target), got {width}"
        )
    t = target_column(target, cells if header else None, width, path)
    rows = [
        [c.strip() for c in r] for r in csv.reader([text for _, text in lines], delimiter=delimiter)
    ]
    for (pos, _), r in zip(lines, rows):
        if len(r) != width:
            raise ValueError(
                f"path {str(path)!r}: the line at byte {pos} has {len(r)} fields, expected {width}"
            )
    feats = [r[:t] + r[t + 1 :] for r in rows]
    try:
        X = np.array(feats, dtype=np.float64).reshape(len(rows), width - 1)
    except ValueError:
        i, j = next(
            (i, j) for i, r in enumerate(feats) for j, c in enumerate(r) if not _is_number(c)
        )
        raise ValueError(
            f"path {str(path)!r}: non-numeric feature value {feats[i][j]!r} in the line at byte "
            f"{lines[i][0]}"
        ) from None
    bad = np.argwhere(~np.isfinite(X))
    if len(bad):
        raise ValueError(
            f"path {str(path)!r}: NaN or inf feature in the line at byte {lines[bad[0][0]][0]}"
        )
    labels = np.array([r[t] for r in rows], dtype=str)
    if (labels == "").any():
        raise ValueError(f"path {str(path)!r}: missing value in the target column")
    return X.astype(dtype), labels


# ------------------------------------------------------------------ targets


def _kind(labels):
    """ "int" (all integral), "float" or "str" (some label is not a number): this rank's targets."""
    if labels.dtype.kind == "U":
        if not all(_is_number(t) for t in labels):
            return "str"
        labels = labels.astype(np.float64)
    if not np.isfinite(labels).all():
        raise ValueError("NaN or inf in the target column")
    integral = np.all((labels == np.round(labels)) & (np.abs(labels) < 2**53))
    return "int" if integral else "float"


def _as_kind(labels, kind, dtype):
    if kind == "str":
        return labels.astype(str)
    values = labels.astype(np.float64)
    return values.astype(np.int64) if kind == "int" else values.astype(dtype)
