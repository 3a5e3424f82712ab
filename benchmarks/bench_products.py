"""Cost of gradient, Hessian-vector and Gauss-Newton products relative to each other.

A 784-1024-1024-10 tanh network with softmax cross-entropy on a batch of 512
random samples (the shape of an MNIST mini-batch; the data do not change the
cost). Each product is timed ``--repeats`` times (interleaved) after one
warm-up call and the median is reported, in seconds and relative to
``value_and_grad``.

    python benchmarks/bench_products.py --dtype both --repeats 5
"""

import argparse
import time

import numpy as np

from numnet.layers import Dense
from numnet.malloc import tune_malloc
from numnet.network import Sequential
from numnet.objective import Objective

WIDTHS = (784, 1024, 1024, 10)


def build(dtype, batch, seed):
    """The objective, a parameter vector and a direction, all in ``dtype``."""
    rng = np.random.default_rng(seed)
    acts = ["tanh"] * (len(WIDTHS) - 2) + ["identity"]
    net = Sequential([Dense(a, b, f) for a, b, f in zip(WIDTHS, WIDTHS[1:], acts)])
    X = rng.standard_normal((batch, WIDTHS[0])).astype(dtype)
    y = rng.integers(0, WIDTHS[-1], batch)
    theta = net.init(rng, dtype=dtype)
    v = rng.standard_normal(net.n_params).astype(dtype)
    return Objective(net, "cross_entropy", X, y), theta, v


def _time(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def median_times(fns, repeats):
    """Median wall time of each ``fns[name]()`` after one warm-up call each.

    The repeats are interleaved (round-robin over the products), so a change
    of machine load during the run affects every product alike.
    """
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(_time(fn))
    return {name: float(np.median(t)) for name, t in times.items()}


def products(obj, theta, v):
    """The timed calls, by name; ``lin`` products reuse one linearization."""
    lin = obj.at(theta)
    return {
        "value (forward only)": lambda: obj.value(theta),
        "value_and_grad": lambda: obj.value_and_grad(theta),
        "hvp, fresh (obj.hvp)": lambda: obj.hvp(theta, v),
        "gnvp, fresh (obj.gnvp)": lambda: obj.gnvp(theta, v),
        "linearize (obj.at)": lambda: obj.at(theta),
        "hvp via one Linearization": lambda: lin.hvp(v),
        "gnvp via one Linearization": lambda: lin.gnvp(v),
    }


def run(dtype, batch, repeats, seed):
    obj, theta, v = build(dtype, batch, seed)
    times = median_times(products(obj, theta, v), repeats)
    base = times["value_and_grad"]
    print(f"\n{np.dtype(dtype).name}: {'-'.join(map(str, WIDTHS))} tanh, softmax CE, "
          f"batch {batch}, p = {obj.n_params}, median of {repeats}")
    print(f"{'product':<28} {'seconds':>9} {'x value_and_grad':>17}")
    for name, t in times.items():
        print(f"{name:<28} {t:9.4f} {t / base:17.2f}")
    return times


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", choices=["float32", "float64", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per product (median)")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-tune-malloc", dest="tune_malloc", action="store_false",
                        help="keep glibc's default allocator thresholds (see numnet.tune_malloc)")
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.batch < 1:
        parser.error("--repeats and --batch must be positive")
    if args.tune_malloc:
        tune_malloc()
    dtypes = ["float32", "float64"] if args.dtype == "both" else [args.dtype]
    for dtype in dtypes:
        run(dtype, args.batch, args.repeats, args.seed)


if __name__ == "__main__":
    main()
