"""Per-sample gradients and their moments, from the layer caches in one backward pass.

BackPACK's "extra quantities": the mean loss J = (1/n) Σ_n ℓ_n hides the
individual gradients ∇ℓ_n, yet every backward pass computes them on the way
and sums them only at the last step (gW = Xᵀ gA sums the outer products
X_nᵀ gA_n over rows). Keeping the rows apart gives all n gradients for the
cost of one backward pass, not n.
"""

from typing import NamedTuple

import numpy as np

from .._validation import check_int
from ..layers import Conv2d, Dense, Residual
from ._common import linearize
from ._leaves import leaves, pre_activation

__all__ = [
    "per_sample_gradients",
    "iter_per_sample_gradients",
    "per_sample_vjp",
    "gradient_moments",
    "GradientMoments",
]

_CHUNK_BYTES = 1 << 26  # 64 MB of per-sample gradients per chunk by default


def per_sample_vjp(obj, theta=None, *, cotangents):
    """Rows J_nᵀ u_n: the backward pass of one cotangent per sample, kept per sample.

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    cotangents : ndarray of shape (n_samples, n_outputs)
        u_n, one row per sample.

    Returns
    -------
    R : ndarray of shape (n_samples, p)
        R[n] = J_nᵀ u_n with J_n = ∂F_n/∂θ; Σ_n R[n] = Jᵀ u = ``net.vjp(u)``.

    Notes
    -----
    One backward pass gives the cotangent gZ at every layer's output. For a
    Dense layer A = X W + b with gA = σ′(A) ⊙ gZ, row n of the gradient is
    vec(X_nᵀ gA_n) for W and gA_n for b (the sum over rows that ``vjp`` takes
    is left out). A convolution is a Dense layer on the im2col rows, shared
    over its P output pixels: row n is Σ_p cols_npᵀ gA_np (one batched matrix
    product), and Σ_p gA_np for b. Any other layer with parameters (e.g.
    :class:`~numnet.layers.Recurrent`) is handled by a generic fallback: its
    forward pass and ``vjp`` are re-run on each sample's input row (its cache
    must hold the input as ``X``), n small products for that layer only.
    """
    lin = linearize(obj, theta)
    n, k = lin.F.shape
    U = np.asarray(cotangents)
    if U.shape != (n, k):
        raise ValueError(
            f"cotangents must have shape ({n}, {k}) (n_samples, n_outputs), got {U.shape}"
        )
    return _rows(lin.objective.net, lin.theta, lin.cache, U.astype(lin.F.dtype, copy=False))


def _rows(net, theta, cache, U, out=None):
    """(n, p) rows J_nᵀ U_n from one backward pass (see :func:`per_sample_vjp`), written into ``out`` if given.

    Each leaf writes its rows straight into its columns of the result; a leaf
    sharing another's slice adds to them.
    """
    found, n = leaves(net, theta, cache, U), U.shape[0]
    spans = {
        (leaf.params.start, leaf.params.stop) for leaf in found
    }  # slices are unhashable before 3.12
    covered = sum(stop - start for start, stop in spans) == net.n_params
    if out is None:
        out = (np.empty if covered else np.zeros)((n, net.n_params), dtype=U.dtype)
    elif not covered:
        out[...] = 0
    written = set()
    for leaf in found:
        view, span = out[:, leaf.params], (leaf.params.start, leaf.params.stop)
        if span in written:
            view += _leaf_rows(leaf, n, theta, np.empty(view.shape, dtype=view.dtype))
        else:
            _leaf_rows(leaf, n, theta, view)
        written.add(span)
    return out


def _leaf_rows(leaf, n, theta, out):
    """Write the per-sample rows of one leaf into ``out`` (n, its parameters); return ``out``."""
    if isinstance(leaf.layer, (Dense, Conv2d, Residual)):
        return _kronecker_rows(leaf, n, out)
    out[...] = _fallback_rows(leaf, theta[leaf.params])
    return out


def _kronecker_rows(leaf, n, out):
    """Per-sample gradient rows of a Dense, Residual or convolution leaf, into ``out`` (n, its parameters).

    Dense (one row per sample): the outer products x_n g_nᵀ, written in one
    pass; a convolution: Σ_p cols_npᵀ g_np, one batched matrix product.
    """
    rows, gA = pre_activation(leaf)
    P = rows.shape[0] // n
    R3, G3 = rows.reshape(n, P, -1), gA.reshape(n, P, -1)
    a, g = R3.shape[2], G3.shape[2]
    W = np.reshape(out[:, : a * g], (n, a, g), copy=False)  # a view: the writes land in ``out``
    if P == 1:
        np.einsum("na,ng->nag", rows, gA, out=W)
    else:
        np.matmul(R3.transpose(0, 2, 1), G3, out=W)
    if out.shape[1] > a * g:
        np.sum(G3, axis=1, out=out[:, a * g :])
    return out


def _fallback_rows(leaf, theta):
    """Per-sample rows of any other layer: forward and ``vjp`` again on each sample's row."""
    layer, X = leaf.layer, getattr(leaf.cache, "X", None)
    if X is None:
        raise TypeError(
            f"layer {leaf.name} ({layer!r}) keeps no input X in its cache; "
            "per-sample gradients need it for layers other than Dense and convolutions"
        )
    X = X.reshape(leaf.gZ.shape[0], -1)
    out = np.empty((X.shape[0], layer.n_params), dtype=leaf.gZ.dtype)
    for i in range(X.shape[0]):
        c = layer.forward(theta, X[i : i + 1])[1]
        out[i] = layer.vjp(theta, c, leaf.gZ[i : i + 1], need_gX=False)[0]
    return out


def _chunk(chunk_size, n, p, dtype):
    if chunk_size is None:
        return max(1, _CHUNK_BYTES // max(1, p * np.dtype(dtype).itemsize))
    return check_int(chunk_size, "chunk_size")


def iter_per_sample_gradients(obj, theta=None, *, chunk_size=None):
    """Per-sample loss gradients ∇ℓ_n chunk by chunk, so memory stays bounded.

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    chunk_size : int, optional
        Samples per chunk; default as many as fit in 64 MB of gradients.

    Yields
    ------
    rows : slice
        The samples of the chunk.
    G : ndarray of shape (rows, p)
        G[i] = ∇_θ ℓ_n(θ) for sample n = rows.start + i, the gradient of that
        sample's loss term (so the mean of all rows is the loss gradient; the
        regularizer, not a per-sample term, is left out).

    Notes
    -----
    Each chunk is one forward pass (unless a Linearization covers all
    samples in one chunk: its pass is reused) and one backward pass through
    :func:`per_sample_vjp` with the cotangents u_n = ∇_{F_n} ℓ_n = m · gF_n
    (gF, of the mean over the chunk's m samples, carries 1/m). A
    :class:`~numnet.layers.Dropout` layer draws its mask for the shape of the
    batch it sees, so with Dropout each chunk has its own mask; a chunk of
    all samples (``chunk_size`` ≥ n) keeps the mask of the full objective.
    """
    for rows, part in _parts(linearize(obj, theta), chunk_size):
        yield rows, _loss_rows(part)


def _parts(lin, chunk_size):
    """``(rows, linearization of those rows)`` per chunk; one chunk of all rows reuses ``lin``."""
    obj, n = lin.objective, lin.objective.n_samples
    chunk = _chunk(chunk_size, n, obj.n_params, obj.dtype)
    if chunk >= n:
        yield slice(0, n), lin
        return
    for start in range(0, n, chunk):
        rows = slice(start, min(n, start + chunk))
        yield rows, obj.batch(rows).at(lin.theta)


def _loss_rows(lin, out=None):
    U = lin.gF * lin.gF.dtype.type(lin.gF.shape[0])
    return _rows(lin.objective.net, lin.theta, lin.cache, U, out)


def per_sample_gradients(obj, theta=None, *, chunk_size=None):
    """All per-sample loss gradients as one (n_samples, p) array (see :func:`iter_per_sample_gradients`).

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    chunk_size : int, optional
        Samples per backward pass; by default all of them: the rows are
        written straight into the result and the forward pass of
        ``obj.at(theta)`` is reused, so a pass over all samples needs no
        memory beyond its cotangents (smaller chunks run their own forward
        passes).

    Returns
    -------
    G : ndarray of shape (n_samples, p)
        G[n] = ∇_θ ℓ_n; ``G.mean(axis=0)`` is the gradient of the mean loss.
    """
    lin = linearize(obj, theta)
    G = np.empty((lin.objective.n_samples, lin.objective.n_params), dtype=lin.objective.dtype)
    for rows, part in _parts(lin, lin.objective.n_samples if chunk_size is None else chunk_size):
        _loss_rows(part, out=G[rows])
    return G


class GradientMoments(NamedTuple):
    """Moments of the per-sample gradients g_n = ∇ℓ_n over the n samples."""

    mean: np.ndarray
    second_moment: np.ndarray
    variance: np.ndarray
    norms: np.ndarray


def gradient_moments(obj, theta=None, *, chunk_size=None):
    """Mean, second moment, variance and norms of the per-sample gradients, chunk by chunk.

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    chunk_size : int, optional
        As in :func:`iter_per_sample_gradients`; memory O(chunk_size · p).

    Returns
    -------
    GradientMoments
        ``mean`` (p,) = (1/n) Σ_n g_n (the loss gradient);
        ``second_moment`` (p,) = (1/n) Σ_n g_n ⊙ g_n;
        ``variance`` (p,) = second_moment − mean ⊙ mean (over the samples,
        divisor n), clipped at 0 against rounding;
        ``norms`` (n,) = ‖g_n‖₂.

    Notes
    -----
    BackPACK's extensions compute these for the loss as it is reduced: with
    a mean loss its rows are g_n / n, so its ``SumGradSquared`` is
    second_moment / n, its ``Variance`` is variance / n² and its
    ``BatchL2Grad`` is norms² / n².
    """
    lin = linearize(obj, theta)
    n, p, dtype = lin.objective.n_samples, lin.objective.n_params, lin.objective.dtype
    total, squares, norms = np.zeros(p, dtype), np.zeros(p, dtype), np.empty(n, dtype)
    for rows, G in iter_per_sample_gradients(lin, chunk_size=chunk_size):
        total += G.sum(axis=0)
        squares += np.einsum("np,np->p", G, G)
        norms[rows] = np.linalg.norm(G, axis=1)
    mean, second = total / dtype.type(n), squares / dtype.type(n)
    return GradientMoments(mean, second, np.maximum(second - mean * mean, 0), norms)
