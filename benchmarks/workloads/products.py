"""Workloads 1–4: gradient, Hessian-vector and Gauss-Newton products, and their share of the matmul limit.

The products of a 784-1024-1024-10 tanh network with softmax cross-entropy
on a batch of 512 (:mod:`_mlp`), in numnet and in every available peer,
timed in the same interleaved rounds. numnet's "fresh" calls
(``obj.value_and_grad``, ``obj.hvp``, ``obj.gnvp``) include the forward
pass, as the peers' do; the "linearized" calls (``lin.hvp``, ``lin.gnvp``
on ``lin = obj.at(theta)`` after ``lin.grad``) are the cost of each further
product in a CG or Lanczos solve. Each case also records how far numnet's
result is from PyTorch's (relative 2-norm difference).
"""

import numpy as np

from . import _jax, _torch
from ._gemms import PRODUCTS, flops, gemms, operands
from ._mlp import FULL, QUICK, TorchNet, make_problem
from ._timing import compare

__all__ = ["run", "NAME"]

NAME = "products"


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _numnet(p):
    obj, theta, v = p.obj, p.theta, p.v
    lin = obj.at(theta)
    lin.grad  # noqa: B018  (a Newton-CG iteration has the gradient before its products)
    return {
        "grad": {"numnet obj.value_and_grad": lambda: obj.value_and_grad(theta)},
        "hvp": {
            "numnet obj.hvp": lambda: obj.hvp(theta, v),
            "numnet lin.hvp (linearized)": lambda: lin.hvp(v),
        },
        "gnvp": {
            "numnet obj.gnvp": lambda: obj.gnvp(theta, v),
            "numnet lin.gnvp (linearized)": lambda: lin.gnvp(v),
        },
    }


def _torch_peers(p):
    t = TorchNet(p)
    return t, {
        "grad": {
            "torch eager loss.backward": _torch.grad_eager(t),
            "torch.func grad": _torch.grad_func(t),
        },
        "hvp": {
            "torch.func jvp(grad)": _torch.hvp_func(t),
            "torch double backward": _torch.hvp_double_backward(t),
            "torch double backward, graph kept": _torch.hvp_kept_graph(t),
        },
        "gnvp": {"torch.func jvp + vjp": _torch.gnvp_func(t)},
    }


def _jax_peers(p):
    if not _jax.available():
        return None, {}
    j = _jax.JaxNet(p)
    return j, {
        "grad": {"jax jit value_and_grad": j.value_and_grad},
        "hvp": {"jax jit jvp(grad)": j.hvp},
        "gnvp": {"jax jit jvp + vjp": j.gnvp},
    }


def _agreement(p, t, j):
    """Relative differences between numnet's products and the peers' (float64 ones test numnet)."""
    lin = p.obj.at(p.theta)
    ours = {"grad": lin.grad, "hvp": lin.hvp(p.v), "gnvp": lin.gnvp(p.v)}
    out = {
        "grad vs torch": _rel(ours["grad"], t.flat(_torch.grad_eager(t)())),
        "hvp vs torch": _rel(ours["hvp"], t.flat(_torch.hvp_func(t)())),
        "gnvp vs torch": _rel(ours["gnvp"], t.flat(_torch.gnvp_func(t)())),
    }
    if j is not None:
        for name, fn in (("grad", j.value_and_grad), ("hvp", j.hvp), ("gnvp", j.gnvp)):
            out[f"{name} vs jax"] = _rel(ours[name], j.flat(fn()))
    return out


def _shape_times(p, settings, lib):
    """Seconds of the fastest call of ``np.matmul`` (or ``torch.matmul``) for every shape of every product."""
    shapes, rng, fns = set(), np.random.default_rng(1), {}
    for product in PRODUCTS:
        shapes |= set(gemms(p.widths, p.batch, product))
    for shape in sorted(shapes):
        A, B = operands(shape, p.dtype, rng)
        if lib == "torch":
            import torch

            A, B = torch.from_numpy(A), torch.from_numpy(B)
        fns[shape] = lambda A=A, B=B: A @ B
    return {s: v["min_s"] for s, v in compare(fns, settings).items()}


def _matmul_times(p, settings):
    """Per-shape limits for both libraries, measured before and after the products: the faster of the two.

    Taking the faster of two measurements apart in time keeps a passing
    spike of machine load out of the limit.
    """
    first = {lib: _shape_times(p, settings, lib) for lib in ("numpy", "torch")}
    yield first
    second = {lib: _shape_times(p, settings, lib) for lib in ("numpy", "torch")}
    yield {lib: {s: min(first[lib][s], second[lib][s]) for s in first[lib]} for lib in first}


def _limit(p, product, shape_times):
    return sum(shape_times[s] * c for s, c in gemms(p.widths, p.batch, product).items())


def _case(workload, p, impls, settings, main, product):
    stats = compare(impls, settings)
    gf = flops(gemms(p.widths, p.batch, product))
    rows = [
        dict(
            impl=name,
            role="numnet" if name.startswith("numnet") else "peer",
            gflops_per_s=gf / s["median_s"] / 1e9,
            **s,
        )
        for name, s in stats.items()
    ]
    return {
        "workload": workload,
        "dtype": p.dtype.name,
        "problem": p.label,
        "main": main,
        "product": product,
        "gflop": gf / 1e9,
        "rows": rows,
    }


def _limits(case, p, times):
    """Workload 4: numnet's products as a fraction of the matmul limit (NumPy's and torch's BLAS)."""
    names = {"grad": ["grad"], "hvp": ["hvp", "hvp_lin"], "gnvp": ["gnvp", "gnvp_lin"]}[
        case["workload"]
    ]
    impls = [r["impl"] for r in case["rows"] if r["role"] == "numnet"]
    out = {}
    for product, impl in zip(names, impls):
        t_np, t_torch = _limit(p, product, times["numpy"]), _limit(p, product, times["torch"])
        t = next(r["median_s"] for r in case["rows"] if r["impl"] == impl)
        out[impl] = {
            "product": product,
            "gflop": flops(gemms(p.widths, p.batch, product)) / 1e9,
            "np_matmul_s": t_np,
            "torch_matmul_s": t_torch,
            "fraction_of_np_matmul": t_np / t,
        }
    return out


def run(settings, dtypes):
    """Cases for workloads 1–4, one per (product, dtype)."""
    cases = []
    for dtype in dtypes:
        p = make_problem(QUICK if settings.quick else FULL, dtype)
        t, torch_impls = _torch_peers(p)
        j, jax_impls = _jax_peers(p)
        ours = _numnet(p)
        agreement = _agreement(p, t, j)
        limits = _matmul_times(p, settings)
        next(limits)
        mine = []
        for workload, main, product in (
            ("grad", "numnet obj.value_and_grad", "grad"),
            ("hvp", "numnet obj.hvp", "hvp"),
            ("gnvp", "numnet obj.gnvp", "gnvp"),
        ):
            impls = {**ours[workload], **torch_impls[workload], **jax_impls.get(workload, {})}
            case = _case(workload, p, impls, settings, main, product)
            case["agreement"] = {k: v for k, v in agreement.items() if k.startswith(workload)}
            mine.append(case)
        times = next(limits)
        for case in mine:
            case["matmul_limit"] = _limits(case, p, times)
        cases += mine
    return cases
