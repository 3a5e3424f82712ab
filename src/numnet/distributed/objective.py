"""The data-parallel objective: each rank holds a shard of the samples; every product is one ``Allreduce``."""

import warnings
from functools import cached_property

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._validation import check_direction, check_matrix, check_theta
from ..losses import get_loss
from ..objective import Objective
from ..regularizers import get_regularizer
from .comm import ThetaDrift, _agreed, as_reducer

__all__ = ["DistributedObjective", "DistributedLinearization", "ONE_PROCESS_METHODS"]

ONE_PROCESS_METHODS = ("kfac", "varpro")
"""The :func:`~numnet.minimize` methods that read the data themselves: they need an :class:`~numnet.Objective`."""


class DistributedObjective:
    """J(θ) = E(F(θ, X), Y) + λR(θ) over the samples of all ranks; the same interface as :class:`~numnet.Objective`.

    Parameters
    ----------
    net : Sequential or layer
        The same network on every rank.
    loss : str or Loss
    X : array of shape (n_local, net.d_in)
        This rank's rows (its shard; may be empty). The dtype is the
        computation's, and must be the same on every rank.
    Y : array
        This rank's targets.
    regularizer : None, float or regularizer, default=None
        Added once (not once per rank).
    comm : mpi4py communicator or Reducer, optional
        Default: ``MPI.COMM_WORLD`` under ``mpiexec``, else serial (one
        process, no MPI).

    Attributes
    ----------
    n_samples : int
        N, the number of samples of all ranks.
    start, n_local : int
        This rank's rows are the global rows start … start + n_local − 1
        (ranks hold consecutive blocks, in rank order); ``start`` is None
        for a :meth:`batch`.
    reducer : Reducer
        Its communicator; ``reducer.stats`` counts the collectives.
    resyncs : int
        How many times θ was found to differ between ranks and rank 0's was
        broadcast (0 when every rank takes bitwise identical steps).

    Notes
    -----
    With rank r holding rows R_r (n_r of them), in code notation (samples
    as rows) E = (1/N) Σ_r Σ_{n ∈ R_r} ℓ(F_n, Y_n), so every quantity is a sum
    of the ranks' local means weighted by w_r = n_r / N:

    - J = Σ_r w_r E_r + λR, ∇J = Σ_r w_r J_rᵀ ∇E_r + λ∇R;
    - ∇²J v = Σ_r w_r (R-operator on shard r) v + λ∇²R v (note 004);
    - G v = Σ_r w_r J_rᵀ ∇²E_r J_r v + λ∇²R v (notes 000).

    Each is computed by a local :class:`~numnet.Objective` (which keeps its
    forward pass in ``at(θ)``) and summed by one ``Allreduce``
    (:class:`~numnet.distributed.comm.Reducer`); the regularizer is added
    after the sum, on every rank alike. Every evaluation at a new θ also
    compares a fingerprint of θ across ranks (in the same reduction): were
    θ ever to differ — different floating-point results on different
    hardware — rank 0's θ is broadcast, used, and counted in ``resyncs``.
    Dropout masks are drawn per rank, for its own rows.

    Every rank must stop where the others stop: ``minimize``'s stopping
    rules on values and gradients agree (they are the same on every rank),
    but ``max_time`` reads each rank's clock, and a callback that raises
    ``StopIteration`` must decide from reduced quantities only. Methods
    that need the data themselves (``kfac``, ``varpro``) and the dense
    Gauss-Newton solver need an :class:`~numnet.Objective`; Gauss-Newton
    and Levenberg–Marquardt take their matrix-free CG path here.
    """

    def __init__(self, net, loss, X, Y, regularizer=None, *, comm=None):
        self.reducer = as_reducer(comm)
        self.net, self.loss = net, get_loss(loss)
        self.regularizer = get_regularizer(regularizer)
        if self.regularizer is not None and hasattr(self.regularizer, "check"):
            self.regularizer.check(net.n_params)
        self.local, self._dtype, counts = self._shard(net, X, Y)
        self.n_samples = int(counts.sum())
        if self.n_samples == 0:
            raise ValueError(
                "X must contain at least one sample on some rank, got 0 rows on every rank"
            )
        self.start, self.n_local = (
            int(counts[: self.reducer.rank].sum()),
            int(counts[self.reducer.rank]),
        )
        self._counter = {"resyncs": 0}

    @classmethod
    def from_objective(cls, objective, *, comm=None):
        """This rank's consecutive block of the rows of an :class:`~numnet.Objective` (views, no copy)."""
        from .shards import shard_range

        reducer = as_reducer(comm)
        lo, hi = shard_range(objective.n_samples, reducer.rank, reducer.size)
        return cls(
            objective.net,
            objective.loss,
            objective.X[lo:hi],
            objective.Y[lo:hi],
            objective.regularizer,
            comm=reducer,
        )

    def _shard(self, net, X, Y):
        """The local objective (None for no rows), the dtype, and every rank's row count, agreed on."""
        box, key = {}, np.zeros(4)

        def fill(out):
            Xc = check_matrix(X, "X", net.d_in)
            box["obj"] = Objective(net, self.loss, Xc, Y) if Xc.shape[0] else None
            box["dtype"] = Xc.dtype
            key[:] = net.n_params, net.d_in, net.d_out, Xc.dtype.num
            out[self.reducer.rank] = Xc.shape[0]

        try:
            counts = self.reducer.sum(self.reducer.size, fill, theta=key)
        except ThetaDrift:
            raise _agreed(
                ValueError(
                    "net and X must have the same sizes and dtype on every rank "
                    f"(here n_params={net.n_params}, dtype {box['dtype']})"
                )
            ) from None
        return box["obj"], box["dtype"], counts

    def __repr__(self):
        return (
            f"DistributedObjective(loss={self.loss!r}, regularizer={self.regularizer!r}, "
            f"n_samples={self.n_samples}, n_local={self.n_local}, rank={self.reducer.rank}, "
            f"size={self.reducer.size}, n_params={self.n_params})"
        )

    @property
    def n_params(self):
        return self.net.n_params

    @property
    def X(self):
        raise AttributeError(
            "a DistributedObjective has no X of all samples (this rank's rows are local.X); "
            "methods that need the data themselves (kfac, varpro) run on an Objective"
        )

    @property
    def Y(self):
        raise AttributeError(
            "a DistributedObjective has no Y of all samples (this rank's rows are local.Y)"
        )

    @property
    def dtype(self):
        return self._dtype

    @property
    def weight(self):
        """w_r = n_local / N: this rank's share of the mean."""
        return self.n_local / self.n_samples

    @property
    def resyncs(self):
        return self._counter["resyncs"]

    def batch(self, rows, key=None):
        """The objective on the global rows ``rows`` (a slice, indices or a mask over all N samples).

        Each rank keeps the rows of its own block; the mean is over the
        batch's rows on all ranks, as in ``Objective.batch``. ``key``: the
        Dropout mask key.
        """
        if self.start is None:
            raise ValueError(
                "batch: this objective is already a batch; take rows of the full objective"
            )
        local_rows, n_rows = _local_rows(rows, self.n_samples, self.start, self.n_local)
        if n_rows == 0:
            raise ValueError("rows selects no samples")
        new = object.__new__(DistributedObjective)
        new.__dict__.update(self.__dict__)
        new.n_samples, new.start = n_rows, None  # a batch's rows have no global block
        empty = self.local is None or _is_empty(local_rows)
        new.local = (
            None
            if empty
            else (
                self.local.batch(local_rows)
                if key is None
                else self.local.batch(local_rows, key=key)
            )
        )
        new.n_local = 0 if new.local is None else new.local.n_samples
        return new

    def at(self, theta):
        """Linearize at θ: every rank runs its forward pass once and keeps it (:class:`DistributedLinearization`)."""
        return DistributedLinearization(self, theta)

    def value(self, theta):
        """J(θ): a local forward pass, one reduction."""

        def fill(th, out):
            out[0] = 0.0 if self.local is None else self.weight * self.local.value(th)

        theta, total = self.sum_at(theta, 1, fill)
        return float(total[0]) + self._reg("value", theta)

    def grad(self, theta):
        return self.value_and_grad(theta)[1]

    def value_and_grad(self, theta):
        """(J(θ), ∇J(θ)) with one reduction of p + 1 numbers."""
        p = self.n_params

        def fill(th, out):
            if self.local is not None:
                lin = self.local.at(th)
                np.multiply(lin.grad, self.weight, out=out[:p])
                out[p] = self.weight * lin.value

        theta, total = self.sum_at(theta, p + 1, fill)
        g = total[:p].astype(self.dtype)
        if self.regularizer is not None:
            g += self.regularizer.grad(theta)
        return float(total[p]) + self._reg("value", theta), g

    def hvp(self, theta, v):
        """Exact Hessian-vector product ∇²J(θ) v (R-operator on every shard, one reduction)."""
        return self.at(theta).hvp(v)

    def gnvp(self, theta, v):
        """Gauss-Newton product (Σ_r w_r J_rᵀ ∇²E_r J_r + λ∇²R) v."""
        return self.at(theta).gnvp(v)

    def hessian(self, theta):
        return self.at(theta).H

    def gauss_newton(self, theta):
        return self.at(theta).G

    def predict(self, theta, X=None):
        """Network output F for X (this rank's rows when None); no communication."""
        theta = self._theta(theta)
        if X is None:
            if self.local is None:
                return np.zeros((0, self.net.d_out), self.dtype)
            return self.local.predict(theta)
        return self.net.forward(theta, check_matrix(X, "X", self.net.d_in, dtype=self.dtype))[0]

    def sum_at(self, theta, n, fill):
        """``(θ, Σ_ranks fill(θ, out))``, checking that θ is the same on every rank.

        ``fill(θ, out)`` writes this rank's n numbers. Were θ to differ,
        rank 0's θ is broadcast and the sum taken again at it (the θ
        returned).
        """
        theta = self._theta(theta)
        try:
            return theta, self.reducer.sum(n, lambda out: fill(theta, out), theta=theta)
        except ThetaDrift:
            theta = self._resync(theta)
            return theta, self.reducer.sum(n, lambda out: fill(theta, out))

    def _resync(self, theta):
        self._counter["resyncs"] += 1
        if self.reducer.rank == 0:
            warnings.warn(
                "theta differed between ranks; rank 0's theta was broadcast and used "
                f"({self.resyncs} time(s) so far)",
                RuntimeWarning,
                stacklevel=4,
            )

        def fill(out):
            out[...] = theta

        return self.reducer.broadcast(theta.size, fill).astype(theta.dtype)

    def _theta(self, theta):
        theta = check_theta(theta, self.n_params, finite=False)
        if theta.dtype != self.dtype:
            raise TypeError(f"theta has dtype {theta.dtype} but X is {self.dtype}")
        return theta

    def _reg(self, what, theta, *args):
        if self.regularizer is None:
            return 0.0
        return getattr(self.regularizer, what)(theta, *args)


class DistributedLinearization:
    """The distributed objective at a fixed θ: every rank keeps its own forward pass.

    ``value`` is reduced when the linearization is made (with the check
    that θ is the same on every rank), ``grad`` on first use; each
    ``hvp(v)`` / ``gnvp(v)`` is a local product and one reduction of p
    numbers; ``hvp_block(V)`` / ``gnvp_block(V)`` take k vectors at once and
    reduce all k products in one ``Allreduce`` (``H`` and ``G`` use them as
    the ``matmat`` of their ``LinearOperator``). Directions must be the
    same on every rank (ValueError otherwise). Any other sum over samples
    — an empirical or exact Fisher matrix, a Monte-Carlo Fisher — is
    :meth:`operator`.
    """

    def __init__(self, objective, theta):
        self.objective, box = objective, {}

        def fill(th, out):
            box["lin"] = None if objective.local is None else objective.local.at(th)
            out[0] = 0.0 if box["lin"] is None else objective.weight * box["lin"].value

        self.theta, total = objective.sum_at(theta, 1, fill)
        self._local = box["lin"]
        self.value = float(total[0]) + objective._reg("value", self.theta)

    @cached_property
    def grad(self):
        obj, lin = self.objective, self._local

        def fill(out):
            if lin is not None:
                np.multiply(lin.grad, obj.weight, out=out)

        g = obj.reducer.sum(obj.n_params, fill).astype(obj.dtype)
        if obj.regularizer is not None:
            g += obj.regularizer.grad(self.theta)
        return g

    def hvp(self, v):
        """∇²J(θ) v."""
        return self._products("hvp", self._vectors(v, "v"))[:, 0]

    def gnvp(self, v):
        """G v = (Σ_r w_r J_rᵀ ∇²E_r J_r + λ∇²R) v."""
        return self._products("gnvp", self._vectors(v, "v"))[:, 0]

    def hvp_block(self, V):
        """∇²J(θ) V for V of shape (p, k): k products, one reduction."""
        return self._products("hvp", self._vectors(V, "V"))

    def gnvp_block(self, V):
        """G V for V of shape (p, k): k products, one reduction."""
        return self._products("gnvp", self._vectors(V, "V"))

    def operator(self, local):
        """Σ_r w_r A_r as a ``LinearOperator``, A_r = ``local(lin_r)`` on each rank's own linearization.

        ``local`` maps an :class:`~numnet.objective.Linearization` (this
        rank's rows, its forward pass kept) to an operator that is a *mean*
        over those rows, e.g. ``numnet.curvature.empirical_fisher`` or
        ``numnet.curvature.fisher``; the result is then the same mean over
        the rows of all ranks (1/N) Σ_n, and each product or block of
        products is one reduction. Nothing is added for the regularizer.
        Building the operators is agreed on (one reduction): a failure on
        one rank raises on every rank.
        """
        box = {"A": None}

        def build(out):
            if self._local is not None:
                box["A"] = local(self._local)

        self.objective.reducer.sum(0, build)
        n = self.objective.n_params

        def block(V):
            return self._reduce(
                lambda W: None if box["A"] is None else box["A"] @ W, self._vectors(V, "V")
            )

        def vector(v):
            return block(np.ravel(v))[:, 0]

        return LinearOperator(
            (n, n),
            matvec=vector,
            rmatvec=vector,
            matmat=block,
            rmatmat=block,
            dtype=self.objective.dtype,
        )

    @property
    def H(self):
        return self._operator(self.hvp, self.hvp_block)

    @property
    def G(self):
        return self._operator(self.gnvp, self.gnvp_block)

    def _operator(self, product, block):
        n = self.objective.n_params
        return LinearOperator(
            (n, n),
            matvec=lambda v: product(np.ravel(v)),
            rmatvec=lambda v: product(np.ravel(v)),
            matmat=block,
            rmatmat=block,
            dtype=self.objective.dtype,
        )

    def _reduce(self, local, V):
        """Σ_r w_r ``local(V)`` (this rank's (p, k) products; None: no rows) in one reduction."""
        obj, (p, k) = self.objective, V.shape

        def fill(out):
            AV = local(V)
            if AV is not None:
                np.multiply(np.asarray(AV).reshape(p, k), obj.weight, out=out.reshape(p, k))

        try:
            return obj.reducer.sum(p * k, fill, theta=V).reshape(p, k).astype(obj.dtype)
        except ThetaDrift:
            raise _agreed(
                ValueError(
                    "the direction differs between ranks; pass the same vectors on every rank"
                )
            ) from None

    def _vectors(self, V, name):
        """V checked, as a (p, k) array in the objective's dtype."""
        obj = self.objective
        V = np.asarray(V)
        if V.ndim == 1:
            return check_direction(V, (obj.n_params,), obj.dtype, name)[:, None]
        return check_direction(V, (obj.n_params, None), obj.dtype, name)

    def _products(self, name, V):
        """The k products of the local linearization, weighted and summed over ranks in one reduction."""
        obj, lin = self.objective, self._local

        def local(V):
            return None if lin is None else np.stack([getattr(lin, name)(v) for v in V.T], axis=1)

        HV = self._reduce(local, V)
        if obj.regularizer is not None:
            for j in range(V.shape[1]):
                HV[:, j] += obj.regularizer.hvp(self.theta, V[:, j])
        return HV


def _local_rows(rows, n, start, n_local):
    """(rows of this rank's block, as local indices; the number of rows selected on all ranks)."""
    if isinstance(rows, slice):
        r = range(n)[rows]
        if r.step == 1:
            lo, hi = max(r.start, start), min(r.stop, start + n_local)
            return slice(lo - start, max(hi, lo) - start), len(r)
        rows = np.asarray(r)
    rows = np.asarray(rows)
    if rows.dtype == bool:
        if rows.shape != (n,):
            raise ValueError(f"a boolean rows mask must have shape ({n},), got {rows.shape}")
        return np.flatnonzero(rows[start : start + n_local]), int(rows.sum())
    if rows.ndim != 1 or rows.dtype.kind not in "iu":
        raise TypeError(
            f"rows must be a slice, a 1-D integer array or a boolean mask, got {rows.dtype} "
            f"of shape {rows.shape}"
        )
    if rows.size and (rows.min() < -n or rows.max() >= n):
        raise ValueError(
            f"rows must be in [-{n}, {n}) (the samples of all ranks), got values from "
            f"{rows.min()} to {rows.max()}"
        )
    rows = rows % n
    mine = rows[(rows >= start) & (rows < start + n_local)]
    return mine - start, rows.size


def _is_empty(local_rows):
    if isinstance(local_rows, slice):
        return local_rows.stop <= local_rows.start
    return local_rows.size == 0
