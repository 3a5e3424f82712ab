"""Dense Hessians: exact from Hessian-vector products, and by finite differences (note 004)."""

import numpy as np

from .._validation import check_positive
from ._common import linearize, matrix_of, objective_and_theta, unit

__all__ = ["hessian_dense", "hessian_fd_values", "hessian_fd_grads", "default_fd_step"]


def hessian_dense(obj, theta=None):
    """The exact Hessian ∇²J(θ) as a dense (p, p) array, column by column.

    Parameters
    ----------
    obj : Objective or Linearization
        The objective (then ``theta`` is required) or a linearization
        ``obj.at(theta)`` (then ``theta`` is None).
    theta : ndarray of shape (p,), optional

    Returns
    -------
    H : ndarray of shape (p, p), dtype of the objective
        Returned as computed (not symmetrized), so its symmetry is a check
        of the R-operator.

    Notes
    -----
    Note 004, "Exact evaluation of the Hessian" and "Fast multiplication by
    the Hessian": column j is H e_j = R{∇J} along v = e_j (Pearlmutter's
    R-operator), so ``H[:, j] = lin.hvp(e_j)`` with one linearization
    ``lin = obj.at(theta)`` (one forward pass) and p products, each about
    the cost of two gradients: O(p · n · p) in all, versus O(p³ n) for the
    finite-difference values formula.
    """
    lin = linearize(obj, theta)
    return matrix_of(lin.hvp, lin.objective.n_params, lin.objective.dtype)


def default_fd_step(theta, order):
    """Default finite-difference step: ε_mach^(1/order) · max(1, max|θ|).

    ``order=4`` for :func:`hessian_fd_values` (truncation O(ε²) against
    rounding O(ε_mach/ε²) balance at ε ≈ ε_mach^(1/4): 1.2e-4 in float64,
    1.9e-2 in float32); ``order=3`` for :func:`hessian_fd_grads` (O(ε²)
    against O(ε_mach/ε): ε ≈ ε_mach^(1/3), 6.1e-6 and 4.9e-3).
    """
    scale = max(1.0, float(np.max(np.abs(theta)))) if theta.size else 1.0
    return float(np.finfo(theta.dtype).eps) ** (1.0 / order) * scale


def _step(eps, theta, order):
    if eps is None:
        return default_fd_step(theta, order)
    return check_positive(eps, "eps")


def _four_point(value, theta, i, j, eps):
    """{E(+ε_i, +ε_j) − E(+ε_i, −ε_j) − E(−ε_i, +ε_j) + E(−ε_i, −ε_j)} / (4ε²)."""
    total = 0.0
    for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
        w = theta.copy()
        w[i] += si * eps
        w[j] += sj * eps
        total += si * sj * value(w)
    return total / (4 * eps * eps)


def hessian_fd_values(obj, theta=None, eps=None):
    """Hessian by the four-point finite-difference formula on values (note 004).

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    eps : float, optional
        The step ε; default ``default_fd_step(theta, 4)`` = ε_mach^(1/4) · max(1, max|θ|).

    Returns
    -------
    H : ndarray of shape (p, p), symmetric by construction

    Notes
    -----
    Note 004, "Finite difference method":
    ∂²E/∂w_i∂w_j = {E(w_i+ε, w_j+ε) − E(w_i+ε, w_j−ε) − E(w_i−ε, w_j+ε)
    + E(w_i−ε, w_j−ε)} / (4ε²) + O(ε²). The p(p+1)/2 entries i ≤ j each take
    four evaluations of J, each O(p): O(p³) in all. For i = j the formula
    is the central second difference with step 2ε. Only for tiny networks.
    """
    obj, theta = objective_and_theta(obj, theta)
    eps, p = _step(eps, theta, 4), theta.shape[0]
    H = np.empty((p, p), dtype=theta.dtype)
    for i in range(p):
        for j in range(i, p):
            H[i, j] = H[j, i] = _four_point(obj.value, theta, i, j, eps)
    return H


def hessian_fd_grads(obj, theta=None, eps=None):
    """Hessian by central differences of gradients, symmetrized (note 004).

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    eps : float, optional
        The step ε; default ``default_fd_step(theta, 3)`` = ε_mach^(1/3) · max(1, max|θ|).

    Returns
    -------
    H : ndarray of shape (p, p)
        ½(H̃ + H̃ᵀ) with H̃[:, j] = (∇J(θ + ε e_j) − ∇J(θ − ε e_j)) / (2ε).

    Notes
    -----
    Note 004: ∂²E/∂w_i∂w_j = {∂E/∂w_i(w_j + ε) − ∂E/∂w_i(w_j − ε)} / (2ε) + O(ε²).
    2p gradients of cost O(p) each: O(p²).
    """
    obj, theta = objective_and_theta(obj, theta)
    eps, p = _step(eps, theta, 3), theta.shape[0]
    H = np.empty((p, p), dtype=theta.dtype)
    for j in range(p):
        e = unit(p, j, theta.dtype) * theta.dtype.type(eps)
        H[:, j] = (obj.grad(theta + e) - obj.grad(theta - e)) / (2 * eps)
    return 0.5 * (H + H.T)
