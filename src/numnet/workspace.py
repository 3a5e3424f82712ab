"""Scratch memory that products reuse: named buffers (:class:`Workspace`) and a pool of them.

Every product of a network (gradient, Hessian-vector, Gauss-Newton) needs
arrays the size of each layer's activations: pre-activations, σ′, tangents,
cotangents. Allocated afresh on every call, they come from new memory maps
that the kernel fills page by page: thousands of page faults per gradient of
a 784-1024-1024-10 network, 5–15% of its time with glibc's default allocator
(see :mod:`numnet.malloc`). A :class:`Workspace` hands out the same array
again for every request of the same name, shape and dtype, so a product
written into it allocates nothing large.

An :class:`~numnet.objective.Objective` keeps two :class:`WorkspacePool` s:
one lends each linearization a workspace for its lifetime (forward pass,
kept cotangents), the other lends each Hessian or Gauss-Newton product one
for the call (tangents, R-cotangents). A workspace is lent again only when
its borrower is gone *and* no array of it is referenced from anywhere else
(its reference counts say so), so an array that a caller still holds —
``lin.F``, a layer cache, a view of either — is never overwritten. Results
handed to callers (gradients, products) are never workspace arrays.

The price is memory: a pool keeps its workspaces, and so the peak scratch
memory of its products, for the life of the objective (about what one call
used to allocate and free again).
"""

import sys
import threading
import weakref

import numpy as np

__all__ = ["Workspace", "WorkspacePool", "buffer"]


class Workspace:
    """Named arrays, allocated on the first request and reused by every later one.

    Notes
    -----
    A request with another shape or dtype than the stored array replaces it
    (the old array is dropped, never written again). ``scope(key)`` is a
    nested workspace (one per layer or per pass), made once and kept, so
    that names need only be unique within a scope.
    """

    __slots__ = ("_arrays", "_scopes", "_stores", "_borrower", "__weakref__")

    def __init__(self, stores=None):
        self._arrays, self._scopes, self._borrower = {}, {}, None
        self._stores = (
            [] if stores is None else stores
        )  # the _arrays of every scope, shared with the root
        self._stores.append(self._arrays)

    def __repr__(self):
        return f"Workspace({len(self._arrays)} arrays, {len(self._scopes)} scopes, {self.nbytes / 2**20:.1f} MiB)"

    @property
    def nbytes(self):
        """Bytes held by the arrays of this workspace and of its scopes."""
        return sum(a.nbytes for a in self._arrays.values()) + sum(
            w.nbytes for w in self._scopes.values()
        )

    def scope(self, key):
        """The nested workspace ``key`` (made on first use)."""
        ws = self._scopes.get(key)
        if ws is None:
            ws = self._scopes[key] = Workspace(self._stores)
        return ws

    def array(self, name, shape, dtype):
        """The array called ``name``, of ``shape`` and ``dtype`` (contents undefined)."""
        a = self._arrays.get(name)
        if a is None or a.shape != shape or a.dtype != dtype:
            a = self._arrays[name] = np.empty(shape, dtype)
        return a


def buffer(ws, name, like):
    """``ws.array(name, like.shape, like.dtype)``, or None when ``ws`` is None (then NumPy allocates)."""
    return None if ws is None else ws.array(name, like.shape, like.dtype)


def _shared(ws, limit):
    """True when an array of ``ws`` or of its scopes has more than ``limit`` references (counted here)."""
    for arrays in ws._stores:
        for a in arrays.values():
            if sys.getrefcount(a) > limit:
                return True
    return False


def _unshared_limit():
    """References that an array held only by its workspace has, as :func:`_shared` counts them."""
    if not hasattr(sys, "getrefcount"):
        return None
    ws = Workspace()
    ws.array("a", (1,), np.float64)
    return next(n for n in range(1, 64) if not _shared(ws, n))


_UNSHARED = _unshared_limit()


def _idle(ws):
    """True when nobody borrows ``ws`` and no array of it is referenced outside it."""
    borrower = ws._borrower
    if borrower is not None and borrower() is not None:
        return False
    return _UNSHARED is not None and not _shared(ws, _UNSHARED)


class _Loan:
    """The borrower of :meth:`WorkspacePool.lend` (a ``with`` block)."""

    __slots__ = ("pool", "__weakref__")

    def __init__(self, pool):
        self.pool = pool

    def __enter__(self):
        return self.pool.acquire(self)

    def __exit__(self, *exc):
        return False  # the workspace is free again once this loan object is gone


class WorkspacePool:
    """Up to ``size`` workspaces, each lent to one borrower at a time.

    Parameters
    ----------
    size : int, default=2
        Workspaces kept. When all are busy, :meth:`acquire` returns a new
        workspace that the pool does not keep (freed with its borrower).
        Two cover the usual pattern of a new linearization made while the
        previous one is still referenced.

    Notes
    -----
    Thread-safe: acquiring is done under a lock. A pool is a cache: copying
    or pickling it gives an empty pool.
    """

    def __init__(self, size=2):
        self.size = int(size)
        self._spaces = []
        self._lock = threading.Lock()

    def __repr__(self):
        return f"WorkspacePool(size={self.size}, kept={len(self._spaces)})"

    def __reduce__(self):
        return (WorkspacePool, (self.size,))

    def acquire(self, borrower):
        """A workspace lent to ``borrower`` (any weak-referenceable object) until it is garbage."""
        with self._lock:
            for ws in self._spaces:
                if _idle(ws):
                    break
            else:
                ws = Workspace()
                if len(self._spaces) < self.size:
                    self._spaces.append(ws)
            ws._borrower = weakref.ref(borrower)
            return ws

    def lend(self):
        """``with pool.lend() as ws:`` a workspace for the block (arrays referenced after it keep it busy)."""
        return _Loan(self)
