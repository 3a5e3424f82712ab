"""Multi-start: a local method from a seeded family of starts, in parallel processes.

Notes 000: "if non-convexity is 'bad', use global optimization techniques";
the simplest is to sample the start. Start i is drawn with its own generator
``np.random.default_rng([seed, i])``, so the family does not depend on the
number of processes or on the order in which the runs finish.
"""

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from .._checks import check_int
from ._common import Budget, Collector, check_method, check_target

__all__ = ["multistart", "start_family"]


def start_family(init, n_starts, seed):
    """The starts: ``init(np.random.default_rng([seed, i]))`` for i < n_starts, or the rows of an array."""
    if callable(init):
        return [np.asarray(init(np.random.default_rng([seed, i]))) for i in range(n_starts)]
    starts = np.asarray(init)
    if starts.ndim != 2 or starts.shape[0] != n_starts:
        raise ValueError(
            f"init must be a callable init(rng) or an array of shape (n_starts={n_starts}, "
            f"n_params), got shape {starts.shape}"
        )
    return list(starts)


def _check(n_starts, n_jobs, max_iter):
    check_int(n_starts, "n_starts")
    check_int(n_jobs, "n_jobs")
    check_int(max_iter, "max_iter")


def multistart(
    objective,
    init,
    method="gauss-newton",
    *,
    n_starts=10,
    seed=0,
    n_jobs=1,
    target=None,
    max_iter=100,
    gtol=1e-10,
    ftol=0.0,
    max_time=None,
    **options,
):
    """Minimize from ``n_starts`` seeded starts; the best point and the distribution of final losses.

    Parameters
    ----------
    objective : Objective or FunctionObjective
    init : callable or array_like of shape (n_starts, n_params)
        ``init(rng) -> theta`` (e.g. ``lambda rng: net.init(rng, scheme="normal")``),
        called with ``np.random.default_rng([seed, i])`` for start i; or the starts themselves.
    method : str, default="gauss-newton"
        The local method (any key of :data:`~numnet.optim.METHODS`).
    n_starts : int, default=10
    seed : int, default=0
    n_jobs : int, default=1
        Processes running the starts (forked, each with one BLAS thread).
        Independent starts are the textbook parallel work: on c free cores
        the wall time falls up to c-fold; with 1 the runs are sequential.
    target : float, optional
        The strategy is done at the first start (in start order) whose run
        reaches J ≤ target: later starts are not used (in parallel, the
        ones already running are discarded), so the result is the same for
        every ``n_jobs``.
    max_iter, gtol, ftol : int, float, float
        ``minimize``'s limits for each run.
    max_time : float, optional
        Seconds for each run.
    **options
        Options of the local method (checked before any evaluation).

    Returns
    -------
    GlobalResult
        ``finals`` holds the final loss of every start used (in start
        order).
    """
    _check(n_starts, n_jobs, max_iter)
    budget = Budget(max_iter * n_starts, None, check_target(target))
    check_method(method, options)
    starts = start_family(init, n_starts, seed)
    job = (objective, method, options, max_iter, gtol, ftol, max_time)
    results = _run_all(job, starts, n_jobs, budget.target)
    collect = Collector(budget)
    for res in results:
        collect.add(res)
        if budget.reached(res.fun):
            return collect.result("target", seed)
    return collect.result("done", seed)


def _one(job, x0):
    from ..driver import minimize

    objective, method, options, max_iter, gtol, ftol, max_time = job
    return minimize(
        objective, x0, method, max_iter=max_iter, gtol=gtol, ftol=ftol, max_time=max_time, **options
    )


def _run_all(job, starts, n_jobs, target):
    """The runs in start order, up to the first one reaching the target."""
    if n_jobs == 1 or len(starts) == 1:
        out = []
        for x0 in starts:
            out.append(_one(job, x0))
            if target is not None and out[-1].fun <= target:
                break
        return out
    return _parallel(job, starts, n_jobs, target)


_JOB = None


def _worker_init(job):
    global _JOB
    from threadpoolctl import threadpool_limits

    _JOB = job
    threadpool_limits(limits=1)


def _worker_run(x0):
    return _one(_JOB, x0)


def _parallel(job, starts, n_jobs, target):
    """Forked workers (the objective is inherited, not pickled); results in start order."""
    context = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else None
    )
    with ProcessPoolExecutor(
        min(n_jobs, len(starts)), mp_context=context, initializer=_worker_init, initargs=(job,)
    ) as pool:
        futures = [pool.submit(_worker_run, x0) for x0 in starts]
        out = []
        for fut in futures:
            out.append(fut.result())
            if target is not None and out[-1].fun <= target:
                for rest in futures:
                    rest.cancel()
                break
    return out
