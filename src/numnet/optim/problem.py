"""What optimizers see: an objective with counted evaluations.

:class:`Problem` wraps an :class:`~numnet.Objective` (or any object with the
same methods) and counts function, gradient and Hessian-vector evaluations
for the result. :class:`FunctionObjective` turns plain functions (Rosenbrock,
a quadratic) into such an object, so every method also runs on classic test
problems.
"""

import numpy as np
from scipy.sparse.linalg import LinearOperator

__all__ = ["Problem", "FunctionObjective"]


class _FunctionLinearization:
    """A :class:`FunctionObjective` at θ: value and gradient once, products by its functions."""

    def __init__(self, obj, theta):
        self.objective, self.theta = obj, theta
        self.value, self.grad = obj.value_and_grad(theta)

    def hvp(self, v):
        return self.objective.hvp(self.theta, v)

    def gnvp(self, v):
        return self.objective.gnvp(self.theta, v)

    @property
    def H(self):
        return _operator(self.hvp, self.theta)

    @property
    def G(self):
        return _operator(self.gnvp, self.theta)


class FunctionObjective:
    """An objective from functions: ``fun(x)``, ``grad(x)``, optional ``hvp(x, v)``.

    Parameters
    ----------
    fun, grad : callable
    hvp : callable, optional
        Exact Hessian-vector product; needed by Newton-type methods.
    residual, jac : callable, optional
        For least-squares problems f = ½‖r(x)‖²: ``jac(x)`` (dense Jacobian
        of r) gives the Gauss-Newton product JᵀJ v and the dense solvers'
        Gauss-Newton matrix; without it, ``gnvp`` falls back to ``hvp``.
        ``residual(x)`` is read by geodesic acceleration
        (``levenberg-marquardt`` with ``geodesic=True``), which needs r
        itself; without it that option leaves the steps unchanged.
    """

    def __init__(self, fun, grad, hvp=None, *, residual=None, jac=None):
        self.fun, self._grad, self._hvp = fun, grad, hvp
        self.residual, self.jac = residual, jac
        self.n_samples = 1

    def value(self, x):
        return float(self.fun(x))

    def grad(self, x):
        return np.asarray(self._grad(x), dtype=x.dtype)

    def value_and_grad(self, x):
        return self.value(x), self.grad(x)

    def hvp(self, x, v):
        if self._hvp is None:
            raise TypeError(
                "this FunctionObjective has no hvp; pass hvp= to use second-order methods"
            )
        return np.asarray(self._hvp(x, v), dtype=x.dtype)

    def gnvp(self, x, v):
        if self.jac is None:
            return self.hvp(x, v)
        J = self.jac(x)
        return J.T @ (J @ v)

    def at(self, x):
        return _FunctionLinearization(self, x)


class Counts:
    """Evaluation counters shared by a problem and its mini-batches."""

    def __init__(self):
        self.nfev = self.ngev = self.nhvp = 0


class _CountedLinearization:
    """A linearization whose gradient and products are counted in a :class:`Counts`.

    It satisfies :class:`~numnet.objective.Linearization` (``theta``,
    ``value``, ``grad``, ``hvp``, ``gnvp``, ``H``, ``G``) and passes on, uncounted,
    what the curvature tools and dense solvers read of a network
    linearization: ``objective``, ``F``, ``gF`` and ``cache`` (of an
    :class:`~numnet.Objective`'s linearization; a
    :class:`FunctionObjective`'s has ``objective`` only).
    """

    def __init__(self, counts, lin, count_grad=True):
        self._counts, self._lin, self._count_grad = counts, lin, count_grad
        self.theta, self.value, self.objective = lin.theta, lin.value, lin.objective
        self._grad = None

    @property
    def grad(self):
        if self._grad is None:
            self._counts.ngev += self._count_grad
            self._grad = self._lin.grad
        return self._grad

    def hvp(self, v):
        self._counts.nhvp += 1
        return self._lin.hvp(v)

    def gnvp(self, v):
        self._counts.nhvp += 1
        return self._lin.gnvp(v)

    @property
    def H(self):
        """∇²J(θ) as a LinearOperator; each product is counted."""
        return _operator(self.hvp, self.theta)

    @property
    def G(self):
        """The Gauss-Newton matrix as a LinearOperator; each product is counted."""
        return _operator(self.gnvp, self.theta)

    @property
    def F(self):
        """The network output at θ (not counted: the forward pass was)."""
        return self._lin.F

    @property
    def gF(self):
        """∇_F E at θ."""
        return self._lin.gF

    @property
    def cache(self):
        """The forward pass's per-layer caches."""
        return self._lin.cache


def _operator(product, theta):
    n = theta.size
    return LinearOperator(
        (n, n),
        matvec=lambda v: product(np.ravel(v)),
        rmatvec=lambda v: product(np.ravel(v)),
        dtype=theta.dtype,
    )


class Problem:
    """An objective whose evaluations are counted in ``counts`` (nfev, ngev, nhvp).

    Mini-batches from :meth:`batch` share the counters of their parent.
    """

    def __init__(self, objective, counts=None):
        self.objective = objective
        self.counts = Counts() if counts is None else counts

    @property
    def n_samples(self):
        return self.objective.n_samples

    def value(self, x):
        self.counts.nfev += 1
        return self.objective.value(x)

    def grad(self, x):
        """∇J(x): one forward and one backward pass, counted as a function and a gradient evaluation."""
        return self.value_and_grad(x)[1]

    def value_and_grad(self, x):
        self.counts.nfev += 1
        self.counts.ngev += 1
        return self.objective.value_and_grad(x)

    def at(self, x):
        """Linearize at x (one forward pass); ``grad``, ``hvp``, ``gnvp`` are counted."""
        self.counts.nfev += 1
        return _CountedLinearization(self.counts, self.objective.at(x))

    def restore(self, x):
        """The linearization at x, a point evaluated before a checkpoint: value and gradient not counted again.

        A resumed run rebuilds the linearization its method kept at the last
        iterate; the counters then equal those of the uninterrupted run
        (products with it are counted as usual).
        """
        return _CountedLinearization(self.counts, self.objective.at(x), count_grad=False)

    def batch(self, rows, key=None):
        """The objective on a subset of samples, counted into the same totals (``key``: dropout mask key)."""
        obj = self.objective.batch(rows) if key is None else self.objective.batch(rows, key=key)
        return Problem(obj, self.counts)
