"""Data sets of the notes, synthetic benchmarks, file loaders and splits.

Every generator takes keyword options with named defaults and a
``random_state`` (an int seed, a ``np.random.Generator`` or None; an int ``s``
gives the same data as ``np.random.default_rng(s)``). Samples are rows;
features are float64 unless ``dtype`` says otherwise; class labels are int64.
Files are read with NumPy only, never with pickle.
"""

import inspect
import math
import os
import warnings
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np

from ._validation import as_rng, check_int
from ._validation import check_float_dtype as _check_dtype
from .activations import ACTIVATIONS
from .data_files import load_csv, load_npz
from .losses import softmax as _softmax

_sigmoid = ACTIVATIONS["sigmoid"].f

__all__ = [
    "IMAGE_SHAPES",
    "DATASETS",
    "PlantedSoftmax",
    "peaks_surface",
    "peaks",
    "xor",
    "planted_softmax",
    "planted_perceptron",
    "spirals",
    "moons",
    "circles",
    "digits",
    "load_csv",
    "load_npz",
    "load_dataset",
    "train_val_test_split",
    "inverse_crime",
    "load",
]

_PEAKS_GRID = 401  # grid points per axis for the class quantiles of peaks
_XOR_X = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
_XOR_Y = np.array([-1, 1, 1, -1])


# --------------------------------------------------------------- validation


def _sk_seed(rng):
    """An int seed for scikit-learn, drawn from ``rng``."""
    return int(rng.integers(2**31 - 1))


def _check_real(value, name, nonneg=True):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    if not np.isfinite(value) or (nonneg and value < 0):
        raise ValueError(f"{name} must be finite{' and >= 0' if nonneg else ''}, got {value}")
    return float(value)


# --------------------------------------------------------- synthetic data


def peaks_surface(x, y):
    """MATLAB's ``peaks`` function, evaluated element-wise.

    Parameters
    ----------
    x, y : array_like
        Coordinates (broadcast together); the classic domain is [-3, 3]^2.

    Returns
    -------
    z : ndarray
        3(1-x)^2 e^{-x^2-(y+1)^2} - 10(x/5 - x^3 - y^5) e^{-x^2-y^2}
        - 1/3 e^{-(x+1)^2-y^2}.
    """
    x, y = np.asarray(x), np.asarray(y)
    return (
        3 * (1 - x) ** 2 * np.exp(-(x**2) - (y + 1) ** 2)
        - 10 * (x / 5 - x**3 - y**5) * np.exp(-(x**2) - y**2)
        - np.exp(-((x + 1) ** 2) - y**2) / 3
    )


def _peaks_thresholds(n_classes):
    """Quantiles of z over a dense grid, splitting [-3, 3]^2 into equal areas."""
    t = np.linspace(-3.0, 3.0, _PEAKS_GRID)
    z = peaks_surface(*np.meshgrid(t, t))
    return np.quantile(z, np.linspace(0.0, 1.0, n_classes + 1)[1:-1])


def _peaks_label(P, thresholds):
    return np.digitize(peaks_surface(P[:, 0], P[:, 1]), thresholds)


def _fill_classes(rng, thresholds, n_per):
    """Rejection-sample uniform points until every class holds ``n_per``."""
    n_classes = len(thresholds) + 1
    chunks, counts = [[] for _ in range(n_classes)], np.zeros(n_classes, int)
    while counts.min() < n_per:
        P = rng.uniform(-3.0, 3.0, size=(2 * n_per * n_classes, 2))
        labels = _peaks_label(P, thresholds)
        for c in range(n_classes):
            take = P[labels == c][: n_per - counts[c]]
            chunks[c].append(take)
            counts[c] += len(take)
    return np.concatenate([np.concatenate(ch) for ch in chunks])


def peaks(n_samples=1000, n_classes=5, *, random_state=None, dtype=np.float64):
    """Points in [-3, 3]^2 labelled by level sets of the peaks surface (notes 000).

    The range of z = :func:`peaks_surface` over a dense grid is cut at its
    quantiles into ``n_classes`` bands of equal area; uniform points are
    drawn by rejection until every class holds ``n_samples // n_classes``.

    Parameters
    ----------
    n_samples : int, default=1000
        Requested number of points; ``n_classes * (n_samples // n_classes)``
        are returned, so that all classes have the same size.
    n_classes : int, default=5
        Number of classes, at least 2 and at most ``n_samples``.
    random_state : int, np.random.Generator or None
        Seed or generator.
    dtype : float32 or float64, default=float64
        Dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (n, 2)
        Shuffled points.
    y : ndarray of shape (n,), int64
        Labels 0..n_classes-1, increasing with z; each occurs n // n_classes times.
    """
    n_classes = check_int(n_classes, "n_classes", minimum=2)
    n_samples = check_int(n_samples, "n_samples")
    if n_samples < n_classes:
        raise ValueError(f"n_samples={n_samples} must be >= n_classes={n_classes}")
    dt, rng = _check_dtype(dtype), as_rng(random_state, "random_state")
    n_per = n_samples // n_classes
    X = _fill_classes(rng, _peaks_thresholds(n_classes), n_per)
    y = np.repeat(np.arange(n_classes, dtype=np.int64), n_per)
    order = rng.permutation(len(y))
    return X[order].astype(dt), y[order]


def xor(noise=0.0, n_samples=4, *, random_state=None, dtype=np.float64):
    """The XOR problem of notes 002.

    Parameters
    ----------
    noise : float, default=0.0
        Standard deviation of the Gaussian jitter added to every point.
    n_samples : int, default=4
        Number of points, at least 4; the four corners are repeated cyclically.
    random_state : int, np.random.Generator or None
        Seed or generator (only used when ``noise > 0``).
    dtype : float32 or float64, default=float64
        Dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
        Rows cycle through (-1,-1), (-1,1), (1,-1), (1,1), plus noise.
    y : ndarray of shape (n_samples,), int64
        Labels -1, 1, 1, -1 (repeated).
    """
    noise = _check_real(noise, "noise")
    n_samples = check_int(n_samples, "n_samples", minimum=4)
    dt, rng = _check_dtype(dtype), as_rng(random_state, "random_state")
    idx = np.arange(n_samples) % 4
    X = _XOR_X[idx]
    if noise > 0:
        X = X + noise * rng.standard_normal(X.shape)
    return X.astype(dt), _XOR_Y[idx].astype(np.int64)


class PlantedSoftmax(NamedTuple):
    """Data and planted parameters of the inverse-crime problem (notes 000).

    Attributes
    ----------
    X : ndarray of shape (n_samples, n_features)
        Inputs (the notes' Y, transposed).
    Y : ndarray of shape (n_samples, n_classes)
        Class probabilities softmax(tanh(X @ W1 + b) @ W2), rows sum to 1
        (the notes' C_obs, transposed).
    K : ndarray of shape (n_hidden, n_features)
        The notes' K_true; ``W1 = K.T`` is the (d_in, d_out) layer weight.
    b : ndarray of shape (n_hidden,)
        Planted bias (the notes' b_true, every entry equal).
    W : ndarray of shape (n_classes, n_hidden)
        The notes' W_true; ``W2 = W.T`` is the (d_in, d_out) output weight.
    """

    X: np.ndarray
    Y: np.ndarray
    K: np.ndarray
    b: np.ndarray
    W: np.ndarray

    @property
    def W1(self):
        """Hidden-layer weight ``K.T``, shape (n_features, n_hidden)."""
        return self.K.T

    @property
    def W2(self):
        """Output weight ``W.T``, shape (n_hidden, n_classes)."""
        return self.W.T


def planted_softmax(
    n_samples=500,
    n_features=50,
    n_classes=10,
    n_hidden=40,
    *,
    activation=np.tanh,
    bias=0.1,
    random_state=None,
    dtype=np.float64,
):
    """Softmax data generated by a planted single-layer model: the data of the notes' inverse crime (notes 000).

    The experiment that fits them is :func:`numnet.experiments.inverse_crime.inverse_crime_experiment`.

    The notes' test problem with samples as rows: W_true ~ randn(n_c, m),
    K_true ~ randn(m, n_f), b_true = bias, X ~ randn(n, n_f), and
    Y = softmax(σ(X @ K.T + b) @ W.T) row-wise.

    Parameters
    ----------
    n_samples, n_features, n_classes, n_hidden : int
        The notes' n = 500, n_f = 50, n_c = 10, m = 40.
    activation : callable, default=np.tanh
        Element-wise σ (e.g. ``np.tanh`` or a ``numnet.activations`` record).
    bias : float, default=0.1
        Value of every entry of b_true.
    random_state : int, np.random.Generator or None
        Seed or generator.
    dtype : float32 or float64, default=float64
        Dtype of every array; Y is computed in this dtype.

    Returns
    -------
    PlantedSoftmax
        Named tuple ``(X, Y, K, b, W)`` with properties ``W1 = K.T``, ``W2 = W.T``.
    """
    n, n_f, n_c, m = (
        check_int(v, name)
        for v, name in [
            (n_samples, "n_samples"),
            (n_features, "n_features"),
            (n_classes, "n_classes"),
            (n_hidden, "n_hidden"),
        ]
    )
    if not callable(activation):
        raise TypeError(f"activation must be callable, got {type(activation).__name__}")
    dt, rng = _check_dtype(dtype), as_rng(random_state, "random_state")
    W = rng.standard_normal((n_c, m)).astype(dt)
    K = rng.standard_normal((m, n_f)).astype(dt)
    b = np.full(m, _check_real(bias, "bias", nonneg=False), dtype=dt)
    X = rng.standard_normal((n, n_f)).astype(dt)
    Y = _softmax(activation(X @ K.T + b) @ W.T)
    return PlantedSoftmax(X, Y.astype(dt, copy=False), K, b, W)


def planted_perceptron(
    n_samples=200, n_features=10, *, task="regression", random_state=None, dtype=np.float64
):
    """Planted-truth perceptron data (notes 001).

    x ~ N(0, I), w* ~ N(0, I)/sqrt(n_features) (so x·w* ~ N(0, 1)), and
    y = σ(x·w*) for regression or y ~ Bernoulli(σ(x·w*)) for classification,
    with σ the logistic sigmoid.

    Parameters
    ----------
    n_samples, n_features : int
        Sizes n and d.
    task : {"regression", "classification"}, default="regression"
        Which label model to draw.
    random_state : int, np.random.Generator or None
        Seed or generator.
    dtype : float32 or float64, default=float64
        Dtype of ``X``, ``w_true`` and regression targets.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        σ(X @ w_true) (dtype) or labels in {0, 1} (int64).
    w_true : ndarray of shape (n_features,)
    """
    n, d = check_int(n_samples, "n_samples"), check_int(n_features, "n_features")
    if task not in ("regression", "classification"):
        raise ValueError(f"task must be 'regression' or 'classification', got {task!r}")
    dt, rng = _check_dtype(dtype), as_rng(random_state, "random_state")
    X = rng.standard_normal((n, d))
    w = rng.standard_normal(d) / np.sqrt(d)
    p = _sigmoid(X @ w)
    y = p.astype(dt) if task == "regression" else (rng.uniform(size=n) < p).astype(np.int64)
    return X.astype(dt), y, w.astype(dt)


def spirals(n_samples=200, noise=0.05, *, random_state=None, dtype=np.float64):
    """Two interleaved spirals of 1.5 turns in the unit disc.

    Parameters
    ----------
    n_samples : int, default=200
        Number of points (classes alternate, so they differ in size by at most 1).
    noise : float, default=0.05
        Standard deviation of the Gaussian noise added to the points.
    random_state : int, np.random.Generator or None
        Seed or generator.
    dtype : float32 or float64, default=float64
        Dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64
        Labels 0 and 1; class 1 is class 0 rotated by 180 degrees.
    """
    n, noise = check_int(n_samples, "n_samples"), _check_real(noise, "noise")
    dt, rng = _check_dtype(dtype), as_rng(random_state, "random_state")
    y = np.arange(n, dtype=np.int64) % 2
    r = np.sqrt(rng.uniform(size=n))
    angle = 3 * np.pi * r
    X = r[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])
    X[y == 1] *= -1
    return (X + noise * rng.standard_normal(X.shape)).astype(dt), y


def moons(n_samples=200, noise=0.1, *, random_state=None, dtype=np.float64):
    """Two interleaving half circles (``sklearn.datasets.make_moons``).

    Parameters
    ----------
    n_samples : int, default=200
    noise : float, default=0.1
        Standard deviation of the Gaussian noise.
    random_state : int, np.random.Generator or None
    dtype : float32 or float64, default=float64

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64, labels 0 and 1
    """
    n, noise = check_int(n_samples, "n_samples", minimum=2), _check_real(noise, "noise")
    dt, seed = _check_dtype(dtype), _sk_seed(as_rng(random_state, "random_state"))
    from sklearn.datasets import make_moons  # scikit-learn is imported on first use only

    X, y = make_moons(n_samples=n, noise=noise, random_state=seed)
    return X.astype(dt), y.astype(np.int64)


def circles(n_samples=200, noise=0.05, *, factor=0.5, random_state=None, dtype=np.float64):
    """A small circle inside a large one (``sklearn.datasets.make_circles``).

    Parameters
    ----------
    n_samples : int, default=200
    noise : float, default=0.05
        Standard deviation of the Gaussian noise.
    factor : float, default=0.5
        Radius of the inner circle relative to the outer, in (0, 1).
    random_state : int, np.random.Generator or None
    dtype : float32 or float64, default=float64

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64, 1 for the inner circle
    """
    n, noise = check_int(n_samples, "n_samples", minimum=2), _check_real(noise, "noise")
    if not 0 < factor < 1:
        raise ValueError(f"factor must be in (0, 1), got {factor}")
    dt, seed = _check_dtype(dtype), _sk_seed(as_rng(random_state, "random_state"))
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=n, noise=noise, factor=factor, random_state=seed)
    return X.astype(dt), y.astype(np.int64)


def digits(*, dtype=np.float64):
    """The 8x8 handwritten digits shipped with scikit-learn, scaled to [0, 1].

    Parameters
    ----------
    dtype : float32 or float64, default=float64

    Returns
    -------
    X : ndarray of shape (1797, 64)
        Pixel intensities divided by 16.
    y : ndarray of shape (1797,), int64, digits 0..9
    """
    dt = _check_dtype(dtype)
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X / 16.0).astype(dt), y.astype(np.int64)


#: Shape of one input row of the built-in image data sets (channels last), for convolutional networks.
IMAGE_SHAPES = {"digits": (8, 8, 1)}

DATASETS: dict[str, Callable] = {
    "peaks": peaks,
    "xor": xor,
    "spirals": spirals,
    "moons": moons,
    "circles": circles,
    "digits": digits,
    "perceptron": planted_perceptron,
}


def load_dataset(name_or_path, *, random_state=None, **kwargs):
    """Load a built-in data set by name, or a ``.csv`` / ``.npz`` file (models load with :func:`numnet.load`).

    Parameters
    ----------
    name_or_path : str or os.PathLike
        A key of :data:`DATASETS` or a path ending in ``.csv`` or ``.npz``.
    random_state : int, np.random.Generator or None
        Passed to generators; ignored by digits and files.
    **kwargs
        Options of the chosen function (unknown ones raise ``TypeError``).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        (``planted_perceptron``'s ``w_true`` is dropped; call it directly to get it.)
    """
    if isinstance(name_or_path, str) and name_or_path in DATASETS:
        fn = DATASETS[name_or_path]
        if "random_state" in inspect.signature(fn).parameters:
            kwargs["random_state"] = random_state
        return tuple(fn(**kwargs)[:2])
    if isinstance(name_or_path, (str, os.PathLike)):
        suffix = Path(name_or_path).suffix.lower()
        if suffix in (".csv", ".npz"):
            return (load_csv if suffix == ".csv" else load_npz)(name_or_path, **kwargs)
    raise ValueError(
        f"name_or_path={name_or_path!r} is neither a built-in data set "
        f"(choices: {sorted(DATASETS)}) nor a path ending in .csv or .npz"
    )


def _check_fractions(val_fraction, test_fraction):
    for f, name in [(val_fraction, "val_fraction"), (test_fraction, "test_fraction")]:
        if isinstance(f, bool) or not isinstance(f, (int, float, np.integer, np.floating)):
            raise TypeError(f"{name} must be a real number, got {type(f).__name__}")
        if not 0 <= f < 1:
            raise ValueError(f"{name} must be in [0, 1), got {f}")
    if val_fraction + test_fraction >= 1:
        raise ValueError(
            f"val_fraction + test_fraction must be < 1, got {val_fraction} + {test_fraction}"
        )


def _split_off(X, y, n_out, stratify, rng):
    """Split ``n_out`` rows off ``(X, y)``: returns (X_keep, y_keep, X_out, y_out)."""
    if n_out == 0:
        return X, y, X[:0], y[:0]
    from sklearn.model_selection import train_test_split

    strat = y if stratify else None
    try:
        Xk, Xo, yk, yo = train_test_split(
            X, y, test_size=n_out, stratify=strat, random_state=_sk_seed(rng)
        )
    except ValueError as exc:
        raise ValueError(f"cannot split with stratify=True ({exc}); pass stratify=False") from exc
    return Xk, yk, Xo, yo


def train_val_test_split(
    X, y, *, val_fraction=0.2, test_fraction=0.2, stratify=True, random_state=None
):
    """Split samples into training, validation and test sets.

    Each set with a positive fraction f gets ceil(f * n_samples) >= 1 rows, so
    the validation set is never empty by accident (the course's peaks example
    built an empty one). Built on ``sklearn.model_selection.train_test_split``.

    Parameters
    ----------
    X : array_like of shape (n_samples, ...)
    y : array_like of shape (n_samples, ...)
    val_fraction, test_fraction : float, default=0.2
        Fractions in [0, 1) with sum < 1; 0 gives empty sets with 0 rows.
    stratify : bool, default=True
        Keep class proportions in every set; only applied when ``y`` holds
        class labels (binary or multiclass), never to continuous targets.
    random_state : int, np.random.Generator or None

    Returns
    -------
    X_train, y_train, X_val, y_val, X_test, y_test : ndarray
    """
    _check_fractions(val_fraction, test_fraction)
    X, y = np.asarray(X), np.asarray(y)
    n = len(X)
    if len(y) != n:
        raise ValueError(f"X and y must have the same number of rows, got {n} and {len(y)}")
    n_test, n_val = (math.ceil(f * n) for f in (test_fraction, val_fraction))
    if n - n_test - n_val < 1:
        raise ValueError(f"no training rows left: n_samples={n}, {n_val} validation, {n_test} test")
    from sklearn.utils.multiclass import type_of_target

    stratify = bool(stratify) and type_of_target(y) in ("binary", "multiclass")
    rng = as_rng(random_state, "random_state")
    X_rest, y_rest, X_te, y_te = _split_off(X, y, n_test, stratify, rng)
    X_tr, y_tr, X_val, y_val = _split_off(X_rest, y_rest, n_val, stratify, rng)
    return X_tr, y_tr, X_val, y_val, X_te, y_te


def _deprecated(old, new, function):
    def alias(*args, **kwargs):
        warnings.warn(
            f"numnet.datasets.{old} is deprecated; use numnet.datasets.{new}",
            DeprecationWarning,
            stacklevel=2,
        )
        return function(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old
    alias.__doc__ = f"Deprecated alias of :func:`{new}`."
    return alias


inverse_crime = _deprecated("inverse_crime", "planted_softmax", planted_softmax)
load = _deprecated("load", "load_dataset", load_dataset)
