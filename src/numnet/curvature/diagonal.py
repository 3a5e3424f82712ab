"""The Hessian's diagonal: exact, and the Becker–LeCun approximation (note 004)."""

import numpy as np

from ._common import (
    all_dense,
    check_dense,
    diagonal_of,
    flat_layers,
    linearize,
    regularizer_diagonal,
)
from ..network import require_diag_backward
from .outer import loss_hessian_blocks

__all__ = ["hessian_diagonal", "becker_lecun_diagonal"]

_MAX_BLOCK_ENTRIES = 1 << 22  # samples × width² held at once by the exact recursion


def hessian_diagonal(obj, theta=None, method="auto"):
    """Exact diagonal of ∇²J(θ).

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    method : {"auto", "backprop", "hvp"}, default="auto"
        "backprop": the exact backward recursion of per-sample pre-activation
        Hessians, for networks of Dense layers; "hvp": p Hessian-vector
        products with unit vectors (any network); "auto": "backprop" when
        every layer is Dense, else "hvp".

    Returns
    -------
    d : ndarray of shape (p,)

    Notes
    -----
    Note 004, "Diagonal approximation", kept exact. With A = X W + b and
    E = Σ_n E_n, A_n depends on W only through W itself, so
    ∂²E/∂W_ji² = Σ_n X_nj² ∂²E_n/∂A_ni² and ∂²E/∂b_i² = Σ_n ∂²E_n/∂A_ni².
    The per-sample Hessian M_A = ∂²E_n/∂A_n² (d × d) follows backwards,
    with Z = σ(A) the next layer's input and W̃ the next layer's weights:
    M_Z = W̃ M_A' W̃ᵀ, M_A = diag(σ′(A)) M_Z diag(σ′(A)) + diag(σ″(A) ⊙ g_Z),
    g_Z = ∂E_n/∂Z = (σ′(A') ⊙ g_Z') W̃ᵀ, started at the output from the loss
    Hessian blocks ∇²_{F_n} E. Cost O(n Σ_l d_l² d_{l+1}), far below the
    O(n p²) of p Hessian-vector products. Becker–LeCun
    (:func:`becker_lecun_diagonal`) is this recursion with M kept diagonal.
    """
    lin = linearize(obj, theta)
    if method not in ("auto", "backprop", "hvp"):
        raise ValueError(f"method must be 'auto', 'backprop' or 'hvp', got {method!r}")
    layers = flat_layers(lin.objective.net, lin.cache)
    if method == "hvp" or (method == "auto" and not all_dense(layers)):
        return diagonal_of(lin.hvp, lin.objective.n_params, lin.objective.dtype)
    check_dense(layers, "hessian_diagonal(method='backprop')")
    return _backward_diagonal(lin, layers, exact=True)


def becker_lecun_diagonal(obj, theta=None):
    """Becker–LeCun O(p) approximation of diag ∇²J(θ) for any network whose layers have ``diag_backward``.

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional

    Returns
    -------
    d : ndarray of shape (p,)

    Raises
    ------
    TypeError
        If a layer has no ``diag_backward`` (the message names it).

    Notes
    -----
    Note 004, "Diagonal approximation": for a layer y = W x, ∂²E_n/∂W_ij² =
    ∂²E_n/∂y_i² x_j², with ∂²E_n/∂y_i² found backwards, neglecting the
    off-diagonal terms of the next layer's Hessian. The slide swaps f′² and
    f″; differentiating ∂E_n/∂y_i = f′(y_i) Σ_k ∂E_n/∂z_k W̃_ki once more gives
    ∂²E_n/∂y_i² ≈ f′(y_i)² Σ_k ∂²E_n/∂z_k² W̃_ki² + f″(y_i) Σ_k ∂E_n/∂z_k W̃_ki.
    In code notation (samples as rows, all samples at once, W̃ the next
    layer's (d_in, d_out) weights, h the diagonal second derivatives):
    h_Z = h_A' @ (W̃ ⊙ W̃)ᵀ,  h_A = σ′(A)² ⊙ h_Z + σ″(A) ⊙ g_Z,
    diag for W: (X ⊙ X)ᵀ @ h_A,  for b: Σ_rows h_A, started from the diagonal
    of the loss Hessian blocks. The losses are means, so h already carries 1/n.
    Exact for the last layer (hence for a single layer); elsewhere it drops
    the cross terms Σ_{k≠k'} M_{kk'} W̃_ik W̃_ik'. The regularizer's diagonal
    is added exactly. Every layer carries out its own step of this recursion
    (``diag_backward``: convolutions as Dense on the im2col matrix, pooling and
    dropout by their linear maps squared, the recurrent layer through time,
    graphs summing over consumers), so it runs on chains and graphs alike.
    """
    lin = linearize(obj, theta)
    net, blocks = lin.objective.net, loss_hessian_blocks(lin.objective.loss, lin.F, lin.objective.Y)
    require_diag_backward(net, "0")
    d = net.diag_backward(
        lin.theta, lin.cache, lin.gF, np.einsum("nkk->nk", blocks), need_hX=False
    )[0]
    return d + regularizer_diagonal(lin.objective.regularizer, lin.theta)


def _backward_diagonal(lin, layers, exact):
    """Run the backward recursion over sample chunks and add the regularizer's diagonal."""
    obj, n = lin.objective, lin.objective.n_samples
    blocks = loss_hessian_blocks(obj.loss, lin.F, obj.Y)
    d = regularizer_diagonal(obj.regularizer, lin.theta)
    width = max(max(layer.d_in, layer.d_out) for layer, _, _ in layers)
    chunk = max(1, _MAX_BLOCK_ENTRIES // width**2) if exact else n
    for start in range(0, n, chunk):
        rows = slice(start, start + chunk)
        M = blocks[rows] if exact else np.einsum("nkk->nk", blocks[rows])
        _accumulate(d, lin, layers, rows, lin.gF[rows], M, exact)
    return d


def _accumulate(d, lin, layers, rows, g, M, exact):
    """Add one sample chunk's diagonal: M is (c, k, k) when exact, its diagonal (c, k) when not."""
    for layer, s, cache in reversed(layers):
        dsigma, d2sigma = cache.dsigma[rows], cache.d2sigma[rows]
        M = _through_activation(M, dsigma, d2sigma, g, exact)
        hA = np.einsum("nii->ni", M) if exact else M
        X = cache.X[rows]
        _add_layer_diagonal(d[s], layer, X, hA)
        W = layer.unpack(lin.theta[s])["W"]
        g = (dsigma * g) @ W.T
        M = W @ M @ W.T if exact else M @ (W * W).T


def _through_activation(M, dsigma, d2sigma, g, exact):
    """M_A = diag(σ′) M_Z diag(σ′) + diag(σ″ ⊙ g_Z) (exact) or σ′² ⊙ h_Z + σ″ ⊙ g_Z (diagonal)."""
    if not exact:
        return dsigma * dsigma * M + d2sigma * g
    MA = dsigma[:, :, None] * M * dsigma[:, None, :]
    idx = np.arange(MA.shape[1])
    MA[:, idx, idx] += d2sigma * g
    return MA


def _add_layer_diagonal(d, layer, X, hA):
    """diag for W: (X ⊙ X)ᵀ h_A; for b: Σ_rows h_A."""
    n_W = layer.d_in * layer.d_out
    d[:n_W] += ((X * X).T @ hA).ravel()
    if layer.bias:
        d[n_W:] += hA.sum(axis=0)
