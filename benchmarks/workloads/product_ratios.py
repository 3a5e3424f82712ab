"""Workload 11: numnet's products against a hand-written NumPy gradient, with and without ``tune_malloc``.

On workload 1's network (784-1024-1024-10 tanh, softmax cross-entropy,
batch 512) the same process times, in interleaved rounds: the
preallocated reference value-and-gradient of :mod:`reference`, numnet's
``obj.value_and_grad``, ``obj.hvp``, ``lin.hvp``, ``obj.gnvp`` and
``lin.gnvp`` (``lin = obj.at(theta)`` with its gradient taken), and the
two pieces a product is made of: the forward pass alone (``obj.value``)
and a linearization (``obj.at``, forward pass kept; the rows the former
``benchmarks/bench_products.py`` added). Each row is reported as a
multiple of numnet's gradient; the issue's goals are
value-and-gradient ≤ 1.05× the reference, HVP ≤ 2.4×, linearized HVP ≤ 1.7×
and Gauss-Newton product ≤ 1.6× the gradient.

glibc's allocator settings belong to a whole process and cannot be undone,
so each setting runs in a fresh child process: one with glibc's default
thresholds (what a library user gets) and one after
``numnet.tune_malloc()``, both at the run's thread count, whatever the
runner itself chose.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from ._gemms import PRODUCTS, flops, gemms

__all__ = ["run", "NAME", "measure", "IMPLS"]

NAME = "product_ratios"
BENCH = Path(__file__).resolve().parent.parent
REFERENCE = "reference (hand-written NumPy, preallocated)"
GRAD = "numnet obj.value_and_grad"
IMPLS = (
    REFERENCE,
    GRAD,
    "numnet obj.hvp",
    "numnet lin.hvp (linearized)",
    "numnet obj.gnvp",
    "numnet lin.gnvp (linearized)",
    "numnet obj.value (forward only)",
    "numnet obj.at (linearize)",
)
_CHILD = (
    "import json, sys; sys.path.insert(0, sys.argv[1]); from workloads.product_ratios import measure; "
    "print('RESULT ' + json.dumps(measure(json.loads(sys.argv[2]))))"
)


def _impls(p, ref):
    obj, theta, v = p.obj, p.theta, p.v
    lin = obj.at(theta)
    lin.grad  # noqa: B018  (a Newton-CG iteration has the gradient before its products)
    fns = (
        lambda: ref.value_and_grad(theta),
        lambda: obj.value_and_grad(theta),
        lambda: obj.hvp(theta, v),
        lambda: lin.hvp(v),
        lambda: obj.gnvp(theta, v),
        lambda: lin.gnvp(v),
        lambda: obj.value(theta),
        lambda: obj.at(theta),
    )
    return dict(zip(IMPLS, fns))


def _agreement(p, ref):
    value, grad = p.obj.value_and_grad(p.theta)
    ref_value, ref_grad = ref.value_and_grad(p.theta)
    g, r = np.asarray(grad, np.float64), np.asarray(ref_grad, np.float64)
    return {
        "grad vs reference": float(np.linalg.norm(g - r) / np.linalg.norm(r)),
        "value vs reference": abs(value - ref_value) / abs(ref_value),
    }


def measure(spec):
    """In this process: time every implementation; ``spec`` has dtype, threads, tune, quick and the settings."""
    from numnet.malloc import tune_malloc

    tuned = tune_malloc() if spec["tune"] else False
    import scipy.linalg  # noqa: F401  (SciPy's own OpenBLAS, limited below with NumPy's)
    from threadpoolctl import threadpool_limits

    from ._mlp import FULL, QUICK, make_problem
    from ._timing import Settings, compare
    from .reference import ReferenceMLP

    limiter = threadpool_limits(limits=spec["threads"])  # noqa: F841  (kept alive while timing)
    p = make_problem(QUICK if spec["quick"] else FULL, spec["dtype"])
    ref = ReferenceMLP(p.widths, p.X, p.y, p.dtype)
    stats = compare(_impls(p, ref), Settings(**spec["settings"]))
    return {
        "label": p.label,
        "widths": p.widths,
        "batch": p.batch,
        "malloc_tuned": tuned,
        "agreement": _agreement(p, ref),
        "stats": stats,
    }


def _child(spec):
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(BENCH), json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"product_ratios child failed:\n{out.stderr[-2000:]}")
    line = next(x for x in reversed(out.stdout.splitlines()) if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


def _case(dtype, tune, settings, threads):
    spec = {
        "dtype": dtype,
        "threads": threads,
        "tune": tune,
        "quick": settings.quick,
        "settings": vars(settings).copy(),
    }
    res = _child(spec)
    grad_s = res["stats"][GRAD]["median_s"]
    rows = [
        dict(impl=k, role="peer" if k == REFERENCE else "numnet", **s)
        for k, s in res["stats"].items()
    ]
    ref_s = res["stats"][REFERENCE]["median_s"]
    gf = {k: flops(gemms(res["widths"], res["batch"], k)) / 1e9 for k in PRODUCTS}
    malloc = "after numnet.tune_malloc()" if res["malloc_tuned"] else "glibc default allocator"
    return {
        "workload": NAME,
        "dtype": dtype,
        "threads": threads,
        "malloc_tuned": bool(res["malloc_tuned"]),
        "problem": f"{res['label']}, {threads} thread{'s' if threads > 1 else ''}, {malloc} (fresh process)",
        "main": GRAD,
        "ratio": "this / main",
        "rows": rows,
        "agreement": res["agreement"],
        "gflop": gf,
        "notes": [
            f"value-and-gradient / reference: **{grad_s / ref_s:.2f}×**",
            "Matrix-product FLOPs as a multiple of the gradient's (the ratio at equal BLAS efficiency): "
            + ", ".join(f"{k} {v / gf['grad']:.2f}×" for k, v in gf.items() if k != "grad"),
        ],
    }


def run(settings, dtypes):
    """One case per dtype and allocator setting (default first), each measured in its own child process."""
    from ._timing import current_threads

    threads = current_threads()
    return [
        _case(np.dtype(d).name, tune, settings, threads) for d in dtypes for tune in (False, True)
    ]
