"""Where the dense Gauss-Newton path stops paying: Levenberg–Marquardt, dense vs CG, per iteration and to a loss.

For 1-h-h-k tanh networks (p = h² + (3 + k)h + k parameters) fitted to
sin((j + 3)x) + 0.3x², j < k (k = ``--outputs``, default 1), on n points
of [−2, 2] with squared error, from the same start:

- ``solver="dense"`` runs ``--iters`` iterations; its seconds per iteration
  and the loss L it reaches are recorded;
- ``solver="cg"`` (default options: at most 50 Gauss-Newton products per
  solve, forcing tolerance min(0.5, ‖g‖^½)) runs until its loss is ≤ L, or
  for at most ``--cap`` times the dense run's time; its seconds per
  iteration, products per accepted iteration (rejected trials solve too)
  and seconds to L are recorded.

Times are CPU seconds (``time.process_time``: the machine may be shared),
the best of ``--repeats`` runs, one BLAS thread. Early CG solves stop after
a few products (the forcing tolerance is loose while ‖g‖ is large), so a CG
iteration can be cheaper than a dense one and still lose: "dense / CG to L"
is the ratio that decides. The default ``dense_max_params`` (``DENSE_MAX_PARAMS``) of
:mod:`numnet.optim.linear_solver` is read off this table.

Run: ``.venv/bin/python benchmarks/dense_threshold.py`` (``--widths``,
``--samples``, ``--iters``, ``--repeats``, ``--cap`` change the grid).
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from numnet.layers import Dense
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.optim import minimize


def problem(h, n, k=1):
    """1-h-h-k tanh network, targets sin((j + 3) x) + 0.3x² for the outputs j = 0 … k − 1."""
    net = Sequential([Dense(1, h, "tanh"), Dense(h, h, "tanh"), Dense(h, k)])
    X = np.linspace(-2.0, 2.0, n)[:, None]
    return Objective(
        net, "squared_error", X, np.sin((np.arange(k) + 3) * X) + 0.3 * X**2
    ), net.init(0)


def dense_run(obj, theta, iters):
    t0 = time.process_time()
    res = minimize(obj, theta, "levenberg-marquardt", solver="dense", max_iter=iters, gtol=0.0)
    return time.process_time() - t0, res


def cg_run(obj, theta, target, cap):
    """CPU seconds until the loss is ≤ target (inf when the cap comes first), and the run."""
    t0, reached = time.process_time(), []

    def stop(result):
        elapsed = time.process_time() - t0
        if result.fun <= target:
            reached.append(elapsed)
        if reached or elapsed > cap:
            raise StopIteration

    res = minimize(
        obj, theta, "levenberg-marquardt", solver="cg", max_iter=10**6, gtol=0.0, callback=stop
    )
    return (reached[0] if reached else np.inf), time.process_time() - t0, res


def measure(obj, theta, iters, repeats, cap):
    best = {"dense": np.inf, "dense_iter": np.inf, "cg": np.inf, "cg_iter": np.inf}
    for _ in range(repeats):
        seconds, dres = dense_run(obj, theta, iters)
        best["dense"], best["dense_iter"] = (
            min(best["dense"], seconds),
            min(best["dense_iter"], seconds / dres.nit),
        )
        to_target, total, cres = cg_run(obj, theta, dres.fun, cap * seconds)
        best["cg"], best["cg_iter"] = (
            min(best["cg"], to_target),
            min(best["cg_iter"], total / cres.nit),
        )
        best["loss"], best["products"], best["cg_nit"] = dres.fun, cres.nhvp / cres.nit, cres.nit
    return best


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="+", default=[5, 10, 15, 20, 25, 30, 40])
    parser.add_argument("--samples", type=int, nargs="+", default=[200, 1000, 5000])
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--cap", type=float, default=10.0)
    parser.add_argument(
        "--outputs", type=int, default=1, help="network outputs k (the matrix costs n·k·p²)"
    )
    args = parser.parse_args(argv)
    print(
        f"| n | p | k·p | dense ms/iter | CG ms/iter | CG products/iter | loss after {args.iters} dense iterations "
        "| dense s | CG s to that loss (iterations) | dense / CG to the loss |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with threadpool_limits(1):
        for n in args.samples:
            for h in args.widths:
                obj, theta = problem(h, n, args.outputs)
                minimize(obj, theta, "levenberg-marquardt", max_iter=2)  # warm-up
                m = measure(obj, theta, args.iters, args.repeats, args.cap)
                reached = np.isfinite(m["cg"])
                cg = (
                    f"{m['cg']:.3f} ({m['cg_nit']})"
                    if reached
                    else f"not in {args.cap:g}× ({m['cg_nit']})"
                )
                ratio = f"{m['dense'] / m['cg']:.2f}" if reached else f"< {1 / args.cap:.2f}"
                print(
                    f"| {n} | {obj.n_params} | {args.outputs * obj.n_params} | {1e3 * m['dense_iter']:.2f} "
                    f"| {1e3 * m['cg_iter']:.2f} | {m['products']:.1f} | {m['loss']:.2e} | {m['dense']:.3f} | {cg} "
                    f"| {ratio} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()
