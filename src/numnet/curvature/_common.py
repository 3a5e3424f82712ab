"""Helpers shared by the curvature tools: linearize, walk the layers, regularizer curvature."""

import numpy as np

from ..layers import Dense
from ..objective import Objective
from ..regularizers import Tikhonov

__all__ = [
    "linearize",
    "objective_and_theta",
    "flat_layers",
    "all_dense",
    "check_dense",
    "unit",
    "matrix_of",
    "diagonal_of",
    "regularizer_diagonal",
    "regularizer_matrix",
]


def linearize(obj, theta):
    """``obj.at(theta)`` for an objective, or ``obj`` itself when it is already a linearization (theta None).

    An objective is an :class:`~numnet.Objective` or a wrapper of one with
    the same ``at``, ``value`` and ``grad`` and the Objective as
    ``obj.objective`` (an optimizer's :class:`~numnet.optim.problem.Problem`,
    which counts the evaluations). A linearization is one of an Objective
    (:class:`~numnet.objective.NetworkLinearization`) or a wrapper of one with
    its ``objective``, ``theta``, ``F``, ``cache`` (``problem.at(theta)``).
    """
    if _is_objective(obj):
        return obj.at(theta)
    if isinstance(getattr(obj, "objective", None), Objective) and hasattr(obj, "theta"):
        if theta is not None:
            raise ValueError(
                "theta must be None when obj is a Linearization (it already fixes theta)"
            )
        return obj
    raise TypeError(f"obj must be an Objective or a Linearization, got {type(obj).__name__}")


def _is_objective(obj):
    return isinstance(obj, Objective) or (
        isinstance(getattr(obj, "objective", None), Objective) and hasattr(obj, "at")
    )


def objective_and_theta(obj, theta):
    """``(objective, theta)`` from an objective and θ (the objective as given), or from a Linearization alone."""
    lin = linearize(obj, theta)
    return (obj if _is_objective(obj) else lin.objective), lin.theta


def flat_layers(net, cache, offset=0):
    """List of ``(layer, slice of theta, layer cache)``, nested Sequentials flattened, input to output."""
    if not hasattr(net, "layers"):
        return [(net, slice(offset, offset + net.n_params), cache)]
    out = []
    for layer, s, c in zip(net.layers, net.slices, cache):
        out.extend(flat_layers(layer, c, offset + s.start))
    return out


def all_dense(layers):
    """Whether every ``(layer, slice, cache)`` of :func:`flat_layers` is a :class:`Dense` layer."""
    return all(isinstance(layer, Dense) for layer, _, _ in layers)


def check_dense(layers, what):
    """Raise TypeError naming the first layer that is not a :class:`Dense` layer."""
    for i, (layer, _, _) in enumerate(layers):
        if not isinstance(layer, Dense):
            raise TypeError(f"{what} needs a network of Dense layers; layer {i} is {layer!r}")


def unit(n, j, dtype):
    """The j-th unit vector of length n."""
    e = np.zeros(n, dtype=dtype)
    e[j] = 1
    return e


def matrix_of(matvec, p, dtype):
    """The dense (p, p) matrix of a linear map, column j = ``matvec(e_j)`` (p products)."""
    M = np.empty((p, p), dtype=dtype)
    for j in range(p):
        M[:, j] = matvec(unit(p, j, dtype))
    return M


def diagonal_of(matvec, p, dtype):
    """The diagonal of a linear map, d_j = ``matvec(e_j)[j]`` (p products)."""
    return np.array([matvec(unit(p, j, dtype))[j] for j in range(p)], dtype=dtype)


def regularizer_diagonal(reg, theta):
    """diag(λ∇²R(θ)): λ·mask for Tikhonov, else from ``reg.hvp`` with unit vectors."""
    p, dtype = theta.shape[0], theta.dtype
    if reg is None:
        return np.zeros(p, dtype=dtype)
    if isinstance(reg, Tikhonov):
        return reg.hvp(theta, np.ones(p, dtype=dtype)).astype(dtype, copy=False)
    return diagonal_of(lambda v: reg.hvp(theta, v), p, dtype)


def regularizer_matrix(reg, theta):
    """The dense p × p matrix λ∇²R(θ) (zeros when there is no regularizer)."""
    p, dtype = theta.shape[0], theta.dtype
    if reg is None or isinstance(reg, Tikhonov):
        return np.diag(regularizer_diagonal(reg, theta))
    return matrix_of(lambda v: reg.hvp(theta, v), p, dtype)
