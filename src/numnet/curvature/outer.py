"""Outer-product (Levenberg–Marquardt / Gauss–Newton) Hessian approximations (note 004)."""

import numpy as np

from .._validation import check_matrix, check_theta
from ..layers import Dense, Residual
from ..losses import BinaryCrossEntropy
from ._common import flat_layers, linearize, regularizer_matrix

__all__ = [
    "per_sample_output_gradients",
    "output_jacobians",
    "has_fast_jacobian",
    "loss_hessian_blocks",
    "outer_product_factor",
    "outer_product_hessian",
    "outer_product_hessian_logistic",
]


def per_sample_output_gradients(net, theta, X):
    """Per-sample output Jacobians J[n, k, :] = ∇_θ F_nk, shape (n_samples, n_outputs, p).

    Parameters
    ----------
    net : layer or network
        Any network (chains and graphs of any layers).
    theta : ndarray of shape (p,)
    X : ndarray of shape (n_samples, net.d_in)

    Returns
    -------
    J : ndarray of shape (n_samples, net.d_out, p)

    Notes
    -----
    For chains of Dense and Residual layers: backpropagation of the unit cotangents e_k of every output k at once,
    without summing over samples. For a Dense layer A = X W + b, Z = σ(A),
    carrying G[k, n, :] = ∂F_nk/∂Z_n: G_A = σ′(A) ⊙ G, then per sample
    ∂F_nk/∂W = X_nᵀ G_A[k, n] (an outer product, ``einsum('nj,kni->nkji')``),
    ∂F_nk/∂b = G_A[k, n], and G ← G_A Wᵀ. A Residual Z = X + h D(X) passes
    h G through its Dense part and adds G to the input cotangent. Memory
    O(n k p). Any other network: column j is the tangent pass J e_j
    (p ``jvp`` products, each one forward-mode pass over the whole network).
    """
    theta = check_theta(theta, net.n_params)
    X = check_matrix(X, "X", net.d_in, dtype=theta.dtype)
    return _jacobians(net, theta, net.forward(theta, X)[1])


def output_jacobians(lin):
    """:func:`per_sample_output_gradients` at a linearization, reusing its forward pass.

    ``lin`` is ``obj.at(theta)`` (or any object with its ``objective``,
    ``theta`` and ``cache``); returns J of shape (n_samples, n_outputs, p)
    for the objective's network, θ and X.
    """
    return _jacobians(lin.objective.net, lin.theta, lin.cache)


def has_fast_jacobian(net):
    """Whether the per-sample Jacobians of ``net`` come from one backward pass of unit cotangents.

    True for chains (nested or not) of Dense and Residual layers; any other
    network makes p tangent passes (see :func:`per_sample_output_gradients`).
    """
    if hasattr(net, "layers"):
        return all(has_fast_jacobian(layer) for layer in net.layers)
    return isinstance(net, (Dense, Residual))


def _jacobians(net, theta, cache):
    layers = flat_layers(net, cache)
    if not all(isinstance(layer, (Dense, Residual)) for layer, _, _ in layers):
        return _jacobians_by_tangents(net, theta, cache)
    n, k = layers[-1][2].X.shape[0], net.d_out
    J = np.empty((n, k, net.n_params), dtype=theta.dtype)
    G = np.broadcast_to(np.eye(k, dtype=theta.dtype)[:, None, :], (k, n, k))
    for i, (layer, s, c) in reversed(list(enumerate(layers))):
        G = _layer_jacobian(i, layer, theta[s], c, G, J[:, :, s])
    return J


def _jacobians_by_tangents(net, theta, cache):
    """J[:, :, j] = J e_j, one tangent pass per parameter."""
    p = net.n_params
    e = np.zeros(p, dtype=theta.dtype)
    columns = []
    for j in range(p):
        e[j] = 1
        columns.append(net.jvp(theta, cache, e, None))
        e[j] = 0
    return np.stack(columns, axis=-1)


def _layer_jacobian(i, layer, theta, cache, G, out):
    """Write one layer's per-sample parameter Jacobians into ``out``; return the input cotangents."""
    if isinstance(layer, Residual):
        return G + _dense_jacobian(layer.inner, theta, cache, layer.step * G, out)
    return _dense_jacobian(layer, theta, cache, G, out)


def _dense_jacobian(layer, theta, cache, G, out):
    GA = cache.dsigma * G
    n, k = out.shape[:2]
    n_W = layer.d_in * layer.d_out
    out[:, :, :n_W] = np.einsum("nj,kni->nkji", cache.X, GA).reshape(n, k, n_W)
    if layer.bias:
        out[:, :, n_W:] = GA.transpose(1, 0, 2)
    return GA @ layer.unpack(theta)["W"].T


def loss_hessian_blocks(loss, F, Y):
    """Per-sample output Hessians B[n] = ∇²_{F_n} E, shape (n_samples, n_outputs, n_outputs).

    The loss Hessian is block diagonal over samples, so one ``loss.hvp``
    with the direction e_c in every row gives column c of every block:
    n_outputs calls of an O(n k) function. The losses are means, so each
    block carries the factor 1/n (least squares: B[n] = I/n).
    """
    n, k = F.shape
    B = np.empty((n, k, k), dtype=F.dtype)
    for c in range(k):
        dF = np.zeros_like(F)
        dF[:, c] = 1
        B[:, :, c] = loss.hvp(F, Y, dF)
    return B


def outer_product_factor(obj, theta=None):
    """Rows R with Rᵀ R = Σ_n J_nᵀ ∇²_{F_n}E J_n, the data part of the Gauss–Newton matrix.

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional

    Returns
    -------
    R : ndarray of shape (n_samples · n_outputs, p)
        For least squares, R = [J_n / √n] (the notes' ∇y_n scaled for the
        mean loss); in general R_n = Λ_n^(1/2) Q_nᵀ J_n from the eigen-
        decomposition ∇²_{F_n}E = Q_n Λ_n Q_nᵀ (positive semi-definite for
        every loss in :mod:`numnet.losses`; rounding negatives are clipped).
        The input of :func:`~numnet.curvature.inverse_outer_product`.
    """
    lin = linearize(obj, theta)
    J = _jacobians(lin.objective.net, lin.theta, lin.cache)
    lam, Q = np.linalg.eigh(loss_hessian_blocks(lin.objective.loss, lin.F, lin.objective.Y))
    R = np.sqrt(np.maximum(lam, 0))[:, :, None] * (Q.transpose(0, 2, 1) @ J)
    return R.reshape(-1, J.shape[2])


def outer_product_hessian(obj, theta=None):
    """Outer-product (Levenberg–Marquardt) approximation, i.e. the Gauss–Newton matrix.

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional

    Returns
    -------
    G : ndarray of shape (p, p)
        Σ_n J_nᵀ ∇²_{F_n}E J_n + λ∇²R(θ), equal to the matrix of ``lin.gnvp``.

    Notes
    -----
    Note 004, "outer product approximation": for E = ½ Σ_n (y_n − t_n)²,
    ∇²E = Σ_n ∇y_n ∇y_nᵀ + Σ_n (y_n − t_n) ∇²y_n ≈ Σ_n ∇y_n ∇y_nᵀ. Our losses
    are means and outputs vectors, so for least squares this is
    (1/n) Σ_n J_nᵀ J_n with J_n = ∂F_n/∂θ (k × p), built from
    :func:`per_sample_output_gradients`; for a general loss the second
    term dropped is Σ_n Σ_k ∂E/∂F_nk ∇²F_nk, and the kept term
    Σ_n J_nᵀ ∇²_{F_n}E J_n = Rᵀ R (:func:`outer_product_factor`) is the
    Gauss–Newton matrix. The regularizer's Hessian is added exactly.
    """
    lin = linearize(obj, theta)
    R = outer_product_factor(lin)
    return R.T @ R + regularizer_matrix(lin.objective.regularizer, lin.theta)


def outer_product_hessian_logistic(obj, theta=None):
    """Outer-product Hessian of cross-entropy with a logistic-sigmoid output (note 004).

    Parameters
    ----------
    obj : Objective or Linearization
        With loss :class:`~numnet.losses.BinaryCrossEntropy` and a network
        with one output (the logit a).
    theta : ndarray of shape (p,), optional

    Returns
    -------
    G : ndarray of shape (p, p)
        (1/n) Σ_n y_n (1 − y_n) ∇a_n ∇a_nᵀ + λ∇²R(θ), y_n = σ(a_n).

    Notes
    -----
    Note 004: E = −Σ_n {t_n ln y_n + (1 − t_n) ln(1 − y_n)}, y_n = σ(a_n),
    ∇E = Σ_n (y_n − t_n) ∇a_n, ∇²E = Σ_n y_n(1 − y_n) ∇a_n ∇a_nᵀ + (y_n − t_n) ∇²a_n
    ≈ Σ_n y_n(1 − y_n) ∇a_n ∇a_nᵀ; divided by n as our loss is a mean. Here
    a_n = F_n (the logits) and ∇a_n = J[n, 0] from
    :func:`per_sample_output_gradients`.
    """
    lin = linearize(obj, theta)
    obj = lin.objective
    if not isinstance(obj.loss, BinaryCrossEntropy):
        raise TypeError(
            f"obj.loss must be BinaryCrossEntropy for the logistic form, got {obj.loss!r}"
        )
    if obj.net.d_out != 1:
        raise ValueError(
            f"the logistic form needs a network with 1 output, got net.d_out={obj.net.d_out}"
        )
    grad_a = _jacobians(obj.net, lin.theta, lin.cache)[:, 0, :]
    y = obj.loss.link(lin.F)[:, 0]
    weighted = grad_a * (y * (1 - y) / obj.n_samples)[:, None]
    return weighted.T @ grad_a + regularizer_matrix(obj.regularizer, lin.theta)
