"""Generalized Gauss–Newton matrices M = Σ_n J_nᵀ B_n J_n from output factors: products, dense, diagonal.

``B_n`` comes as :class:`~numnet.curvature.factors.OutputFactors`
(B_n = c Σ_r u_rn u_rnᵀ). With u = U[r]: M v = c Σ_r Jᵀ (u ⊙ ⟨u, J v⟩_rows),
one ``jvp`` and one ``vjp`` of one linearization; and since J_nᵀ u_rn is
row n of the per-sample backward pass of the cotangents U[r]
(:func:`~numnet.curvature.per_sample.per_sample_vjp`),
M = c Σ_r R_rᵀ R_r and diag M = c Σ_r Σ_n R_r[n]², one backward pass per
factor set r.
"""

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._validation import check_direction, check_int
from ._common import linearize, regularizer_diagonal
from ._leaves import KRONECKER_LAYERS, has_bias, leaves, pre_activation
from .factors import curvature_factors
from .per_sample import _CHUNK_BYTES, _chunk, _rows

__all__ = ["factor_operator", "factor_matrix", "factor_diagonal", "ggn_diagonal"]


def factor_operator(lin, factors):
    """M = c Σ_r Σ_n J_nᵀ u_rn u_rnᵀ J_n as a ``LinearOperator`` (one jvp and one vjp per product).

    Parameters
    ----------
    lin : Linearization
        ``obj.at(theta)``; its forward pass is reused by every product.
    factors : OutputFactors

    Returns
    -------
    scipy.sparse.linalg.LinearOperator of shape (p, p), symmetric
    """
    net, theta, cache = lin.objective.net, lin.theta, lin.cache
    U, c = factors.U, lin.F.dtype.type(factors.scale)
    p, dtype = lin.objective.n_params, lin.objective.dtype

    def mv(v):
        v = check_direction(np.asarray(v).reshape(-1), (p,), dtype, "v")
        dF = net.jvp(theta, cache, v, None)
        weights = np.einsum("rnk,nk->rn", U, dF)
        return net.vjp(theta, cache, c * np.einsum("rn,rnk->nk", weights, U), need_gX=False)[0]

    return LinearOperator((p, p), matvec=mv, rmatvec=mv, dtype=dtype)


def _chunks(lin, factors, chunk_size):
    """``(R_r for every r)`` per sample chunk: the per-sample backward passes of each factor set."""
    obj, n = lin.objective, lin.objective.n_samples
    chunk = _chunk(chunk_size, n, obj.n_params * len(factors.U), obj.dtype)
    for start in range(0, n, chunk):
        rows = slice(start, min(n, start + chunk))
        part = lin if chunk >= n else obj.batch(rows).at(lin.theta)
        yield [
            _rows(obj.net, lin.theta, part.cache, np.ascontiguousarray(U[rows])) for U in factors.U
        ]


def factor_matrix(lin, factors, *, chunk_size=None):
    """The dense (p, p) matrix M = c Σ_r R_rᵀ R_r, R_r[n] = J_nᵀ u_rn (one backward pass per r and chunk)."""
    p, dtype = lin.objective.n_params, lin.objective.dtype
    M = np.zeros((p, p), dtype=dtype)
    for Rs in _chunks(lin, factors, chunk_size):
        for R in Rs:
            M += R.T @ R
    return M * dtype.type(factors.scale)


def factor_diagonal(lin, factors, *, chunk_size=None):
    """diag M = c Σ_r Σ_n R_r[n] ⊙ R_r[n] (one backward pass per r and chunk, never M itself).

    On networks whose layers with parameters are all Dense, Residual or
    convolutions, each with a slice of its own, the rows R_r are never
    formed: a Dense layer's part is Σ_r Σ_n (x_n ⊗ g_rn)^⊙2 =
    (X ⊙ X)ᵀ (Σ_r gA_r ⊙ gA_r), one matrix product per layer for all r; a
    convolution's is Σ_n (Σ_p cols_npᵀ g_rnp)^⊙2, batched over sample chunks.
    Other networks take the rows of :func:`~numnet.curvature.per_sample.per_sample_vjp`.
    """
    p, dtype = lin.objective.n_params, lin.objective.dtype
    d = np.zeros(p, dtype=dtype)
    if _kronecker_only(lin):
        n = lin.objective.n_samples
        chunk = n if chunk_size is None else check_int(chunk_size, "chunk_size")
        for start in range(0, n, chunk):
            rows = slice(start, min(n, start + chunk))
            part = lin if chunk >= n else lin.objective.batch(rows).at(lin.theta)
            _add_leaf_squares(d, part, [np.ascontiguousarray(U[rows]) for U in factors.U])
    else:
        for Rs in _chunks(lin, factors, chunk_size):
            for R in Rs:
                d += np.einsum("np,np->p", R, R)
    return d * dtype.type(factors.scale)


def _kronecker_only(lin):
    """Whether every leaf with parameters is Dense, Residual or a convolution, none sharing a slice."""
    found = leaves(lin.objective.net, lin.theta, lin.cache)
    slices = {(leaf.params.start, leaf.params.stop) for leaf in found}
    return len(slices) == len(found) and all(
        isinstance(leaf.layer, KRONECKER_LAYERS) for leaf in found
    )


def _add_leaf_squares(d, lin, Us):
    """d += Σ_r Σ_n R_r[n]^⊙2 leaf by leaf from the pre-activation rows and cotangents (no per-sample rows)."""
    net, theta, cache, n = lin.objective.net, lin.theta, lin.cache, lin.F.shape[0]
    dense = {}  # leaf index -> [leaf, rows, Σ_r gA_r ⊙ gA_r]
    for U in Us:
        for i, leaf in enumerate(leaves(net, theta, cache, U)):
            rows, gA = pre_activation(leaf)
            if rows.shape[0] != n:
                _add_conv_squares(d[leaf.params], rows, gA, n, has_bias(leaf))
            elif i in dense:
                dense[i][2] += gA * gA
            else:
                dense[i] = [leaf, rows, gA * gA]
    for leaf, rows, H in dense.values():
        view, n_W = d[leaf.params], rows.shape[1] * H.shape[1]
        view[:n_W] += ((rows * rows).T @ H).ravel()
        if has_bias(leaf):
            view[n_W:] += H.sum(axis=0)


def _add_conv_squares(view, rows, gA, n, bias):
    """Σ_n Γ_n^⊙2 with Γ_n = Σ_p cols_npᵀ g_np (batched over sample chunks of bounded memory), bias Σ_n (Σ_p g_np)²."""
    a, g = rows.shape[1], gA.shape[1]
    R3, G3 = rows.reshape(n, -1, a), gA.reshape(n, -1, g)
    step = max(1, _CHUNK_BYTES // (a * g * gA.itemsize))
    for s in range(0, n, step):
        Gamma = np.matmul(R3[s : s + step].transpose(0, 2, 1), G3[s : s + step])
        view[: a * g] += np.einsum("nag,nag->ag", Gamma, Gamma).ravel()
    if bias:
        gb = G3.sum(axis=1)
        view[a * g :] += np.einsum("ng,ng->g", gb, gb)


def ggn_diagonal(
    obj, theta=None, *, kind="type-2", mc_samples=1, seed=0, targets=None, chunk_size=None
):
    """Diagonal of the Gauss–Newton matrix (exact, "type-2") or of its Monte-Carlo / empirical stand-ins.

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    kind : {"type-2", "mc", "empirical"}, default="type-2"
        B_n the exact loss Hessian (diag of ``lin.G``; BackPACK's
        ``DiagGGNExact``), Monte-Carlo sampled targets (``DiagGGNMC``), or
        the observed gradients (the empirical Fisher's diagonal).
    mc_samples, seed, targets
        For kind="mc" (see :func:`~numnet.curvature.factors.mc_factors`).
    chunk_size : int, optional
        Samples per backward pass; memory O(chunk_size · p).

    Returns
    -------
    d : ndarray of shape (p,)
        Σ_n Σ_r c (J_nᵀ u_rn)² + λ diag ∇²R(θ) (the regularizer's diagonal, as in ``lin.G``).

    Notes
    -----
    Note 004's diagonal approximation, for G = Σ_n J_nᵀ ∇²_{F_n}E J_n
    instead of H: with ∇²ℓ_n = Σ_r u_rn u_rnᵀ (k factors, the square root of
    each sample's loss Hessian), diag G = (1/n) Σ_r Σ_n (J_nᵀ u_rn)², each set
    r one backward pass kept per sample: k backward passes in all, exact,
    where the Becker–LeCun recursion drops cross terms.
    """
    lin = linearize(obj, theta)
    factors = curvature_factors(lin, kind, mc_samples=mc_samples, seed=seed, targets=targets)
    return factor_diagonal(lin, factors, chunk_size=chunk_size) + regularizer_diagonal(
        lin.objective.regularizer, lin.theta
    )
