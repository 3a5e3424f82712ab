"""Spectrum of the Hessian or Gauss–Newton operator: extreme eigenvalues, trace, condition."""

from typing import NamedTuple

import numpy as np
from scipy.sparse.linalg import LinearOperator, eigsh

from .._validation import as_rng
from ._common import linearize

__all__ = ["extreme_eigenvalues", "hutchinson_trace", "condition_estimate", "TraceEstimate"]

OPERATORS = ("hessian", "gauss_newton")
WHICH = ("LA", "SA", "BE", "LM")


def _operator(lin, operator, shift=0.0):
    """lin.H or lin.G (plus shift·I) as a LinearOperator."""
    if operator not in OPERATORS:
        raise ValueError(f"operator must be one of {OPERATORS}, got {operator!r}")
    op = lin.H if operator == "hessian" else lin.G
    if not np.isfinite(shift):
        raise ValueError(f"shift must be finite, got {shift!r}")
    if shift == 0:
        return op

    def mv(v):
        return op.matvec(v) + shift * np.asarray(v).reshape(op.shape[1])

    return LinearOperator(op.shape, matvec=mv, rmatvec=mv, dtype=op.dtype)


def _v0(p, dtype, seed):
    return as_rng(seed).standard_normal(p).astype(dtype)


def extreme_eigenvalues(obj, theta=None, k=6, which="LA", operator="hessian", *,
                        shift=0.0, seed=0, tol=0.0, return_eigenvectors=False):
    """k extreme eigenvalues of ∇²J(θ) or of the Gauss–Newton matrix, by Lanczos (ARPACK).

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    k : int, default=6
        Number of eigenvalues, 1 ≤ k < p.
    which : {"LA", "SA", "BE", "LM"}, default="LA"
        Largest algebraic, smallest algebraic, both ends (half each), or
        largest magnitude (``scipy.sparse.linalg.eigsh``).
    operator : {"hessian", "gauss_newton"}, default="hessian"
        ``lin.H`` (Hessian-vector products) or ``lin.G`` (Gauss–Newton products).
    shift : float, default=0.0
        Use the operator + shift·I.
    seed : int, default=0
        Seed of the starting vector v0, so results are deterministic.
    tol : float, default=0.0
        eigsh's relative tolerance (0: machine precision).
    return_eigenvectors : bool, default=False

    Returns
    -------
    w : ndarray of shape (k,), ascending
    V : ndarray of shape (p, k), only when ``return_eigenvectors``

    Notes
    -----
    Note 004, "Fast multiplication by the Hessian": the Hessian is never
    formed; Lanczos needs only products H v (one linearization, one
    R-operator pass each). Extreme eigenvalues converge first, so a few dozen
    products usually suffice.
    """
    lin = linearize(obj, theta)
    p = lin.objective.n_params
    if not isinstance(k, (int, np.integer)) or not 1 <= k < p:
        raise ValueError(f"k must be an integer with 1 <= k < n_params={p}, got {k!r}")
    if which not in WHICH:
        raise ValueError(f"which must be one of {WHICH}, got {which!r}")
    op = _operator(lin, operator, shift)
    out = eigsh(op, k=int(k), which=which, v0=_v0(p, op.dtype, seed), tol=tol,
                return_eigenvectors=return_eigenvectors)
    if not return_eigenvectors:
        return np.sort(out)
    order = np.argsort(out[0])
    return out[0][order], out[1][:, order]


class TraceEstimate(NamedTuple):
    """Hutchinson estimate of a trace, its standard error and the number of probes."""

    estimate: float
    stderr: float
    n_probes: int


def hutchinson_trace(obj, theta=None, n_probes=100, seed=0, operator="hessian"):
    """Hutchinson's stochastic estimate of tr ∇²J(θ) (or of the Gauss–Newton trace).

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    n_probes : int, default=100
        Number of Rademacher probes, at least 2.
    seed : int, default=0
    operator : {"hessian", "gauss_newton"}, default="hessian"

    Returns
    -------
    TraceEstimate
        ``estimate`` = mean of zᵀ H z over probes z with independent ±1
        entries (E[zzᵀ] = I, so E[zᵀHz] = tr H), ``stderr`` = sample standard
        deviation / √n_probes.

    Notes
    -----
    Each probe is one product with one linearization (note 004, R-operator):
    tr H in O(n_probes) gradients' cost, never forming H. The variance of a
    Rademacher probe is 2 Σ_{i≠j} H_ij², so the estimate is exact for a
    diagonal H.
    """
    lin = linearize(obj, theta)
    if not isinstance(n_probes, (int, np.integer)) or n_probes < 2:
        raise ValueError(f"n_probes must be an integer >= 2, got {n_probes!r}")
    op, rng = _operator(lin, operator), as_rng(seed)
    p = lin.objective.n_params
    samples = np.empty(n_probes)
    for i in range(n_probes):
        z = rng.choice(np.array([-1.0, 1.0], dtype=op.dtype), size=p)
        samples[i] = float(z @ op.matvec(z))
    return TraceEstimate(float(samples.mean()), float(samples.std(ddof=1) / np.sqrt(n_probes)), int(n_probes))


def condition_estimate(obj, theta=None, operator="gauss_newton", *, shift=0.0, seed=0, tol=0.0):
    """Condition number λ_max/λ_min of a symmetric positive definite curvature operator.

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    operator : {"hessian", "gauss_newton"}, default="gauss_newton"
    shift : float, default=0.0
        Estimate the condition of operator + shift·I (e.g. GN + λI without
        rebuilding the objective with a Tikhonov regularizer).
    seed, tol
        As in :func:`extreme_eigenvalues`.

    Returns
    -------
    float
        λ_max / λ_min, the 2-norm condition number of an SPD operator.

    Raises
    ------
    ValueError
        If the smallest eigenvalue is not positive (the operator is not
        SPD at θ; the Hessian away from a minimum rarely is).

    Notes
    -----
    Both ends of the spectrum come from one Lanczos run (``eigsh`` with
    which="BE", k=2). For an SPD matrix the extreme eigenvalues are the
    extreme magnitudes, so the ratio equals ``np.linalg.cond``. The
    Gauss–Newton matrix is only positive semi-definite; add a Tikhonov
    regularizer or a ``shift`` to make it definite.
    """
    lin = linearize(obj, theta)
    if lin.objective.n_params < 3:
        raise ValueError("condition_estimate needs at least 3 parameters (eigsh with k=2)")
    lo, hi = extreme_eigenvalues(lin, k=2, which="BE", operator=operator, shift=shift, seed=seed, tol=tol)
    if lo <= 0:
        raise ValueError(f"the {operator} operator (+ shift {shift}) is not positive definite at theta: "
                         f"smallest eigenvalue {lo:.3e}; add a Tikhonov regularizer or a shift")
    return float(hi / lo)
