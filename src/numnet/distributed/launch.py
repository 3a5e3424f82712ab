"""A program run on every rank by ``mpiexec``: output from rank 0 only, and one agreed way to end.

The ``numnet`` command opens a :class:`Session` when it was started on
several processes (:func:`~numnet.distributed.comm.launched_size`). Ranks
other than 0 write nothing to stdout or stderr (:meth:`Session.quiet`).
Every rank ends in :meth:`Session.finish` with its exit status and error
line:

- ranks that succeeded wait there for all the others;
- a rank that failed offers its error for :data:`AGREE_TIMEOUT` seconds.
  When every rank reaches :meth:`~Session.finish` (all failed alike, or
  the others finished), rank 0 prints each distinct error once, naming
  the rank, and every rank exits with the first failed rank's status;
- otherwise the other ranks are still inside a collective operation that
  the failed rank will never join: it prints its error with its rank and
  calls ``MPI_Abort``, which ends every rank (``mpiexec`` exits non-zero)
  instead of leaving them waiting forever.

Failures inside numnet's own collectives never need the abort: they are
agreed on in the reduction itself (:mod:`numnet.distributed.comm`).
The agreement uses its own duplicate of the communicator, so it can never
be confused with a collective of the computation.
"""

import os
import sys
import time

import numpy as np

from .comm import mpi

__all__ = ["Session", "AGREE_TIMEOUT", "current", "open_session"]

AGREE_TIMEOUT = 5.0
"""Seconds a failed rank waits for the others to reach :meth:`Session.finish` before aborting them."""
_RECORD = 1024  # bytes per rank: an int64 status, then the error line in UTF-8
_current = None


def open_session(comm=None):
    """Open the process-wide :class:`Session` on ``comm`` (default ``MPI.COMM_WORLD``) and return it."""
    global _current
    _current = Session(comm)
    return _current


def current():
    """The open :class:`Session`, or None (one process, no ``mpiexec``)."""
    return _current


class Session:
    """Every rank of one program: its communicator, the agreement on how it ends.

    Parameters
    ----------
    comm : mpi4py communicator, optional
        Default ``MPI.COMM_WORLD``.

    Attributes
    ----------
    comm : the computation's communicator (pass it to the distributed objects)
    rank, size : int
    """

    def __init__(self, comm=None):
        self.comm = mpi().COMM_WORLD if comm is None else comm
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self._agreement = self.comm.Dup()
        self._stderr = sys.stderr

    @property
    def root(self):
        """Whether this is rank 0, the one that prints and writes outputs."""
        return self.rank == 0

    def quiet(self):
        """Send this rank's stdout and stderr to the null device unless it is rank 0."""
        if not self.root:
            sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115  (for the process' life)

    def finish(self, status, message=None, timeout=AGREE_TIMEOUT):
        """Agree with every rank on the exit status (see the module notes); return it.

        ``message`` is this rank's error line (already printed when this
        is rank 0). A rank with a non-zero status aborts every rank when
        the others do not reach ``finish`` within ``timeout`` seconds.
        """
        records = self._gather(status, message or "", None if status == 0 else timeout)
        if records is None:
            self.abort(status, message)
        failed = [(r, s, m) for r, (s, m) in enumerate(records) if s != 0]
        if not failed:
            return 0
        if self.root:
            self._print_others(failed, message if status else None)
        return failed[0][1]

    def abort(self, status, message):
        """Print ``message`` with this rank's number to the real stderr and end every rank (``MPI_Abort``)."""
        print(
            f"{message or 'numnet: error'} (rank {self.rank} of {self.size}; the other ranks are still "
            f"computing: stopping all of them)",
            file=self._stderr,
            flush=True,
        )
        self.comm.Abort(status or 1)

    def _print_others(self, failed, own):
        seen = {own}
        for rank, _, text in failed:
            if text not in seen:
                seen.add(text)
                print(f"rank {rank} of {self.size}: {text}", file=self._stderr, flush=True)

    def _gather(self, status, message, timeout):
        """Every rank's (status, message), or None when ``timeout`` seconds pass first."""
        MPI = mpi()
        send = np.zeros(_RECORD, np.uint8)
        send[:8] = np.frombuffer(np.int64(status).tobytes(), np.uint8)
        text = message.encode("utf-8")[: _RECORD - 8]
        send[8 : 8 + len(text)] = np.frombuffer(text, np.uint8)
        recv = np.zeros(_RECORD * self.size, np.uint8)
        request = self._agreement.Iallgather([send, MPI.BYTE], [recv, MPI.BYTE])
        if not _wait(request, timeout):
            return None
        rows = recv.reshape(self.size, _RECORD)
        return [
            (
                int(np.frombuffer(row[:8].tobytes(), np.int64)[0]),
                row[8:].tobytes().rstrip(b"\0").decode("utf-8", "replace"),
            )
            for row in rows
        ]


def _wait(request, timeout):
    """Wait for an MPI request; False when ``timeout`` seconds (None: forever) pass first."""
    if timeout is None:
        request.Wait()
        return True
    deadline = time.monotonic() + timeout
    while not request.Test():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True
