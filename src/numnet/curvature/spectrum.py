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


def _default_ncv(p, dtype, budget=1 << 27):
    """Lanczos vectors fitting in ``budget`` bytes, clipped to [20, 128] and to p."""
    fit = budget // (p * np.dtype(dtype).itemsize)
    return int(min(p, max(20, min(128, fit))))


def _v0(p, dtype, seed):
    return as_rng(seed).standard_normal(p).astype(dtype)


def extreme_eigenvalues(
    obj,
    theta=None,
    k=6,
    which="LA",
    operator="hessian",
    *,
    shift=0.0,
    seed=0,
    tol=0.0,
    ncv=None,
    maxiter=None,
    return_eigenvectors=False,
):
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
    ncv, maxiter : int, optional
        eigsh's number of Lanczos vectors (memory ncv · p; default
        min(p, max(2k + 1, 20))) and restart limit (default 10 p).
    return_eigenvectors : bool, default=False

    Returns
    -------
    w : ndarray of shape (k,), ascending
    V : ndarray of shape (p, k), only when ``return_eigenvectors``

    Raises
    ------
    scipy.sparse.linalg.ArpackNoConvergence
        When Lanczos does not converge: eigenvalues in a tight cluster (e.g.
        the zero eigenvalues of the Gauss–Newton matrix of softmax
        cross-entropy, whose output-bias shift is a symmetry) converge
        slowly; raise ``ncv`` or ``maxiter`` or loosen ``tol``.

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
    out = eigsh(
        op,
        k=int(k),
        which=which,
        v0=_v0(p, op.dtype, seed),
        tol=tol,
        ncv=ncv,
        maxiter=maxiter,
        return_eigenvectors=return_eigenvectors,
    )
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
    return TraceEstimate(
        float(samples.mean()), float(samples.std(ddof=1) / np.sqrt(n_probes)), int(n_probes)
    )


def condition_estimate(
    obj, theta=None, operator="gauss_newton", *, shift=0.0, seed=0, tol=1e-8, ncv=None, maxiter=None
):
    """Condition number λ_max/λ_min of a symmetric positive definite curvature operator.

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    operator : {"hessian", "gauss_newton"}, default="gauss_newton"
    shift : float, default=0.0
        Estimate the condition of operator + shift·I (e.g. GN + λI without
        rebuilding the objective with a Tikhonov regularizer).
    seed, maxiter
        As in :func:`extreme_eigenvalues`.
    ncv : int, optional
        Lanczos vectors; default as many as fit in 128 MB, between 20 and
        128, at most p (so a small problem gets an exact Krylov space).
    tol : float, default=1e-8
        eigsh's relative tolerance for both ends; the ratio is accurate to
        about ``tol`` (an eigenvalue lies within ‖r‖ ≤ tol·|λ| of each Ritz
        value).

    Returns
    -------
    float
        λ_max / λ_min, the 2-norm condition number of an SPD operator.

    Raises
    ------
    ValueError
        If the smallest eigenvalue is not positive (the operator is not
        SPD at θ; the Hessian away from a minimum rarely is).
    scipy.sparse.linalg.ArpackNoConvergence
        As in :func:`extreme_eigenvalues`.

    Notes
    -----
    Two Lanczos runs (``eigsh``, which="LA" and which="SA", k=1). For an SPD
    matrix the extreme eigenvalues are the extreme magnitudes, so the ratio
    equals ``np.linalg.cond``. The Gauss–Newton matrix is only positive
    semi-definite; add a Tikhonov regularizer or a ``shift`` to make it
    definite. The largest eigenvalue converges in a few dozen products; the
    smallest of an ill-conditioned operator, with the rest of the spectrum
    close to it relative to λ_max, can take thousands: a larger ``ncv``
    (up to p, which makes Lanczos exact in about p products) helps most.
    """
    lin = linearize(obj, theta)
    if ncv is None:
        ncv = _default_ncv(lin.objective.n_params, lin.objective.dtype)
    opts = {
        "k": 1,
        "operator": operator,
        "shift": shift,
        "seed": seed,
        "tol": tol,
        "ncv": ncv,
        "maxiter": maxiter,
    }
    hi = extreme_eigenvalues(lin, which="LA", **opts)[0]
    lo = extreme_eigenvalues(lin, which="SA", **opts)[0]
    if lo <= 0:
        raise ValueError(
            f"the {operator} operator (+ shift {shift}) is not positive definite at theta: "
            f"smallest eigenvalue {lo:.3e}; add a Tikhonov regularizer or a shift"
        )
    return float(hi / lo)
