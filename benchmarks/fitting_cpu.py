"""Function fitting in CPU seconds: numnet's Levenberg–Marquardt against SciPy ``least_squares`` ("trf", "lm").

The problems, start points and targets of workload 9 (``benchmarks/workloads/fitting.py``: sin(3x) + 0.3x²
with a 1-10-10-1 tanh network, the peaks surface with 2-12-12-1), SciPy driven by numnet's analytic Jacobian
exactly as there, but timed in CPU seconds of this process (``time.process_time``) so that other jobs on a
shared machine do not enter the ratios; one BLAS thread; each contender's best of ``--repeats`` runs per
seed, then the median over seeds 0, 1, 2. Contenders: SciPy "trf" and "lm", numnet LM with its defaults
(dense path, geodesic acceleration), without geodesic acceleration, and on the CG path (one run per seed).

Run: ``.venv/bin/python benchmarks/fitting_cpu.py [--problems sin1d peaks2d] [--repeats 3]``.
"""

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np
import scipy.linalg  # noqa: F401  (every BLAS loaded before threadpool_limits, which limits only those)
from scipy.optimize import least_squares
from threadpoolctl import threadpool_limits

from numnet.curvature import per_sample_output_gradients
from numnet.objective import Objective
from numnet.optim import minimize

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workloads.fitting import PROBLEMS, make_problem  # noqa: E402

SCIPY_CAP_S, NUMNET_CAP_S = 60.0, 20.0


class _Stop(Exception):
    pass


def scipy_seconds(net, X, Y, theta0, method, target):
    """CPU seconds until SciPy's first residual evaluation with ½‖r‖² ≤ target (inf past the cap)."""
    scale, t0, hit = 1 / math.sqrt(X.shape[0]), time.process_time(), []

    def fun(theta):
        r = (net.forward(theta, X)[0] - Y).ravel() * scale
        if 0.5 * float(r @ r) <= target:
            hit.append(time.process_time() - t0)
            raise _Stop
        if time.process_time() - t0 > SCIPY_CAP_S:
            raise _Stop
        return r

    def jac(theta):
        return per_sample_output_gradients(net, theta, X).reshape(-1, net.n_params) * scale

    try:
        least_squares(
            fun, theta0, jac=jac, method=method, ftol=1e-15, xtol=1e-15, gtol=1e-15, max_nfev=10**9
        )
    except _Stop:
        pass
    return (hit[0] if hit else math.inf), None


def numnet_seconds(obj, theta0, target, **options):
    """CPU seconds and iterations until numnet's LM accepts an iterate with loss ≤ target."""
    t0, hit = time.process_time(), []

    def callback(result):
        elapsed = time.process_time() - t0
        if result.fun <= target:
            hit.append((elapsed, result.nit))
            raise StopIteration
        if elapsed > NUMNET_CAP_S:
            raise StopIteration

    minimize(
        obj, theta0, "levenberg-marquardt", callback=callback, max_iter=10**9, gtol=0.0, **options
    )
    return hit[0] if hit else (math.inf, None)


def contenders(net, X, Y, target):
    obj = Objective(net, "squared_error", X, Y)
    return {
        "scipy least_squares(trf)": lambda th: scipy_seconds(net, X, Y, th, "trf", target),
        "scipy least_squares(lm)": lambda th: scipy_seconds(net, X, Y, th, "lm", target),
        "numnet levenberg-marquardt": lambda th: numnet_seconds(obj, th, target),
        "numnet levenberg-marquardt, geodesic=False": lambda th: numnet_seconds(
            obj, th, target, geodesic=False
        ),
        "numnet levenberg-marquardt, solver='cg'": lambda th: numnet_seconds(
            obj, th, target, solver="cg"
        ),
    }


def race(spec, repeats):
    net, X, Y, label = make_problem(spec)
    runs, best, iters = contenders(net, X, Y, spec["target"]), {}, {}
    for rep in range(repeats):
        for seed in (0, 1, 2):
            theta = net.init(seed)
            for name, fn in runs.items():
                if rep and "cg" in name:
                    continue
                seconds, nit = fn(theta)
                best[name, seed] = min(best.get((name, seed), math.inf), seconds)
                iters[name, seed] = nit
    return label, runs, best, iters


def report(spec, label, runs, best, iters):
    median = {name: float(np.median([best[name, s] for s in (0, 1, 2)])) for name in runs}
    scipy = min(median["scipy least_squares(trf)"], median["scipy least_squares(lm)"])
    print(f"\n{label}, target loss {spec['target']:g} (CPU s; iterations)\n")
    print("| contender | seed 0 | seed 1 | seed 2 | median | / best SciPy |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in runs:
        cells = " | ".join(
            f"{best[name, s]:.3f}" + (f" ({iters[name, s]})" if iters[name, s] else "")
            for s in (0, 1, 2)
        )
        print(f"| {name} | {cells} | {median[name]:.3f} | {median[name] / scipy:.3f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problems", nargs="+", default=[p["name"] for p in PROBLEMS])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    with threadpool_limits(1):
        for spec in PROBLEMS:
            if spec["name"] in args.problems:
                report(spec, *race(spec, args.repeats))


if __name__ == "__main__":
    main()
