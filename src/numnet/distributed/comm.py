"""The collectives of :mod:`numnet.distributed`: sums over ranks that agree on failures and on θ.

mpi4py is imported here, on first use (:func:`mpi`), and nowhere else in
numnet. Every quantity a data-parallel objective needs is a sum over
samples, so every collective is one ``Allreduce`` of a float64 buffer
(:meth:`Reducer.sum`), with a few extra numbers riding along:

- a **failure flag**. Each rank computes its part inside ``try``; a rank
  that raises contributes zeros and the flag, so every rank learns of the
  failure in the same reduction and raises: the local exception itself when
  every rank failed alike (a bad argument fails everywhere the same way),
  else a :class:`DistributedError` naming the rank that failed and its
  message. No rank is left waiting in a collective the others never reach.
- a **fingerprint of θ** (with ``theta=``): four 16-bit pieces h of the
  CRC-32 and Adler-32 of θ's bytes, and their squares. The sums are exact
  integers, equal on every rank, and Σh = K·h, Σh² = K·h² hold on a rank
  exactly when every rank has the same h (Cauchy–Schwarz), so all ranks
  reach the same verdict. A mismatch raises :class:`ThetaDrift` on every
  rank; the objective then broadcasts rank 0's θ (:meth:`Reducer.broadcast`).

An exception a rank raises *between* collectives, in the user's own
code, is not seen by the others, which would wait forever in their next
collective. So the first :class:`Reducer` on several ranks installs
:func:`abort_on_uncaught` (what ``python -m mpi4py script.py`` does): an
exception that ends a rank's program prints its traceback with the rank's
number and calls ``MPI_Abort``, which ends every rank (``mpiexec`` exits
non-zero).

Without a communicator (``comm=None`` and no MPI launch) the reducer is
serial: ``sum`` returns the local part, and mpi4py is never imported.
"""

import os
import sys
import time
import zlib

import numpy as np

__all__ = [
    "mpi",
    "launched_size",
    "default_comm",
    "as_reducer",
    "Reducer",
    "CommStats",
    "DistributedError",
    "ThetaDrift",
    "fingerprint",
    "USER_ERROR_KINDS",
    "abort_on_uncaught",
]

_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE")
"""Set by MPICH's and Intel MPI's ``mpiexec`` and Slurm's PMI-2 (PMI_SIZE), Open MPI, MVAPICH."""
USER_ERROR_KINDS = (
    "ValueError",
    "TypeError",
    "OSError",
    "FileNotFoundError",
    "PermissionError",
    "MemoryError",
    "CommandError",
)
"""Exception types (by name) of errors the user can fix; :class:`DistributedError` tells them apart."""


def mpi():
    """The ``mpi4py.MPI`` module, imported on first use; ImportError saying how to install it."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise ImportError(
            "numnet.distributed needs mpi4py and an MPI library: pip install 'numnet[mpi]' "
            "(mpi4py with the mpich wheel), or mpi4py built against the cluster's MPI"
        ) from exc
    return MPI


def launched_size(environ=None):
    """The number of processes the launcher (``mpiexec``, ``srun``) started, from the environment; 1 if none.

    Read without importing mpi4py: ``PMI_SIZE`` (MPICH, Intel MPI, Slurm
    with PMI-2), ``OMPI_COMM_WORLD_SIZE`` (Open MPI), ``MV2_COMM_WORLD_SIZE``
    (MVAPICH). Under PMIx alone (``srun --mpi=pmix``), which sets only
    ``PMIX_RANK``, mpi4py is asked.
    """
    env = os.environ if environ is None else environ
    for name in _SIZE_VARIABLES:
        if env.get(name, "").isdigit():
            return int(env[name])
    if "PMIX_RANK" in env:
        return mpi().COMM_WORLD.Get_size()
    return 1


def default_comm(comm=None):
    """``comm``; else ``MPI.COMM_WORLD`` when launched on several processes or mpi4py is loaded; else None."""
    if comm is not None:
        return comm
    if launched_size() > 1 or "mpi4py.MPI" in sys.modules:
        return mpi().COMM_WORLD
    return None


def as_reducer(comm=None):
    """``comm`` itself when it is a :class:`Reducer` (its counters then include the new work), else a new one."""
    return comm if isinstance(comm, Reducer) else Reducer(default_comm(comm))


def abort_on_uncaught(comm=None):
    """Make an uncaught exception on this rank end every rank: traceback, then ``comm.Abort(1)``.

    Installed once (chaining the ``sys.excepthook`` found) by the first
    :class:`Reducer` on several ranks; call it yourself to protect code that
    runs before one. ``comm``: default ``MPI.COMM_WORLD``. An exception
    that a collective raised on every rank alike (``numnet_agreed``) is
    printed by rank 0 alone.
    """
    if getattr(sys.excepthook, "_numnet_abort", False):
        return
    previous = sys.excepthook

    def hook(kind, exc, tb):
        world = mpi().COMM_WORLD if comm is None else comm
        if getattr(exc, "numnet_agreed", False) and world.Get_rank() != 0:
            return  # raised on every rank by a collective: rank 0 reports it and aborts
        previous(kind, exc, tb)
        print(
            f"numnet.distributed: rank {world.Get_rank()} of {world.Get_size()} ended with an uncaught "
            f"{kind.__name__}; stopping every rank (MPI_Abort)",
            file=sys.stderr,
            flush=True,
        )
        world.Abort(1)

    hook._numnet_abort = True
    sys.excepthook = hook


class DistributedError(RuntimeError):
    """Raised on every rank when some ranks failed in a collective step (the others did not, or differently).

    Attributes
    ----------
    rank, size : int
        The first rank that failed, and the number of ranks.
    kind, detail : str
        Its exception's type name and message.
    user_error : bool
        Whether ``kind`` is an error the user can fix (:data:`USER_ERROR_KINDS`).
    """

    def __init__(self, rank, size, kind, detail):
        super().__init__(f"rank {rank} of {size} failed: {kind}: {detail}")
        self.rank, self.size, self.kind, self.detail = rank, size, kind, detail
        self.user_error = kind in USER_ERROR_KINDS


class ThetaDrift(Exception):
    """θ differs between ranks (raised on every rank by :meth:`Reducer.sum` with ``theta=``)."""


class CommStats:
    """Counters of a reducer's collectives: ``calls``, ``seconds`` inside them, float64 ``numbers`` moved."""

    def __init__(self):
        self.calls, self.seconds, self.numbers = 0, 0.0, 0

    def __repr__(self):
        return f"CommStats(calls={self.calls}, seconds={self.seconds:.6f}, numbers={self.numbers})"


_PIECES = 4  # 16-bit pieces of the 64-bit fingerprint


def fingerprint(theta):
    """Four 16-bit integers (as float64) from the CRC-32 and Adler-32 of θ's bytes."""
    data = memoryview(np.ascontiguousarray(theta)).cast("B")
    word = (zlib.crc32(data) << 32) | zlib.adler32(data)
    return np.array([(word >> (16 * i)) & 0xFFFF for i in range(_PIECES)], dtype=np.float64)


def _one_line(exc):
    return " ".join(str(exc).split()) or type(exc).__name__


class Reducer:
    """Sums over the ranks of an MPI communicator, timed, agreeing on failures and on θ.

    Parameters
    ----------
    comm : mpi4py communicator or None
        None: serial (one process, no MPI).

    Attributes
    ----------
    rank, size : int
    stats : CommStats
        What the collectives cost so far (all of them, on this rank).
    """

    def __init__(self, comm=None):
        self.comm = comm
        self.rank = 0 if comm is None else comm.Get_rank()
        self.size = 1 if comm is None else comm.Get_size()
        self.stats = CommStats()
        if self.size > 1:
            abort_on_uncaught()

    def __repr__(self):
        return f"Reducer(rank={self.rank}, size={self.size})"

    def sum(self, n, fill, *, theta=None):
        """Σ over ranks of the ``n`` numbers ``fill(out)`` writes into a zeroed float64 array ``out``.

        One ``Allreduce``. A failure of ``fill`` on any rank raises on every
        rank (see the module notes); with ``theta``, :class:`ThetaDrift` is
        raised on every rank when θ differs between ranks. Returns a new
        float64 array of shape (n,), the same on every rank.
        """
        if self.comm is None:
            out = np.zeros(n)
            fill(out)
            return out
        extra = 1 + (2 * _PIECES if theta is not None else 0)
        buf = np.zeros(n + extra)
        error = _attempt(fill, buf[:n])
        buf[n] = error is not None
        if theta is not None:
            h = fingerprint(theta)
            buf[n + 1 :: 2], buf[n + 2 :: 2] = h, h * h
        self._allreduce(buf)
        if buf[n] > 0:
            self._raise_agreed(error)
        if theta is not None and not _same_everywhere(buf[n + 1 :], h, self.size):
            raise ThetaDrift("theta differs between ranks")
        return buf[:n]

    def broadcast(self, n, fill, root=0):
        """The ``n`` float64 numbers ``fill(out)`` writes on rank ``root``, on every rank (one ``Bcast``).

        A failure of ``fill`` on ``root`` raises on every rank: the exception
        itself on ``root``, a :class:`DistributedError` naming it elsewhere.
        """
        if self.comm is None:
            out = np.zeros(n)
            fill(out)
            return out
        buf = np.zeros(n + 1)
        error = _attempt(fill, buf[:n]) if self.rank == root else None
        buf[n] = error is not None
        self._timed(self.comm.Bcast, buf, root=root)
        if buf[n] > 0:
            record = self.comm.bcast(
                None if error is None else (type(error).__name__, _one_line(error)), root=root
            )
            if error is not None:
                raise _agreed(error)
            raise _agreed(DistributedError(root, self.size, *record))
        return buf[:n]

    def _allreduce(self, buf):
        self._timed(self.comm.Allreduce, mpi().IN_PLACE, buf)

    def _timed(self, op, *args, **kwargs):
        t = time.perf_counter()
        op(*args, **kwargs)
        self.stats.seconds += time.perf_counter() - t
        self.stats.calls += 1
        self.stats.numbers += args[-1].size

    def _raise_agreed(self, error):
        """Every rank is here: gather who failed and how; raise the same failure everywhere."""
        mine = None if error is None else (type(error).__name__, _one_line(error))
        records = self.comm.allgather(mine)
        failed = [(r, rec) for r, rec in enumerate(records) if rec is not None]
        if error is not None and len(failed) == self.size and all(rec == mine for _, rec in failed):
            raise _agreed(error)
        rank, (kind, detail) = failed[0]
        raise _agreed(DistributedError(rank, self.size, kind, detail)) from error


def _agreed(exc):
    """``exc``, marked as raised on every rank by one collective (see :func:`abort_on_uncaught`)."""
    exc.numnet_agreed = True
    return exc


def _attempt(fill, out):
    """Run ``fill(out)``; the exception it raised (out zeroed), or None."""
    try:
        fill(out)
    except Exception as exc:  # noqa: BLE001  (any failure is agreed on, then re-raised)
        out[...] = 0
        return exc
    return None


def _same_everywhere(sums, h, size):
    """Whether every rank had fingerprint h, from Σh and Σh² (interleaved in ``sums``)."""
    return bool(np.all(sums[0::2] == size * h) and np.all(sums[1::2] == size * h * h))
