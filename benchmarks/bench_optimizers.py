"""First- against second-order optimizers on the peaks single-layer problem (notes 000).

Peaks data (5 classes, 80/20 training/validation split), the network
Sequential([Dense(2, m, "tanh"), Dense(m, 5)]) with softmax cross-entropy and
weight decay ½α‖W‖² on the weights, one random start shared by every method.
Each method runs under the same wall-time and iteration budget; a callback
records the validation accuracy after every iteration (epoch for SGD/Adam).
Prints a Markdown table (final training loss, accuracies, iterations, time,
evaluations, and the time each method first reached the loss target) and,
with ``--out``, writes loss and accuracy against time and iterations as a PNG.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_optimizers.py --max-time 10 --out bench_optimizers.png

(One BLAS thread: these matrices are small, and on a shared machine
multi-threaded BLAS spends most of its time waiting.)
"""

import argparse
import time

import numpy as np

from numnet.experiments.single_layer_peaks import accuracy, peaks_problem
from numnet.optim import METHODS, minimize

#: label: (method, options). SGD/Adam: mini-batches of 32, step sizes tuned by hand on this problem;
#: Newton-type methods: at most 20 CG products per step.
RUNS = {
    "sgd": ("sgd", {"learning_rate": 0.05, "momentum": 0.9, "batch_size": 32}),
    "adam": ("adam", {"learning_rate": 0.01, "batch_size": 32}),
    "lbfgs": ("lbfgs", {}),
    "newton-cg": ("newton-cg", {"max_cg": 20}),
    "gauss-newton": ("gauss-newton", {"max_cg": 20}),
    "block-gauss-newton": ("block-gauss-newton", {"max_cg": 20}),
    "varpro": ("varpro", {"max_cg": 20}),
    "varpro-schur": ("varpro", {"max_cg": 20, "curvature": "schur"}),
    "levenberg-marquardt": ("levenberg-marquardt", {"max_cg": 20}),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", default=",".join(RUNS),
                   help="comma-separated labels of RUNS or method names (default: all of RUNS)")
    p.add_argument("--n-samples", type=int, default=1000, help="peaks points (default: 1000)")
    p.add_argument("--n-hidden", type=int, default=32, help="hidden width m (default: 32)")
    p.add_argument("--alpha", type=float, default=1e-4, help="weight decay (default: 1e-4)")
    p.add_argument("--max-iter", type=int, default=100_000, help="iterations/epochs per method (default: 100000)")
    p.add_argument("--max-time", type=float, default=10.0, help="seconds per method (default: 10)")
    p.add_argument("--target", type=float, default=0.2,
                   help="training-loss target of the time-to-target column (default: 0.2)")
    p.add_argument("--seed", type=int, default=0, help="data split and initialization seed (default: 0)")
    p.add_argument("--out", default=None, help="write the figure to this PNG file")
    return p.parse_args(argv)


def run_method(prob, theta0, label, max_iter, max_time):
    """One run; the history records carry the validation accuracy after each iteration."""
    method, options = RUNS.get(label, (label, {}))
    return minimize(prob.train, theta0, method, max_iter=max_iter, max_time=max_time, gtol=1e-8,
                    callback=lambda r: {"accuracy": accuracy(prob.val, r.x)}, **options)


def _curve(res, key, start):
    return np.array([start] + [h[key] for h in res.history])


def summarize(prob, theta0, runs, target):
    """One Markdown row per method."""
    f0 = prob.train.value(theta0)
    head = ("| method | loss | train acc | val acc | iterations | time (s) | nfev | ngev | nhvp "
            f"| time to loss ≤ {target:.4f} (s) |\n|---|---|---|---|---|---|---|---|---|---|")
    rows = [head]
    for m, res in runs.items():
        loss, t = _curve(res, "fun", f0), _curve(res, "time", 0.0)
        hit = np.flatnonzero(loss <= target)
        reach = f"{t[hit[0]]:.2f}" if hit.size else "—"
        rows.append(f"| {m} | {res.fun:.4f} | {accuracy(prob.train, res.x):.3f} | {accuracy(prob.val, res.x):.3f} "
                    f"| {res.nit} | {t[-1]:.2f} | {res.nfev} | {res.ngev} | {res.nhvp} | {reach} |")
    return "\n".join(rows)


def figure(prob, theta0, runs, path):
    from numnet.plots import new_figure, save_figure

    fig, axes = new_figure(2, 2, width=4.2, height=3.0)
    f0, a0 = prob.train.value(theta0), accuracy(prob.val, theta0)
    for m, res in runs.items():
        loss, acc, t = _curve(res, "fun", f0), _curve(res, "accuracy", a0), _curve(res, "time", 0.0)
        it = np.arange(loss.size)
        axes[0, 0].semilogy(np.maximum(t, 1e-3), loss, label=m)
        axes[0, 1].semilogy(it, loss, label=m)
        axes[1, 0].plot(np.maximum(t, 1e-3), acc, label=m)
        axes[1, 1].plot(it, acc, label=m)
    labels = [(x, y) for y in ("training loss", "validation accuracy")
              for x in ("time (s)", "iteration (SGD/Adam: epoch)")]
    for ax, (x, y) in zip(axes.ravel(), labels):
        ax.set(xlabel=x, ylabel=y)
        if x.startswith("time"):
            ax.set_xscale("log")
        else:
            ax.set_xscale("symlog", linthresh=10)
    axes[0, 0].legend(fontsize=7)
    return save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in RUNS and m not in METHODS]
    if unknown:
        raise SystemExit(f"unknown methods {unknown}; available: {sorted(METHODS)}")
    prob = peaks_problem(n_samples=args.n_samples, n_hidden=args.n_hidden, alpha=args.alpha, seed=args.seed)
    theta0 = prob.net.init(args.seed)
    runs = {}
    for m in methods:
        t0 = time.perf_counter()
        runs[m] = run_method(prob, theta0, m, args.max_iter, args.max_time)
        print(f"# {m}: {runs[m].status.name} after {time.perf_counter() - t0:.1f} s", flush=True)
    target = args.target
    print(f"\npeaks: n_train={prob.train.n_samples}, n_val={prob.val.n_samples}, m={args.n_hidden}, "
          f"alpha={args.alpha}, budget {args.max_time:g} s / {args.max_iter} iterations per method\n")
    print(summarize(prob, theta0, runs, target))
    if args.out:
        print(f"\nfigure: {figure(prob, theta0, runs, args.out)}")


if __name__ == "__main__":
    main()
