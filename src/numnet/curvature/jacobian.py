"""Jacobians as operators: J = ∂F/∂θ and Jᵀ over a data set, and the Hessian with respect to the inputs.

J maps a parameter direction to the output directions of every sample,
(n_samples · n_outputs) × p, rows sample-major (F.ravel()); Jᵀ maps output
cotangents back. Neither is formed: a product is one ``jvp`` (J v) or one
``vjp`` (Jᵀ u) of the network at a fixed forward pass.
"""

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._validation import check_direction, check_matrix, check_theta
from ..objective import NetworkLinearization, Objective
from ._common import linearize

__all__ = ["jacobian_operator", "transposed_jacobian_operator", "input_hessian"]


def _network_pass(obj, theta, X):
    """``(net, theta, cache, n)`` from an Objective/Linearization (X None) or a network with θ and X."""
    if isinstance(obj, (Objective, NetworkLinearization)):
        if X is not None:
            raise ValueError(
                "X must be None when obj is an Objective or Linearization (it has its own X)"
            )
        lin = linearize(obj, theta)
        return lin.objective.net, lin.theta, lin.cache, lin.F.shape[0]
    if not all(hasattr(obj, a) for a in ("forward", "jvp", "vjp", "n_params")):
        raise TypeError(
            f"obj must be an Objective, a Linearization or a network, got {type(obj).__name__}"
        )
    if theta is None or X is None:
        raise ValueError("theta and X are required when obj is a network")
    theta = check_theta(theta, obj.n_params)
    X = check_matrix(X, "X", obj.d_in, dtype=theta.dtype)
    return obj, theta, obj.forward(theta, X)[1], X.shape[0]


def jacobian_operator(obj, theta=None, X=None):
    """J = ∂F/∂θ of the network output over all samples, as a ``LinearOperator``.

    Parameters
    ----------
    obj : Objective, Linearization or network
        With an Objective (and θ) or a Linearization the data are its X;
        with a network, pass ``theta`` and ``X``.
    theta : ndarray of shape (p,), optional
    X : ndarray of shape (n_samples, d_in), optional

    Returns
    -------
    scipy.sparse.linalg.LinearOperator of shape (n_samples · d_out, p)
        ``J @ v`` = jvp(v).ravel() (notes 000: J v), ``J.T @ u`` =
        vjp(u.reshape(n, d_out)) (Jᵀ u); the forward pass is run once.
        curvlinops: ``JacobianLinearOperator``.
    """
    net, theta, cache, n = _network_pass(obj, theta, X)
    k, p, dtype = net.d_out, net.n_params, theta.dtype

    def mv(v):
        v = check_direction(np.asarray(v).reshape(-1), (p,), dtype, "v")
        return net.jvp(theta, cache, v, None).reshape(-1)

    def rmv(u):
        u = check_direction(np.asarray(u).reshape(-1), (n * k,), dtype, "u")
        return net.vjp(theta, cache, u.reshape(n, k), need_gX=False)[0]

    return LinearOperator((n * k, p), matvec=mv, rmatvec=rmv, dtype=dtype)


def transposed_jacobian_operator(obj, theta=None, X=None):
    """Jᵀ, shape (p, n_samples · d_out): ``Jᵀ @ u`` is one ``vjp``.

    curvlinops: ``TransposedJacobianLinearOperator``.
    """
    return jacobian_operator(obj, theta, X).T


def input_hessian(obj, theta=None, *, dense=False):
    """The Hessian of J(θ; X) with respect to the inputs X, an (n·d_in) × (n·d_in) operator.

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    dense : bool, default=False
        Return the n diagonal blocks ∇²_{X_n} J, shape (n, d_in, d_in), instead.

    Returns
    -------
    LinearOperator of shape (n·d_in, n·d_in), or ndarray of shape (n, d_in, d_in)

    Notes
    -----
    Note 004's R-operator along an input direction dX instead of a parameter
    direction: the tangent pass gives dF = J_X dX, the loss gives
    dgF = ∇²E dF, and the R-backward pass returns R{gX} = ∇²_X J dX (the
    curvature of the loss and of every layer along the way), in two passes.
    Sample n's loss term depends on row n of X only, so the matrix is block
    diagonal; the d_in products with e_j in every row at once give all n
    blocks (the adversarial-examples view of note 000: how the loss curves
    around each input).
    """
    lin = linearize(obj, theta)
    obj = lin.objective
    n, d = obj.X.shape

    def product(dX):
        dF, tcache = obj.net.tangent(lin.theta, lin.cache, None, dX)
        dgF = obj.loss.hvp(lin.F, obj.Y, dF)
        return obj.net.rop(
            lin.theta, lin.cache, None, dX, lin.gF, dgF, tcache=tcache, need_gX=True
        )[1]

    if not isinstance(dense, bool):
        raise TypeError(f"dense must be True or False, got {dense!r}")
    if dense:
        blocks = np.empty((n, d, d), dtype=obj.dtype)
        for j in range(d):
            dX = np.zeros((n, d), dtype=obj.dtype)
            dX[:, j] = 1
            blocks[:, :, j] = product(dX)
        return blocks

    def mv(v):
        dX = check_direction(np.asarray(v).reshape(-1), (n * d,), obj.dtype, "v").reshape(n, d)
        return product(dX).reshape(-1)

    return LinearOperator((n * d, n * d), matvec=mv, rmatvec=mv, dtype=obj.dtype)
