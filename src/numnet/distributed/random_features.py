"""Random features (extreme learning machines) over the shards of all ranks.

Each rank streams its rows through the fixed random map Z = σ(X @ W1 + b)
in batches, accumulating the sums of the normal equations
(:class:`~numnet.random_features.NormalEquations`); one ``Allreduce``
adds them up (the m × m Gram matrix ZᵀZ, the m × k right-hand side ZᵀY,
Σ Z, Σ Y and n, about m²/2 + m·k numbers, whatever the number of
samples), rank 0 solves, and one broadcast gives every rank the same
output weights. A logistic ELM is the convex problem of notes 000/003 on
the features, solved by Newton-CG on a
:class:`~numnet.distributed.DistributedObjective`.
"""

import numpy as np

from .._validation import check_int, check_matrix
from ..layers import Dense
from ..network import Sequential
from ..optim import minimize
from ..random_features import NormalEquations, stack_output_weights
from ..regularizers import Tikhonov
from .comm import ThetaDrift, _agreed, as_reducer
from .objective import DistributedObjective

__all__ = ["fit_least_squares", "fit_logistic"]


def fit_least_squares(
    features, X, Y, *, alpha=0.0, batch_size=10_000, fit_intercept=True, comm=None
):
    """Least-squares ELM output weights over every rank's rows: min (1/2N)‖Z W + c − Y‖² + (λ/2)‖W‖².

    Parameters
    ----------
    features : RandomFeatures
        The same on every rank (same ``random_state``).
    X : ndarray of shape (n_local, n_features)
        This rank's rows (a memory map streams from disk); may be empty.
    Y : ndarray of shape (n_local,) or (n_local, n_outputs)
    alpha : float, default=0.0
        λ (the bias c is not regularized).
    batch_size : int, default=10000
        Rows per batch of the stream.
    fit_intercept : bool, default=True
    comm : mpi4py communicator or Reducer, optional
        Default: ``MPI.COMM_WORLD`` under ``mpiexec``, else serial. A
        :class:`~numnet.distributed.Reducer` counts the collectives in its ``stats``.

    Returns
    -------
    theta : ndarray of shape (n_hidden * n_outputs + fit_intercept * n_outputs,)
        Parameters of ``Dense(n_hidden, n_outputs, bias=fit_intercept)``,
        X's dtype, bitwise the same on every rank. They equal
        :func:`numnet.random_features.fit_least_squares` with
        ``solver="normal"`` on all rows, up to the order of summation.

    Notes
    -----
    Notes 000, random features: (Z̃ᵀZ̃ + NλD) W̃ = Z̃ᵀY with Z̃ = [Z 1],
    Z̃ᵀZ̃ = Σ_r Z̃_rᵀZ̃_r and Z̃ᵀY = Σ_r Z̃_rᵀY_r over the ranks r; the
    Cholesky (or minimum-norm eigen-) solve of
    :meth:`~numnet.random_features.NormalEquations.solve`.
    """
    reducer = as_reducer(comm)
    batch_size, m = check_int(batch_size, "batch_size"), features.n_hidden
    X = check_matrix(X, "X", features.n_features)
    Y = np.asarray(Y)
    k = 1 if Y.ndim == 1 else Y.shape[1]
    sizes = m * (m + 1) // 2, m * k, m, k, 1
    alpha = _check_alpha(alpha)

    def fill(out):
        ne = NormalEquations(m, k, fit_intercept=fit_intercept)
        for i in range(0, X.shape[0], batch_size):
            ne.update(features.transform(X[i : i + batch_size]), Y[i : i + batch_size])
        _pack(ne.sums(), out, sizes)

    try:
        total = reducer.sum(
            sum(sizes), fill, theta=np.array([m, k, fit_intercept], dtype=np.float64)
        )
    except ThetaDrift:
        raise _agreed(
            ValueError(
                f"features, Y and fit_intercept must agree on every rank (here n_hidden={m}, "
                f"{k} outputs, fit_intercept={fit_intercept})"
            )
        ) from None
    ne = NormalEquations.from_sums(*_unpack(total, sizes, m, k), fit_intercept=fit_intercept)
    n_theta = (m + fit_intercept) * k

    def solve(out):
        out[:] = stack_output_weights(ne.solve(alpha), fit_intercept)

    return reducer.broadcast(n_theta, solve).astype(X.dtype)


def _check_alpha(alpha):
    if isinstance(alpha, bool) or not (np.isfinite(alpha) and alpha >= 0):
        raise ValueError(f"alpha must be a non-negative finite number, got {alpha!r}")
    return float(alpha)


def _pack(sums, out, sizes):
    """ZᵀZ's lower triangle, ZᵀY, Σ Z, Σ Y and n into one flat buffer."""
    ZtZ, ZtY, zsum, ysum, n = sums
    parts = (ZtZ[np.tril_indices(len(ZtZ))], ZtY.ravel(), zsum, ysum, [n])
    ends = np.cumsum(sizes)
    for part, end, size in zip(parts, ends, sizes):
        out[end - size : end] = part


def _unpack(buf, sizes, m, k):
    tri, ZtY, zsum, ysum, n = np.split(buf, np.cumsum(sizes)[:-1])
    ZtZ = np.zeros((m, m))
    ZtZ[np.tril_indices(m)] = tri
    ZtZ = ZtZ + np.tril(ZtZ, -1).T
    return ZtZ, ZtY.reshape(m, k), zsum, ysum, int(round(n[0]))


def fit_logistic(
    features,
    X,
    y,
    n_outputs,
    *,
    alpha=0.0,
    theta0=None,
    max_iter=100,
    tol=1e-6,
    callback=None,
    comm=None,
):
    """Multinomial logistic regression on the random features of every rank's rows, by Newton-CG.

    The parameters are those of :func:`numnet.random_features.fit_logistic`
    (``X``, ``y``: this rank's rows), plus ``comm``. Each rank computes its
    features once; the objective is a
    :class:`~numnet.distributed.DistributedObjective` on them, so every
    Newton-CG product is one reduction.

    Returns
    -------
    OptimizeResult
        ``x`` holds the parameters of ``Dense(n_hidden, n_outputs)``, the same on every rank.
    """
    Z = features.transform(check_matrix(X, "X", features.n_features))
    net = Sequential([Dense(features.n_hidden, n_outputs)])
    loss = "binary_cross_entropy" if n_outputs == 1 else "cross_entropy"
    obj = DistributedObjective(
        net, loss, Z, y, Tikhonov(_check_alpha(alpha), mask=~net.bias_mask()), comm=comm
    )
    x0 = np.zeros(net.n_params, Z.dtype) if theta0 is None else theta0
    return minimize(obj, x0, "newton-cg", max_iter=max_iter, gtol=tol, callback=callback)
