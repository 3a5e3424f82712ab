"""The training objective J(θ) = E(net(θ, X), Y) + λR(θ) with exact second-order products."""

from contextlib import contextmanager
from functools import cached_property
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from ._validation import check_direction, check_matrix, check_theta
from .layers.dropout import with_dropout_key
from .losses import get_loss
from .regularizers import get_regularizer
from .workspace import WorkspacePool

if TYPE_CHECKING:  # scipy.sparse.linalg costs 0.28 s of `import numnet`: loaded on first use
    from scipy.sparse.linalg import LinearOperator

__all__ = ["Objective", "Linearization", "NetworkLinearization"]


@runtime_checkable
class Linearization(Protocol):
    """What every linearization J at a fixed θ offers: the point, J(θ), ∇J(θ) and curvature products.

    ``obj.at(theta)`` returns one for an :class:`Objective`
    (:class:`NetworkLinearization`), a
    :class:`~numnet.optim.problem.FunctionObjective`, a
    :class:`~numnet.optim.problem.Problem` (products counted) and a
    :class:`~numnet.distributed.DistributedObjective`. Optimizers and the
    curvature tools rely on these members only, plus ``objective``, ``F``,
    ``gF`` and ``cache`` where they need the network's forward pass (a
    :class:`NetworkLinearization` and a counted one of it).

    Two Gauss-Newton linearizations implement the subset ``theta``, ``value``,
    ``grad`` and ``gnvp``: the dense one of the Gauss-Newton and
    Levenberg-Marquardt methods (:class:`~numnet.optim.dense.DenseLinearization`)
    and the reduced one of variable projection.

    Attributes
    ----------
    theta : ndarray of shape (p,)
    value : float
        J(θ).
    grad : ndarray of shape (p,)
        ∇J(θ), computed on first use.
    H, G : scipy.sparse.linalg.LinearOperator
        ∇²J(θ) and the Gauss-Newton matrix, products by ``hvp`` and ``gnvp``.
    """

    theta: np.ndarray
    value: float

    @property
    def grad(self) -> np.ndarray: ...

    def hvp(self, v) -> np.ndarray:
        """∇²J(θ) v."""

    def gnvp(self, v) -> np.ndarray:
        """The Gauss-Newton product (Jᵀ ∇²E J + λ∇²R) v."""

    @property
    def H(self) -> "LinearOperator": ...

    @property
    def G(self) -> "LinearOperator": ...


class Objective:
    """J(θ) = E(F(θ, X), Y) + λR(θ), a mean over samples; pure (never mutates itself).

    Parameters
    ----------
    net : Sequential or layer
        The network F(θ, X).
    loss : str or Loss
        See :mod:`numnet.losses`.
    X : array of shape (n_samples, net.d_in)
        Inputs (the notes' Y). Its float dtype (float32 or float64) is the
        dtype of the whole computation; integer input becomes float64.
    Y : array
        Targets (the notes' C), validated by ``loss.targets``.
    regularizer : None, float or regularizer, default=None
        A float λ means ``Tikhonov(λ)``.

    Notes
    -----
    Notes 000: ∇_K E = J_Kᵀ ∇_Z E by backpropagation through the layer vjps.
    Note 004: the exact Hessian-vector product is Pearlmutter's R-operator
    (one tangent pass, one R-backward pass); the Gauss-Newton product is
    Jᵀ ∇²E J v, composed from the same ``jvp`` and ``vjp`` (never a second
    formula). ``at(θ)`` linearizes once and keeps the forward pass.

    The objective keeps two small pools of workspaces
    (:class:`~numnet.workspace.WorkspacePool`): each linearization — and so
    each ``value``, ``grad``, ``hvp`` and ``gnvp`` — borrows one for its
    activations and cotangents, and each Hessian or Gauss-Newton product
    one more for its tangents and R-cotangents, so that repeated products
    allocate nothing large and pay no page faults for fresh memory (for networks
    that take a workspace: :class:`~numnet.network.Sequential`,
    :class:`~numnet.layers.Dense`, :class:`~numnet.layers.Residual`; other
    layers inside a ``Sequential`` allocate as before). The pool is a cache: it changes no
    result, and the arrays it returns (gradients, products, predictions)
    are new arrays the caller owns.
    """

    def __init__(self, net, loss, X, Y, regularizer=None):
        _check_net(net)
        self.net, self.loss = net, get_loss(loss)
        self.regularizer = get_regularizer(regularizer)
        if self.regularizer is not None and hasattr(self.regularizer, "check"):
            self.regularizer.check(net.n_params)
        X = check_matrix(X, "X", net.d_in)
        if X.shape[0] == 0:
            raise ValueError("X must contain at least one sample, got 0 rows")
        Y = self.loss.targets(Y, net.d_out, X.dtype)
        if Y.shape[0] != X.shape[0]:
            raise ValueError(f"Y must have {X.shape[0]} rows like X, got {Y.shape[0]}")
        self.X, self.Y = X, Y
        self._lin_pool = (
            WorkspacePool()
        )  # forward passes and kept cotangents, one per linearization
        self._product_pool = WorkspacePool()  # tangents and R-cotangents, one per product call

    def __repr__(self):
        return (
            f"Objective(loss={self.loss!r}, regularizer={self.regularizer!r}, "
            f"n_samples={self.n_samples}, n_params={self.n_params})"
        )

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_params(self):
        return self.net.n_params

    @property
    def dtype(self):
        return self.X.dtype

    def batch(self, rows, key=None):
        """The same objective on a subset of samples (a slice gives views, no copy).

        ``key`` (an int), when given, replaces the mask key of every
        :class:`~numnet.layers.Dropout` in the network (a new mask per
        mini-batch step; see :func:`~numnet.layers.with_dropout_key`).
        """
        new = object.__new__(Objective)
        new.__dict__.update(self.__dict__)
        new.X, new.Y = self.X[rows], self.Y[rows]
        if key is not None:
            new.net = with_dropout_key(self.net, key)
        if new.X.shape[0] == 0:
            raise ValueError("rows selects no samples")
        return new

    def at(self, theta):
        """Linearize at θ: run the forward pass once and keep it (see :class:`NetworkLinearization`)."""
        return NetworkLinearization(self, theta)

    def value(self, theta):
        """J(θ) (a forward pass only)."""
        theta = self._theta(theta)
        with self._lin_pool.lend() as ws:
            F = self._forward(theta, ws)[0]
            return self.loss.value(F, self.Y) + self._reg("value", theta)

    def grad(self, theta):
        return self.at(theta).grad

    def value_and_grad(self, theta):
        lin = self.at(theta)
        return lin.value, lin.grad

    def hvp(self, theta, v):
        """Exact Hessian-vector product ∇²J(θ) v by the R-operator."""
        return self.at(theta).hvp(v)

    def gnvp(self, theta, v):
        """Gauss-Newton product (Jᵀ ∇²E J + λ∇²R) v."""
        return self.at(theta).gnvp(v)

    def hessian(self, theta):
        """∇²J(θ) as a ``scipy.sparse.linalg.LinearOperator``."""
        return self.at(theta).H

    def gauss_newton(self, theta):
        """The Gauss-Newton matrix as a ``LinearOperator``."""
        return self.at(theta).G

    def predict(self, theta, X=None):
        """Network output F for X (the objective's X when None)."""
        theta = self._theta(theta)
        X = self.X if X is None else check_matrix(X, "X", self.net.d_in, dtype=self.dtype)
        return self.net.forward(theta, X)[0]

    def _forward(self, theta, ws):
        """``net.forward`` on X, in ``ws``'s "forward" scope when the network takes a workspace."""
        if ws is None or not getattr(self.net, "takes_workspace", False):
            return self.net.forward(theta, self.X)
        return self.net.forward(theta, self.X, ws.scope("forward"))

    def _theta(self, theta):
        # finiteness is checked once, by the network's forward pass
        theta = check_theta(theta, self.n_params, finite=False)
        if theta.dtype != self.dtype:
            raise TypeError(f"theta has dtype {theta.dtype} but X is {self.dtype}")
        return theta

    def _reg(self, what, theta, *args):
        if self.regularizer is None:
            return 0.0
        return getattr(self.regularizer, what)(theta, *args)


class NetworkLinearization:
    """The objective at a fixed θ, with its forward pass kept (a :class:`Linearization`).

    ``value`` and ``grad`` are computed once; each ``hvp(v)`` costs one
    tangent pass and one R-backward pass, each ``gnvp(v)`` one ``jvp`` and
    one ``vjp``, never a fresh forward pass. The cotangents of the backward
    pass (from ``grad``, or from the first ``hvp``) are kept, so further
    ``hvp`` calls skip that pass (for networks with ``backward``, such as
    :class:`~numnet.network.Sequential`). ``H`` and ``G`` are the same
    products as ``scipy.sparse.linalg.LinearOperator`` s, so ``cg``,
    ``minres`` and ``eigsh`` work on them directly.

    A linearization borrows a workspace from its objective for its lifetime
    (see :class:`Objective`): ``F``, ``cache`` and the kept cotangents live
    there and stay valid while the linearization (or any of those arrays)
    is referenced. Each ``hvp`` and ``gnvp`` borrows a second workspace for
    its tangents and R-cotangents for the call only, so threads may share a
    linearization. ``grad``, ``hvp(v)`` and ``gnvp(v)`` return new arrays
    that later calls never overwrite.
    """

    def __init__(self, objective, theta):
        self.objective = objective
        self.theta = objective._theta(theta)
        takes = getattr(objective.net, "takes_workspace", False)
        self._ws = objective._lin_pool.acquire(self) if takes else None
        self.F, self.cache = objective._forward(self.theta, self._ws)
        self._gZs = None  # each layer's output cotangent, kept by the first backward pass

    @cached_property
    def _loss(self):
        """``(E(F, Y), ∇_F E)``, computed together on first use (a Gauss-Newton product needs neither)."""
        return self.objective.loss.value_and_grad(self.F, self.objective.Y)

    @property
    def loss_value(self):
        """E(F, Y), the loss without the regularizer."""
        return self._loss[0]

    @property
    def gF(self):
        """∇_F E, the cotangent at the network output."""
        return self._loss[1]

    @cached_property
    def value(self):
        return self.loss_value + self.objective._reg("value", self.theta)

    @cached_property
    def grad(self):
        obj = self.objective
        g = self._backward(need_gtheta=True)
        if obj.regularizer is not None:
            g += obj.regularizer.grad(self.theta)
        return g

    def _scope(self, name):
        """Keyword arguments giving a network call the workspace scope ``name`` (none without a workspace)."""
        return {} if self._ws is None else {"ws": self._ws.scope(name)}

    def _backward(self, need_gtheta):
        """Backpropagate gF, keeping each layer's output cotangent when the network offers them."""
        net = self.objective.net
        if not hasattr(net, "backward"):
            return (
                net.vjp(self.theta, self.cache, self.gF, need_gX=False)[0] if need_gtheta else None
            )
        g, _, self._gZs = net.backward(
            self.theta,
            self.cache,
            self.gF,
            need_gtheta=need_gtheta,
            need_gX=False,
            **self._scope("grad"),
        )
        return g

    @contextmanager
    def _product_workspace(self):
        """Keyword arguments lending one product a workspace (none when the network takes none).

        Each call gets its own, so threads may share a linearization.
        """
        if self._ws is None:
            yield {}
        else:
            with self.objective._product_pool.lend() as ws:
                yield {"ws": ws}

    def hvp(self, v):
        """∇²J(θ) v: tangent pass dF = J v, dgF = ∇²E dF, then the R-backward pass."""
        obj, v = self.objective, self._vector(v)
        if self._gZs is None:
            self._backward(need_gtheta=False)
        kept = {} if self._gZs is None else {"gZs": self._gZs}
        with self._product_workspace() as ws:
            dF, tcache = obj.net.tangent(self.theta, self.cache, v, None, **ws)
            dgF = obj.loss.hvp(self.F, obj.Y, dF)
            Hv = obj.net.rop(
                self.theta,
                self.cache,
                v,
                None,
                self.gF,
                dgF,
                tcache=tcache,
                need_gX=False,
                **kept,
                **ws,
            )[0]
        return self._add_reg_hvp(Hv, v)

    def gnvp(self, v):
        """(Jᵀ ∇²E J + λ∇²R) v."""
        obj, v = self.objective, self._vector(v)
        with self._product_workspace() as ws:
            dF = (
                obj.net.tangent(self.theta, self.cache, v, None, **ws)[0]
                if hasattr(obj.net, "tangent")
                else obj.net.jvp(self.theta, self.cache, v, None)
            )
            Gv = obj.net.vjp(
                self.theta, self.cache, obj.loss.hvp(self.F, obj.Y, dF), need_gX=False, **ws
            )[0]
        return self._add_reg_hvp(Gv, v)

    @property
    def H(self):
        return self._operator(self.hvp)

    @property
    def G(self):
        return self._operator(self.gnvp)

    def _operator(self, product):
        from scipy.sparse.linalg import LinearOperator

        n, dtype = self.objective.n_params, self.objective.dtype

        def mv(v):
            return product(np.asarray(v).reshape(n))  # product checks v (real, finite) and casts it

        return LinearOperator((n, n), matvec=mv, rmatvec=mv, dtype=dtype)

    def _vector(self, v):
        """``v`` checked (real, finite, shape (n_params,)) and in the objective's dtype."""
        return check_direction(v, (self.objective.n_params,), self.objective.dtype, "v")

    def _add_reg_hvp(self, Hv, v):
        reg = self.objective.regularizer
        if reg is not None:
            Hv += reg.hvp(self.theta, v)
        return Hv


def _check_net(net):
    """TypeError naming ``net`` unless it has what an objective calls (a layer or network)."""
    missing = [
        a for a in ("d_in", "d_out", "n_params", "forward", "jvp", "vjp") if not hasattr(net, a)
    ]
    if missing:
        raise TypeError(
            f"net must be a layer or network (numnet.layers.Layer), got {type(net).__name__} "
            f"without {', '.join(missing)}"
        )
