"""Keep freed array memory in the process for reuse (glibc's allocator thresholds).

numnet's own products no longer need this: an
:class:`~numnet.objective.Objective` reuses workspace buffers
(:mod:`numnet.workspace`) for the pre-activations, σ′, tangents and
cotangents of its gradients, Hessian-vector and Gauss-Newton products, so
repeated products allocate nothing large and touch no fresh pages with
glibc's default allocator (``benchmarks/workloads/product_ratios.py``
measures them without any tuning). What still allocates afresh per call is
outside those products — the arrays a program itself makes and frees
between calls, SciPy's and scikit-learn's temporaries, a new
linearization's result vectors. With glibc's default, dynamic thresholds
the top of the heap is given back to the operating system after a large
free, and the next allocation touches fresh pages again (before the
workspaces, 7,700 page faults per gradient of a 784-1024-1024-10 network,
10–20% of its CPU time on the benchmark machine, a 2-core virtual machine).

:func:`tune_malloc` fixes both thresholds, as the environment variables
``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` would, so that
blocks up to ``mmap_threshold`` come from the heap and freed memory stays
mapped until ``trim_threshold`` of it is free. The process then keeps its peak
heap size instead of returning memory between calls. It changes the allocator
of the whole process, so numnet never calls it on import: the ``numnet``
command and ``make bench`` call it for their own processes, and a program
that allocates large arrays of its own between numnet calls may call it
once at start.
"""

import ctypes
import sys

from ._validation import check_int

__all__ = ["tune_malloc", "MMAP_THRESHOLD", "TRIM_THRESHOLD"]

MMAP_THRESHOLD = 64 * 2**20
"""Default: blocks below 64 MiB come from the heap (glibc's own maximum is 32 MiB unless set)."""
TRIM_THRESHOLD = 2**30
"""Default: freed heap memory is returned to the OS only when 1 GiB of it is free at the top."""

_M_TRIM_THRESHOLD = -1  # glibc's <malloc.h> parameter numbers
_M_MMAP_THRESHOLD = -3


def _glibc():
    """The C library when it is glibc (it has ``mallopt``), else None (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "gnu_get_libc_version") else None


def tune_malloc(mmap_threshold=MMAP_THRESHOLD, trim_threshold=TRIM_THRESHOLD):
    """Set glibc's ``M_MMAP_THRESHOLD`` and ``M_TRIM_THRESHOLD`` for this process.

    Parameters
    ----------
    mmap_threshold : int, default=64 MiB
        Allocations of at least this many bytes get their own memory map
        (returned to the OS when freed); smaller ones come from the heap.
    trim_threshold : int, default=1 GiB
        Free memory at the top of the heap is returned to the OS once it
        exceeds this many bytes.

    Returns
    -------
    bool
        True when glibc accepted both settings; False where the C library is
        not glibc (nothing is changed) or glibc refused a value.

    Notes
    -----
    Setting either threshold turns off glibc's dynamic adjustment of both,
    which is why both are set together.
    """
    mmap_threshold = check_int(mmap_threshold, "mmap_threshold", minimum=0)
    trim_threshold = check_int(trim_threshold, "trim_threshold", minimum=0)
    libc = _glibc()
    if libc is None:
        return False
    return bool(
        libc.mallopt(_M_MMAP_THRESHOLD, ctypes.c_int(min(mmap_threshold, 2**31 - 1)))
        and libc.mallopt(_M_TRIM_THRESHOLD, ctypes.c_int(min(trim_threshold, 2**31 - 1)))
    )
