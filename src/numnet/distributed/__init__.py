"""Scale-out over MPI: data-parallel objectives, random features and shard loading (mpi4py, imported lazily).

Every quantity numnet needs is a sum over samples — the loss, its gradient,
Hessian- and Gauss-Newton-vector products, the Gram matrix ZᵀZ and ZᵀY of
random features — so each is local work on a rank's shard of the rows plus
one ``Allreduce``. Run a script on K processes with ``mpiexec -n K python
script.py`` (or ``srun`` on a cluster); every rank runs the same program::

    from numnet import minimize
    from numnet.network import mlp
    from numnet.distributed import DistributedObjective, load_shard

    X, y, start, n = load_shard("data.npy")            # this rank's rows only
    obj = DistributedObjective(mlp(X.shape[1], [50], 1), "squared_error", X, y, 1e-4)
    res = minimize(obj, obj.net.init(0), "newton-cg")  # the same steps on every rank

:class:`DistributedObjective` has the interface of :class:`~numnet.Objective`,
so :func:`~numnet.minimize` and its matrix-free methods (Newton-CG,
trust-region Newton-CG, Gauss-Newton, block Gauss-Newton and
Levenberg–Marquardt on their CG path — ``solver="auto"`` picks it —, L-BFGS,
BFGS, SR1, and the first-order and stochastic ones) run on it unchanged;
every rank takes bitwise identical steps. A rank whose program ends with
an uncaught exception stops every rank (:func:`abort_on_uncaught`,
installed by the first reducer on several ranks). ``numnet train``
under ``mpiexec`` uses it (:mod:`numnet.distributed.launch`: only rank 0
prints and writes).

Without ``mpiexec`` (and ``comm=None``) everything here runs serially in one
process, and mpi4py is not imported; the rest of numnet never imports it.
"""

from .comm import DistributedError, Reducer, abort_on_uncaught, launched_size
from .objective import ONE_PROCESS_METHODS, DistributedLinearization, DistributedObjective
from .random_features import fit_least_squares, fit_logistic
from .shards import Shard, load_shard, shard_range

__all__ = [
    "DistributedObjective",
    "DistributedLinearization",
    "ONE_PROCESS_METHODS",
    "DistributedError",
    "Reducer",
    "launched_size",
    "abort_on_uncaught",
    "fit_least_squares",
    "fit_logistic",
    "Shard",
    "load_shard",
    "shard_range",
]
