"""Randomized trace and diagonal estimators from matrix-vector products: Hutchinson, Hutch++, XTrace, XDiag.

Each takes a square operator (an ndarray, a ``LinearOperator`` such as
``lin.H`` or ``lin.G``, or any object with ``shape`` and ``@`` such as a
:class:`~numnet.curvature.KroneckerOperator`), a budget ``n_matvecs`` of
products, a ``seed``, and returns the estimate with its standard error
(the spread of the independent or exchangeable estimates it averages).
For a Hessian, :func:`~numnet.curvature.hutchinson_trace` is the shortcut
from an objective and θ.
"""

from typing import NamedTuple

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._validation import as_rng, check_int
from .spectrum import TraceEstimate

__all__ = [
    "hutchinson",
    "hutchpp",
    "xtrace",
    "diagonal_hutchinson",
    "xdiag",
    "DiagonalEstimate",
    "DISTRIBUTIONS",
]

DISTRIBUTIONS = ("rademacher", "normal")


class DiagonalEstimate(NamedTuple):
    """An estimate of diag(A), its per-entry standard error and the number of products spent."""

    estimate: np.ndarray
    stderr: np.ndarray
    n_matvecs: int


def _matmat(A):
    """``(f, p, dtype)`` with f(V) = A V for V of shape (p, m)."""
    shape = getattr(A, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != shape[1]:
        raise ValueError(f"A must be a square matrix or operator, got shape {shape}")
    if isinstance(A, LinearOperator):
        return A.matmat, shape[0], np.dtype(A.dtype)
    if isinstance(A, np.ndarray):
        return A.__matmul__, shape[0], A.dtype if A.dtype.kind == "f" else np.dtype(np.float64)
    if hasattr(A, "__matmul__"):
        return A.__matmul__, shape[0], np.dtype(getattr(A, "dtype", np.float64))
    raise TypeError(f"A must be an ndarray, a LinearOperator or have @, got {type(A).__name__}")


def _probes(rng, p, m, dtype, distribution):
    if distribution == "rademacher":
        return rng.choice(np.array([-1.0, 1.0], dtype=dtype), size=(p, m))
    if distribution == "normal":
        return rng.standard_normal((p, m)).astype(dtype)
    raise ValueError(f"distribution must be one of {DISTRIBUTIONS}, got {distribution!r}")


def _budget(n_matvecs, minimum, p, per_vector=None):
    """``n_matvecs`` checked: at least ``minimum``, and a sketch of m/per_vector columns at most p wide."""
    m = check_int(n_matvecs, "n_matvecs", minimum)
    if per_vector is not None and m // per_vector > p:
        raise ValueError(
            f"n_matvecs={m} sketches more than p = {p} columns; "
            f"use at most {per_vector * p} (or compute exactly from p products)"
        )
    return m


def _stderr(samples):
    return float(samples.std(ddof=1) / np.sqrt(samples.size)) if samples.size > 1 else float("nan")


def hutchinson(A, n_matvecs=100, *, seed=0, distribution="rademacher"):
    """Hutchinson's trace estimate, the mean of zᵀ A z over ``n_matvecs`` random probes.

    Returns
    -------
    TraceEstimate
        ``estimate`` unbiased (E[zzᵀ] = I), ``stderr`` = sample std / √m. With
        Rademacher probes Var zᵀAz = 2 Σ_{i≠j} A_ij², so the error falls like
        ‖A‖_F / √m.
    """
    f, p, dtype = _matmat(A)
    m = _budget(n_matvecs, 1, p)
    Z = _probes(as_rng(seed), p, m, dtype, distribution)
    samples = np.einsum("pm,pm->m", Z, f(Z)).astype(np.float64)
    return TraceEstimate(float(samples.mean()), _stderr(samples), m)


def hutchpp(A, n_matvecs=99, *, seed=0, distribution="rademacher"):
    """Hutch++ (Meyer, Musco, Musco & Woodruff 2021): exact trace on a sketched range, Hutchinson on the rest.

    Returns
    -------
    TraceEstimate
        tr(QᵀAQ) + Hutchinson on (I − QQᵀ) A (I − QQᵀ), Q an orthonormal basis
        of A S for m/3 probes S; ``stderr`` from the Hutchinson part.

    Notes
    -----
    A third of the budget sketches the range (A S), a third computes A Q, a
    third (n_matvecs − 2⌊m/3⌋) probes the deflated remainder. For a positive
    semi-definite A the error is O(tr(A)/m) where Hutchinson's is
    O(tr(A)/√m): the top eigenvalues, which dominate the variance, are
    captured exactly.
    """
    f, p, dtype = _matmat(A)
    m = _budget(n_matvecs, 3, p, 3)
    rng, k = as_rng(seed), m // 3
    Q = np.linalg.qr(f(_probes(rng, p, k, dtype, distribution)))[0]
    G = _probes(rng, p, m - 2 * k, dtype, distribution)
    G -= Q @ (Q.T @ G)
    samples = np.einsum("pm,pm->m", G, f(G)).astype(np.float64)
    exact = float(np.einsum("pk,pk->", Q, f(Q)))
    return TraceEstimate(exact + float(samples.mean()), _stderr(samples), m)


def _exchange(f, p, m, dtype, rng, distribution):
    """The shared start of XTrace/XDiag: W, Y = A W, Q, Z = A Q and the leave-one-out vectors s_i."""
    s = m // 2
    W = _probes(rng, p, s, dtype, distribution)
    Y = f(W)
    Q, R = np.linalg.qr(Y)
    Z = f(Q)
    S = np.linalg.inv(R).T  # column i ⊥ the columns of R other than i
    S /= np.linalg.norm(S, axis=0)
    return W, Y, Q, Z, S


def _deflate(C, S):
    """Column i of C times (I − s_i s_iᵀ): the i-th leave-one-out projection in Q's coordinates."""
    return C - S * np.einsum("ki,ki->i", S, C)


def xtrace(A, n_matvecs=100, *, seed=0, distribution="rademacher"):
    """XTrace (Epperly, Tropp & Webber 2024): Hutch++ with every probe used both ways.

    Returns
    -------
    TraceEstimate
        The mean of the s = m/2 exchangeable estimates
        t_i = tr(Q_iᵀ A Q_i) + ω_iᵀ P_i A P_i ω_i, and their standard error
        std(t_i)/√s (the method's own error estimate).

    Notes
    -----
    Q_i is an orthonormal basis of A ω_j for all probes j ≠ i, P_i = I − Q_iQ_iᵀ,
    so each t_i is a Hutch++ estimate whose sketch does not use its own probe
    (unbiased). One QR of Y = A W gives them all: with s_i the unit vector
    orthogonal to the columns of R but the i-th (s_i ∝ R⁻ᵀ e_i),
    Q_iQ_iᵀ = Q (I − s_i s_iᵀ) Qᵀ. m products in all: A W and A Q.
    """
    f, p, dtype = _matmat(A)
    m = _budget(n_matvecs, 4, p, 2)
    W, Y, Q, Z, S = _exchange(f, p, m, dtype, as_rng(seed), distribution)
    QZ = Q.T @ Z
    C = _deflate(Q.T @ W, S)  # column i: (I − s_i s_iᵀ) Qᵀ ω_i, so Q_iQ_iᵀ ω_i = Q C[:, i]
    Pw, APw = W - Q @ C, Y - Z @ C
    PAPw = APw - Q @ _deflate(Q.T @ APw, S)
    t = np.trace(QZ) - np.einsum("ki,ki->i", S, QZ @ S) + np.einsum("pi,pi->i", Pw, PAPw)
    t = t.astype(np.float64)
    return TraceEstimate(float(t.mean()), _stderr(t), 2 * W.shape[1])


def diagonal_hutchinson(A, n_matvecs=100, *, seed=0, distribution="rademacher"):
    """Hutchinson's diagonal estimate, the mean of z ⊙ (A z) (divided by z ⊙ z for normal probes).

    Returns
    -------
    DiagonalEstimate
        Unbiased; with Rademacher probes entry i has variance Σ_{j≠i} A_ij² / m
        (exact for a diagonal A).
    """
    f, p, dtype = _matmat(A)
    m = _budget(n_matvecs, 1, p)
    Z = _probes(as_rng(seed), p, m, dtype, distribution)
    samples = Z * f(Z) / (Z * Z)
    return DiagonalEstimate(samples.mean(axis=1), _row_stderr(samples), m)


def _row_stderr(samples):
    if samples.shape[1] < 2:
        return np.full(samples.shape[0], np.nan)
    return samples.std(axis=1, ddof=1) / np.sqrt(samples.shape[1])


def xdiag(A, n_matvecs=100, *, seed=0, distribution="rademacher"):
    """XDiag (Epperly, Tropp & Webber 2024): the exchangeable diagonal estimate (A symmetric).

    Returns
    -------
    DiagonalEstimate
        The mean of d_i = diag(Q_iQ_iᵀ A) + ω_i ⊙ (P_i A ω_i) / ω_i², i = 1 … m/2,
        and their per-entry standard error.

    Notes
    -----
    As :func:`xtrace`: the sketch captures the dominant part of A exactly
    (diag(Q_iQ_iᵀA) uses Qᵀ A = (A Q)ᵀ, hence symmetry), Hutchinson's
    diagonal estimator covers the remainder P_i A with the probe left out of
    Q_i, so each d_i is unbiased.
    """
    f, p, dtype = _matmat(A)
    m = _budget(n_matvecs, 4, p, 2)
    W, Y, Q, Z, S = _exchange(f, p, m, dtype, as_rng(seed), distribution)
    rest = Y - Q @ _deflate(Q.T @ Y, S)  # column i: P_i A ω_i
    d = (np.einsum("pk,pk->p", Q, Z)[:, None] - (Q @ S) * (Z @ S)) + W * rest / (W * W)
    return DiagonalEstimate(d.mean(axis=1), _row_stderr(d), 2 * W.shape[1])
