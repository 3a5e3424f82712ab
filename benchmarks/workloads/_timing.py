"""Timing: warm-up, interleaved rounds, median of repeats, one thread count for all.

Every library in a run uses the same number of threads: NumPy's BLAS is
limited with threadpoolctl and PyTorch with ``torch.set_num_threads``; JAX
uses every core, or one thread when :func:`limit_threads` sets ``XLA_FLAGS``
before JAX is imported (so the runner's default is all cores). Calls of different libraries are timed in blocks
separated by a short pause, so that one library's spinning worker threads
(OpenBLAS and OpenMP both busy-wait after a call) never steal a core from the
next one; the blocks are repeated in rounds so that a change of machine
load affects every implementation alike.
"""

import os
import time
from contextlib import contextmanager

import numpy as np

__all__ = [
    "Settings",
    "limit_threads",
    "threads_limited",
    "current_threads",
    "time_calls",
    "compare",
    "summary",
]

PAUSE_S = 0.15


class Settings:
    """How to time: ``repeats`` timed calls in ``rounds`` rounds after ``warmup`` calls.

    Parameters
    ----------
    repeats : int
        Timed calls per implementation (split over the rounds).
    warmup : int
        Untimed calls per implementation before the first round.
    rounds : int
        Number of interleaved rounds.
    clock : {"wall", "cpu"}
        ``"wall"``: ``time.perf_counter``. ``"cpu"``: process CPU time,
        robust to other processes on a shared machine but only meaningful
        with one thread and libraries that compute in the calling thread.
    quick : bool
        Smaller problems and fewer repeats (a smoke run, not a measurement).
    pause : float
        Seconds of sleep before each block of calls (lets other libraries'
        worker threads go idle).
    """

    def __init__(self, repeats=7, warmup=2, rounds=1, clock="wall", quick=False, pause=PAUSE_S):
        if clock not in ("wall", "cpu"):
            raise ValueError(f"clock must be 'wall' or 'cpu', got {clock!r}")
        if min(repeats, rounds) < 1 or warmup < 0:
            raise ValueError("repeats and rounds must be >= 1 and warmup >= 0")
        self.repeats, self.warmup, self.rounds = int(repeats), int(warmup), int(rounds)
        self.clock, self.quick, self.pause = clock, bool(quick), float(pause)

    def replace(self, **changes):
        """A copy with some fields changed."""
        return Settings(**{**vars(self), **changes})

    def now(self):
        return time.perf_counter() if self.clock == "wall" else time.process_time()


def _load_thread_pools():
    """Import what brings its own thread pool (SciPy's OpenBLAS, scikit-learn's OpenMP, torch)."""
    import scipy.linalg  # noqa: F401
    import sklearn.utils  # noqa: F401

    try:
        import torch  # noqa: F401
    except ImportError:
        pass


def limit_threads(n_threads):
    """Use ``n_threads`` in every BLAS and OpenMP pool, PyTorch and (if imported later) JAX; return the limiter.

    The pools are loaded first: threadpoolctl only limits libraries already
    loaded, and SciPy ships its own OpenBLAS, apart from NumPy's.
    """
    from threadpoolctl import threadpool_limits

    if n_threads == 1:  # XLA has no thread-count flag: one thread, or all cores
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
            " intra_op_parallelism_threads=1"
        ).strip()
    _load_thread_pools()
    limiter = threadpool_limits(limits=n_threads)
    _torch_threads(n_threads)
    return limiter


def _torch_threads(n):
    try:
        import torch
    except ImportError:
        return None
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    return before


def current_threads():
    """Threads of NumPy's BLAS right now."""
    from threadpoolctl import threadpool_info

    found = [i["num_threads"] for i in threadpool_info() if i.get("user_api") == "blas"]
    return found[0] if found else 1


@contextmanager
def threads_limited(n_threads):
    """Every BLAS/OpenMP pool and torch on ``n_threads`` inside the block (JAX keeps its own)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads):
        before = _torch_threads(n_threads)
        try:
            yield
        finally:
            if before is not None:
                _torch_threads(before)


def _block(fn, n, settings):
    times = []
    for _ in range(n):
        t0 = settings.now()
        fn()
        times.append(settings.now() - t0)
    return times


def time_calls(fns, settings):
    """Time each ``fns[name]()``; return ``{name: [seconds, ...]}``.

    Each function is called ``settings.warmup`` times untimed, then
    ``settings.repeats`` times split over ``settings.rounds`` interleaved
    rounds of blocks.
    """
    times = {name: [] for name in fns}
    for fn in fns.values():
        _block(fn, settings.warmup, settings)
    per_round = max(1, -(-settings.repeats // settings.rounds))
    for _ in range(settings.rounds):
        for name, fn in fns.items():
            time.sleep(settings.pause)
            times[name] += _block(fn, per_round, settings)
    return times


def summary(times):
    """Median, min and interquartile range (seconds) of a list of timings."""
    t = np.asarray(times, dtype=float)
    q1, med, q3 = np.percentile(t, [25, 50, 75])
    return {
        "median_s": float(med),
        "min_s": float(t.min()),
        "iqr_s": float(q3 - q1),
        "n": int(t.size),
    }


def compare(fns, settings):
    """``{name: summary}`` of :func:`time_calls`."""
    return {name: summary(t) for name, t in time_calls(fns, settings).items()}
