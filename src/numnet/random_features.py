"""Random features (extreme learning machines): random K, b; solve for the output weights.

Notes 000, "first experiment: random transformation": choose K and b at
random, keep them fixed, and solve the least-squares or classification
problem W σ(KY + b) = C for W alone. Here, samples as rows, the features are
Z = σ(X @ W1 + b) with W1 = Kᵀ of shape (n_features, n_hidden), computed by
the forward pass of a :class:`~numnet.layers.Dense` layer, and the output is
F = Z @ W + c.

Least squares is solved either from the normal equations accumulated over
row batches (:class:`NormalEquations`; memory O(m² + batch·m), independent
of the number of samples) or by an SVD-based ``scipy.linalg.lstsq`` on the
stacked features; multinomial logistic regression on the features is convex
in W and is solved with ``newton-cg`` (:func:`fit_logistic`). The
diagnostics of notes 000 (singular values and numerical rank of σ(XKᵀ + b),
and the rank bound of the identity activation) are :func:`feature_spectrum`.
"""

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.linalg
import scipy.linalg.blas

from ._linalg import ridge_lstsq_intercept, spd_solve
from ._validation import (
    as_rng,
    check_float_dtype,
    check_int,
    check_matrix,
    check_non_negative,
    check_positive,
)
from .layers import Dense
from .network import Sequential
from .objective import Objective
from .optim import minimize
from .regularizers import Tikhonov

__all__ = [
    "RandomFeatures",
    "random_features",
    "NormalEquations",
    "fit_least_squares",
    "fit_logistic",
    "stack_output_weights",
    "choose_ls_solver",
    "FeatureSpectrum",
    "feature_spectrum",
    "identity_rank_bound",
    "DISTRIBUTIONS",
    "LS_SOLVERS",
    "LSTSQ_MAX_ENTRIES",
]

DISTRIBUTIONS = ("normal", "uniform")
LS_SOLVERS = ("auto", "normal", "lstsq")
LSTSQ_MAX_ENTRIES = 2**22
"""``solver="auto"`` uses ``lstsq`` when n_samples · (n_hidden + 1) ≤ this (32 MiB of float64)."""


@dataclass(frozen=True)
class RandomFeatures:
    """The fixed random map X ↦ Z = σ(X @ W1 + b) of an extreme learning machine.

    Parameters
    ----------
    layer : Dense
        The layer (n_features → n_hidden, activation σ).
    theta : ndarray of shape (layer.n_params,)
        Its parameters [W1 (row-major), b], as drawn by :func:`random_features`.
    """

    layer: Dense
    theta: np.ndarray

    @property
    def n_features(self):
        return self.layer.d_in

    @property
    def n_hidden(self):
        return self.layer.d_out

    def transform(self, X):
        """Z = σ(X @ W1 + b), the Dense forward pass (integer X becomes theta's dtype)."""
        return self.layer.forward(self.theta, X)[0]


def random_features(
    n_features,
    n_hidden,
    activation="tanh",
    *,
    scale=1.0,
    distribution="normal",
    bias=True,
    random_state=None,
    dtype=np.float64,
):
    """Draw the random first layer of an extreme learning machine.

    Parameters
    ----------
    n_features, n_hidden : int
        Input width and number of random features m.
    activation : str or Activation, default="tanh"
    scale : float, default=1.0
        Entries of W1 and b are ``scale * N(0, 1)`` ("normal") or uniform in
        [−scale, scale] ("uniform").
    distribution : {"normal", "uniform"}, default="normal"
    bias : bool, default=True
    random_state : int, Generator or None
    dtype : float32 or float64, default=float64

    Returns
    -------
    RandomFeatures
    """
    n_features, n_hidden = check_int(n_features, "n_features"), check_int(n_hidden, "n_hidden")
    if distribution not in DISTRIBUTIONS:
        raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {distribution!r}")
    scale = check_positive(scale, "scale")
    layer, rng = Dense(n_features, n_hidden, activation, bias=bias), as_rng(random_state)
    dtype = check_float_dtype(dtype)
    if distribution == "normal":
        draw = scale * rng.standard_normal(layer.n_params)
    else:
        draw = rng.uniform(-scale, scale, layer.n_params)
    return RandomFeatures(layer, draw.astype(dtype))


def _check_alpha(alpha):
    return check_non_negative(alpha, "alpha")


def _as_2d_targets(Y, n_rows):
    Y = np.asarray(Y)
    Y = Y[:, None] if Y.ndim == 1 else Y
    if Y.ndim != 2 or Y.shape[0] != n_rows:
        raise ValueError(
            f"Y must have {n_rows} rows (shape (n_samples,) or (n_samples, n_outputs)), "
            f"got shape {Y.shape}"
        )
    return check_matrix(Y, "Y")


class NormalEquations:
    """Least squares min_W (1/2n)‖[Z 1] W̃ − Y‖² + (λ/2)‖W‖² from row batches.

    Parameters
    ----------
    n_hidden, n_outputs : int
        Widths m of Z and of the targets Y.
    fit_intercept : bool, default=True
        Append the column of ones (the output bias c, never regularized).

    Notes
    -----
    Notes 000, "learning the weights" with W alone: the normal equations
    (Z̃ᵀZ̃ + nλD) W̃ = Z̃ᵀY with Z̃ = [Z 1], W̃ = [W; c] and D = diag(1, …, 1, 0).
    :meth:`update` adds Z̃ᵀZ̃ and Z̃ᵀY of one batch (float64 accumulators:
    memory O(m² + batch·m), independent of n). :meth:`solve` factors by
    Cholesky (``scipy.linalg.cho_factor``); when that fails, or when the
    factor's diagonal shows cond ≥ (max r_ii / min r_ii)² > 1/(m·eps), it
    falls back to the eigendecomposition and returns the minimum-norm
    solution, discarding eigenvalues below m·eps·max eigenvalue.
    """

    def __init__(self, n_hidden, n_outputs, *, fit_intercept=True):
        self.n_hidden, self.n_outputs = int(n_hidden), int(n_outputs)
        self.fit_intercept = bool(fit_intercept)
        m = self.n_hidden
        self._ZtZ = np.zeros((m, m), order="F")  # lower triangle of Σ ZᵀZ (BLAS syrk)
        self._ZtY, self._zsum = np.zeros((m, self.n_outputs)), np.zeros(m)
        self._ysum, self.n_samples = np.zeros(self.n_outputs), 0

    def update(self, Z, Y):
        """Add a batch of features Z (rows) and targets Y; return self."""
        Z = check_matrix(Z, "Z", self.n_hidden).astype(np.float64, copy=False)
        Y = _as_2d_targets(Y, Z.shape[0]).astype(np.float64, copy=False)
        if Y.shape[1] != self.n_outputs:
            raise ValueError(f"Y must have {self.n_outputs} columns, got {Y.shape[1]}")
        # ZᵀZ by the symmetric rank-k update: half the flops of a product, written in place
        self._ZtZ = scipy.linalg.blas.dsyrk(
            1.0, np.asfortranarray(Z.T), beta=1.0, c=self._ZtZ, lower=1, overwrite_c=1
        )
        self._ZtY += Z.T @ Y
        self._zsum += Z.sum(axis=0)
        self._ysum += Y.sum(axis=0)
        self.n_samples += Z.shape[0]
        return self

    def sums(self):
        """(ZᵀZ, ZᵀY, Σ_rows Z, Σ_rows Y, n): the sums :meth:`update` accumulated, float64 copies.

        Sums of accumulators that saw different rows (other processes) add
        up to those of one that saw them all; :meth:`from_sums` rebuilds it.
        """
        L = self._ZtZ
        return (
            np.tril(L) + np.tril(L, -1).T,
            self._ZtY.copy(),
            self._zsum.copy(),
            self._ysum.copy(),
            self.n_samples,
        )

    @classmethod
    def from_sums(cls, ZtZ, ZtY, zsum, ysum, n_samples, *, fit_intercept=True):
        """The accumulator holding these sums (as :meth:`sums` returns them, ZᵀZ symmetric)."""
        ZtY = np.asarray(ZtY, dtype=np.float64)
        new = cls(ZtY.shape[0], ZtY.shape[1], fit_intercept=fit_intercept)
        ZtZ = np.asarray(ZtZ, dtype=np.float64)
        if ZtZ.shape != (new.n_hidden, new.n_hidden):
            raise ValueError(
                f"ZtZ must have shape ({new.n_hidden}, {new.n_hidden}), got {ZtZ.shape}"
            )
        new._ZtZ = np.asfortranarray(np.tril(ZtZ))
        new._ZtY, new._zsum = ZtY.copy(), np.asarray(zsum, dtype=np.float64).reshape(new.n_hidden)
        new._ysum, new.n_samples = (
            np.asarray(ysum, dtype=np.float64).reshape(new.n_outputs),
            int(n_samples),
        )
        return new

    def normal_matrix(self, alpha=0.0):
        """(Z̃ᵀZ̃ + nλD, Z̃ᵀY): the normal-equation matrix and right-hand side, float64."""
        m, L = self.n_hidden, self._ZtZ
        G = np.tril(L) + np.tril(L, -1).T
        G[np.diag_indices(m)] += self.n_samples * _check_alpha(alpha)
        if not self.fit_intercept:
            return G, self._ZtY.copy()
        G = np.block(
            [[G, self._zsum[:, None]], [self._zsum[None, :], np.full((1, 1), self.n_samples)]]
        )
        return G, np.vstack([self._ZtY, self._ysum])

    def solve(self, alpha=0.0):
        """Return W̃ of shape (n_hidden + fit_intercept, n_outputs), float64."""
        if self.n_samples == 0:
            raise ValueError("no batches were added; call update(Z, Y) first")
        return spd_solve(*self.normal_matrix(alpha))


def choose_ls_solver(solver, n_samples, n_hidden):
    """The least-squares solver "auto" resolves to: "lstsq" if n·(m + 1) ≤ LSTSQ_MAX_ENTRIES, else "normal"."""
    if solver not in LS_SOLVERS:
        raise ValueError(f"solver must be one of {LS_SOLVERS}, got {solver!r}")
    if solver == "auto":
        return "lstsq" if n_samples * (n_hidden + 1) <= LSTSQ_MAX_ENTRIES else "normal"
    return solver


def fit_least_squares(
    features, X, Y, *, alpha=0.0, solver="auto", batch_size=10_000, fit_intercept=True
):
    """Output weights of a least-squares ELM: min (1/2n)‖Z W + c − Y‖² + (λ/2)‖W‖².

    Parameters
    ----------
    features : RandomFeatures
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    alpha : float, default=0.0
        λ (the bias c is not regularized).
    solver : {"auto", "normal", "lstsq"}, default="auto"
        "normal": :class:`NormalEquations` over row batches of ``batch_size``
        (Z is never formed whole). "lstsq": SVD least squares on the whole Z
        (squares no condition number; for small or ill-conditioned
        problems). "auto": "lstsq" when n_samples·(n_hidden + 1) ≤
        :data:`LSTSQ_MAX_ENTRIES`, else "normal".
    batch_size : int, default=10000
        Rows per batch. Only used when the solver is "normal".
    fit_intercept : bool, default=True

    Returns
    -------
    theta : ndarray of shape (n_hidden * n_outputs + fit_intercept * n_outputs,)
        Parameters of ``Dense(n_hidden, n_outputs, bias=fit_intercept)``, X's dtype.
    """
    X = check_matrix(X, "X", features.n_features)
    Y = _as_2d_targets(Y, X.shape[0])
    alpha, batch_size = _check_alpha(alpha), check_int(batch_size, "batch_size")
    if choose_ls_solver(solver, X.shape[0], features.n_hidden) == "lstsq":
        Wt = ridge_lstsq_intercept(
            features.transform(X), Y.astype(X.dtype, copy=False), alpha, fit_intercept
        )
    else:
        ne = NormalEquations(features.n_hidden, Y.shape[1], fit_intercept=fit_intercept)
        for i in range(0, X.shape[0], batch_size):
            ne.update(features.transform(X[i : i + batch_size]), Y[i : i + batch_size])
        Wt = ne.solve(alpha)
    return stack_output_weights(Wt, fit_intercept).astype(X.dtype, copy=False)


def stack_output_weights(Wt, fit_intercept):
    """Flatten W̃ = [W; c] into the theta layout of ``Dense(m, n_outputs)`` (W row-major, then c)."""
    if not fit_intercept:
        return np.ascontiguousarray(Wt).ravel()
    return np.concatenate([Wt[:-1].ravel(), Wt[-1]])


def fit_logistic(
    features, X, y, n_outputs, *, alpha=0.0, theta0=None, max_iter=100, tol=1e-6, callback=None
):
    """Multinomial logistic regression on the random features, solved by ``newton-cg``.

    Parameters
    ----------
    features : RandomFeatures
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)
        Integer labels 0 … n_outputs−1, or 0/1 when ``n_outputs == 1``.
    n_outputs : int
        1 for a binary problem (sigmoid, "binary_cross_entropy"), else the
        number of classes (softmax, "cross_entropy").
    alpha : float, default=0.0
        Weight decay λ on W (not on the bias).
    theta0 : ndarray, optional
        Start (zeros by default).
    max_iter : int, default=100
    tol : float, default=1e-6
        Gradient-norm tolerance.
    callback : callable, optional
        Passed to :func:`numnet.optim.minimize`.

    Returns
    -------
    OptimizeResult
        ``x`` holds the parameters of ``Dense(n_hidden, n_outputs)``.

    Notes
    -----
    Notes 000/003: J(W) = E(Z W + c, C) + (λ/2)‖W‖² with E the softmax
    cross-entropy; J is convex in (W, c) since Z is fixed, so Newton-CG
    converges from any start.
    """
    Z = features.transform(check_matrix(X, "X", features.n_features))
    net = Sequential([Dense(features.n_hidden, n_outputs)])
    loss = "binary_cross_entropy" if n_outputs == 1 else "cross_entropy"
    obj = Objective(net, loss, Z, y, Tikhonov(_check_alpha(alpha), mask=~net.bias_mask()))
    x0 = np.zeros(net.n_params, Z.dtype) if theta0 is None else theta0
    return minimize(obj, x0, "newton-cg", max_iter=max_iter, gtol=tol, callback=callback)


class FeatureSpectrum(NamedTuple):
    """Singular values of Z = σ(X W1 + b), its numerical rank, the tolerance and the rank bound."""

    singular_values: np.ndarray
    rank: int
    tol: float
    rank_bound: int


def identity_rank_bound(n_samples, n_features, n_hidden, bias=True):
    """rank(X W1 + 1 bᵀ) ≤ min(n_samples, n_hidden, n_features + bias) (notes 000 remark).

    With σ(x) = x the features are a linear map of X (plus the rank-one bias
    term), so random features cannot raise the rank above n_features + 1:
    the nonlinearity is what makes rank(σ(KY + b)) = n possible.
    """
    return int(min(n_samples, n_hidden, n_features + int(bool(bias))))


def feature_spectrum(features, X):
    """Singular values and numerical rank of the feature matrix Z = σ(X W1 + b).

    The numerical rank counts singular values above tol = s_max · max(n, m) · eps
    (the ``numpy.linalg.matrix_rank`` rule, eps of Z's dtype). ``rank_bound`` is
    min(n, m) in general and :func:`identity_rank_bound` for σ = identity.
    """
    Z = features.transform(X)
    s = scipy.linalg.svdvals(Z)
    tol = float(s.max(initial=0.0) * max(Z.shape) * np.finfo(Z.dtype).eps)
    layer = features.layer
    if layer.activation.name == "identity":
        bound = identity_rank_bound(Z.shape[0], layer.d_in, layer.d_out, layer.bias)
    else:
        bound = min(Z.shape)
    return FeatureSpectrum(s, int((s > tol).sum()), tol, bound)
