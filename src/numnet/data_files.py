"""Users' own data: CSV and NPZ files, read with NumPy and the csv module, never with pickle."""

import csv
import os
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ._validation import check_float_dtype as _check_dtype

__all__ = ["load_csv", "load_npz"]

_READ_ERRORS = (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error)


def _existing_file(path):
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    if not Path(path).is_file():
        raise ValueError(f"path {str(path)!r}: no such file")
    return Path(path)


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_rows(path, delimiter):
    """Non-blank rows of a CSV file as ``(line_number, cells)``; checks raggedness."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(f, delimiter=delimiter)
            rows = [
                (reader.line_num, [c.strip() for c in r])
                for r in reader
                if any(c.strip() for c in r)
            ]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ValueError(f"path {str(path)!r} is not a readable CSV file: {exc}") from exc
    if not rows:
        raise ValueError(f"path {str(path)!r} is empty")
    width = len(rows[0][1])
    for line, cells in rows:
        if len(cells) != width:
            raise ValueError(
                f"path {str(path)!r}: line {line} has {len(cells)} fields, expected {width}"
            )
    if width < 2:
        raise ValueError(
            f"path {str(path)!r} needs at least 2 columns (features and target), got {width}"
        )
    return rows


def target_column(target, header, width, path):
    """The index of the target column: ``target`` None (the last), a header name or an int (negative from the end)."""
    if target is None:
        return width - 1
    if isinstance(target, str):
        if header is None:
            raise ValueError(
                f"target={target!r} is a column name but {str(path)!r} has no header row"
            )
        if target not in header:
            raise ValueError(
                f"target={target!r} is not a column of {str(path)!r}; available: {header}"
            )
        return header.index(target)
    if isinstance(target, (int, np.integer)) and not isinstance(target, bool):
        if not -width <= target < width:
            raise ValueError(
                f"target={target} is out of range for {width} columns in {str(path)!r}"
            )
        return int(target) % width
    raise TypeError(f"target must be None, a column name or an int, got {type(target).__name__}")


def _parse_features(cells, lines, names, dtype, path):
    """Convert a table of strings to floats, naming the first bad cell."""
    try:
        X = np.array(cells, dtype=np.float64)
    except ValueError:
        i, j = next(
            (i, j) for i, row in enumerate(cells) for j, t in enumerate(row) if not _is_number(t)
        )
        raise ValueError(
            f"path {str(path)!r}: non-numeric feature value {cells[i][j]!r} "
            f"at line {lines[i]}, column {names[j]!r}"
        ) from None
    bad = np.argwhere(~np.isfinite(X))
    if len(bad):
        i, j = bad[0]
        raise ValueError(
            f"path {str(path)!r}: feature value {cells[i][j]!r} (NaN or inf) "
            f"at line {lines[i]}, column {names[j]!r}"
        )
    return X.astype(dtype)


def _parse_labels(texts, dtype, path):
    """Integral numbers -> int64, other numbers -> dtype, otherwise strings."""
    if any(t == "" for t in texts):
        raise ValueError(f"path {str(path)!r}: missing value in the target column")
    if not all(_is_number(t) for t in texts):
        return np.array(texts, dtype=str)
    y = np.array(texts, dtype=np.float64)
    if not np.isfinite(y).all():
        raise ValueError(f"path {str(path)!r}: NaN or inf in the target column")
    integral = np.all((y == np.round(y)) & (np.abs(y) < 2**53))
    return y.astype(np.int64) if integral else y.astype(dtype)


def load_csv(path, *, target=None, delimiter=",", dtype=np.float64):
    """Load a table of numeric features and one target column from a CSV file.

    The first row is a header when none of its cells is a number. Blank lines
    are skipped.

    Parameters
    ----------
    path : str or os.PathLike
        The CSV file.
    target : None, str or int, default=None
        The target column: None for the last one, a header name, or an index
        (negative counts from the end).
    delimiter : str, default=","
        Field separator.
    dtype : float32 or float64, default=float64
        Dtype of ``X`` (and of non-integral numeric targets).

    Returns
    -------
    X : ndarray of shape (n_samples, n_columns - 1)
        All other columns; they must be finite numbers.
    y : ndarray of shape (n_samples,)
        int64 when every target is integral, ``dtype`` when numeric otherwise,
        and a str array when any target is not a number.

    Raises
    ------
    ValueError
        Missing, empty or ragged file, no data rows, non-numeric or non-finite
        features (with line and column), unknown target column.
    """
    dt, path = _check_dtype(dtype), _existing_file(path)
    rows = _read_rows(path, delimiter)
    width = len(rows[0][1])
    header = rows[0][1] if not any(_is_number(c) for c in rows[0][1]) else None
    rows = rows[1:] if header is not None else rows
    if not rows:
        raise ValueError(f"path {str(path)!r} has a header but no data rows")
    t = target_column(target, header, width, path)
    names = [c for k, c in enumerate(header or range(width)) if k != t]
    lines = [line for line, _ in rows]
    X = _parse_features([r[:t] + r[t + 1 :] for _, r in rows], lines, names, dt, path)
    return X, _parse_labels([r[t] for _, r in rows], dt, path)


def _open_npz(path):
    with open(path, "rb") as f:
        if f.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):  # not a zip: never let np.load try more
            raise ValueError(f"path {str(path)!r} is not an .npz archive (no zip signature)")
    try:
        return np.load(path, allow_pickle=False)
    except _READ_ERRORS as exc:
        raise ValueError(f"path {str(path)!r} is not a readable .npz archive: {exc}") from exc


def _npz_member(data, key, name, path):
    if key not in data.files:
        raise ValueError(
            f"{name}={key!r} is not in {str(path)!r}; available keys: {sorted(data.files)}"
        )
    try:
        return data[key]
    except _READ_ERRORS as exc:
        raise ValueError(
            f"cannot read {name}={key!r} from {str(path)!r} "
            f"(object arrays are refused, pickle is never used): {exc}"
        ) from exc


def _check_npz_arrays(X, y, path, dtype):
    if X.ndim != 2 or X.dtype.kind not in "biuf":
        raise ValueError(
            f"X in {str(path)!r} must be a 2-D numeric array, got shape {X.shape}, dtype {X.dtype}"
        )
    if y.ndim not in (1, 2) or len(y) != len(X) or y.dtype.kind not in "biufU":
        raise ValueError(
            f"y in {str(path)!r} must be numeric or str with {len(X)} rows like X, "
            f"got shape {y.shape}, dtype {y.dtype}"
        )
    if dtype is not None:
        X = X.astype(_check_dtype(dtype))
    elif X.dtype.kind != "f" or X.dtype.itemsize < 4:
        X = X.astype(np.float64)
    if not np.isfinite(X).all():
        raise ValueError(f"X in {str(path)!r} contains NaN or inf")
    return X, y


def load_npz(path, *, x_key="X", y_key="y", dtype=None):
    """Load ``(X, y)`` from a NumPy ``.npz`` archive, never unpickling.

    Parameters
    ----------
    path : str or os.PathLike
        The archive (``np.savez`` / ``np.savez_compressed``).
    x_key, y_key : str, default="X", "y"
        Names of the feature and target arrays in the archive.
    dtype : float32, float64 or None, default=None
        Dtype of ``X``; None keeps a stored float32/float64 and turns integers
        into float64.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs)

    Raises
    ------
    ValueError
        Missing or corrupt file, missing keys (available ones listed), object
        arrays, X not 2-D numeric, len(y) != len(X), non-finite X.
    """
    with _open_npz(_existing_file(path)) as data:
        X = _npz_member(data, x_key, "x_key", path)
        y = _npz_member(data, y_key, "y_key", path)
    return _check_npz_arrays(X, y, path, dtype)


# ---------------------------------------------------------- registry, split
