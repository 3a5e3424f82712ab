"""Workload 8: gradient and exact Hessian-vector product of a small convolutional network.

28×28×1 images (batch 128) → Conv2d 8 filters 3×3 relu → MaxPool 2 →
Conv2d 16 filters 3×3 relu → MaxPool 2 → Flatten → Dense 10, softmax
cross-entropy (the shape of an MNIST mini-batch; random values). numnet's
``obj.value_and_grad``, ``obj.hvp`` and the linearized ``lin.hvp`` against
PyTorch eager (``loss.backward``, double backward) and ``torch.func``
(``grad``, ``jvp(grad)``) on the same weights, data, direction, dtype and
threads. numnet's rows are channels-last; torch gets the same images
channels-first, its native layout (converted once, outside the timing).

numnet's matrix products are listed by :func:`gemms` (per convolution:
im2col(X) W forward, im2col(X)ᵀ gA for the weights, one gA W[i, j]ᵀ per
kernel offset for the input cotangent), and their np.matmul time on the same
shapes is the matmul limit, as in workloads 1–4.
"""

from collections import Counter

import numpy as np

from . import _torch
from ._gemms import flops, operands
from ._timing import compare

__all__ = ["run", "NAME", "gemms", "ConvProblem", "FULL", "QUICK"]

NAME = "conv"
FULL = {"image": (28, 28, 1), "filters": (8, 16), "batch": 128, "classes": 10}
QUICK = {"image": (10, 10, 1), "filters": (2, 3), "batch": 8, "classes": 4}
PRODUCTS = ("grad", "hvp", "hvp_lin")


class ConvProblem:
    """The network, objective, parameters and direction of one size and dtype (numnet side)."""

    def __init__(self, size, dtype, seed=0):
        from numnet.layers import Conv2d, Dense, Flatten, MaxPool2d
        from numnet.network import Sequential
        from numnet.objective import Objective

        rng = np.random.default_rng(seed)
        self.size, self.dtype, self.batch = size, np.dtype(dtype), size["batch"]
        layers, shape = [], size["image"]
        for f in size["filters"]:
            conv = Conv2d(shape, f, 3, activation="relu")
            pool = MaxPool2d(conv.output_shape, 2)
            layers += [conv, pool]
            shape = pool.output_shape
        self.convs, self.flat_shape = layers[::2], shape
        flat = Flatten(shape)
        self.dense = Dense(flat.d_out, size["classes"])
        self.net = Sequential([*layers, flat, self.dense])
        self.X = rng.standard_normal((self.batch, self.net.d_in)).astype(dtype)
        self.y = rng.integers(0, size["classes"], self.batch)
        self.theta = self.net.init(rng, dtype=dtype)
        self.v = rng.standard_normal(self.net.n_params).astype(dtype)
        self.obj = Objective(self.net, "cross_entropy", self.X, self.y)

    @property
    def label(self):
        f1, f2 = self.size["filters"]
        return (
            f"{'×'.join(map(str, self.size['image']))} → conv {f1} 3×3 relu → maxpool 2 → conv {f2} 3×3 "
            f"relu → maxpool 2 → dense {self.size['classes']}, batch {self.batch}, p = {self.net.n_params}"
        )


def _conv_shapes(p):
    """(M, K, F, C, offsets, first) of each convolution: M = n·Ho·Wo rows of im2col, K = kh·kw·C."""
    out = []
    for i, c in enumerate(p.convs):
        Ho, Wo, F = c.output_shape
        offsets = c.kernel_size[0] * c.kernel_size[1]
        out.append(
            (p.batch * Ho * Wo, offsets * c.input_shape[2], F, c.input_shape[2], offsets, i == 0)
        )
    return out


def gemms(p, product):
    """``Counter`` of (m, k, n, layout) matrix products numnet runs for ``product`` in :data:`PRODUCTS`."""
    if product not in PRODUCTS:
        raise ValueError(f"product must be one of {PRODUCTS}, got {product!r}")
    fwd, wgrad, xgrad, tangent, rback = [], [], [], [], []
    for M, K, F, C, offsets, first in _conv_shapes(p):
        fwd.append((M, K, F, "NN"))
        wgrad.append((K, M, F, "TN"))
        tangent += [(M, K, F, "NN")] * (1 if first else 2)
        rback += [(K, M, F, "TN")] * (1 if first else 2)
        if not first:
            xgrad += [(M, F, C, "NT")] * offsets
            rback += [(M, F, C, "NT")] * (2 * offsets)
    n, a, b = p.batch, p.dense.d_in, p.dense.d_out
    fwd.append((n, a, b, "NN"))
    wgrad.append((a, n, b, "TN"))
    xgrad.append((n, b, a, "NT"))
    tangent += [(n, a, b, "NN")] * 2
    rback += [(a, n, b, "TN")] * 2 + [(n, b, a, "NT")] * 2
    lists = {
        "grad": fwd
        + wgrad
        + xgrad,  # backward: weights of every layer, input cotangent after the first
        "hvp": fwd
        + tangent
        + xgrad
        + rback,  # cotangents of a backward pass without weight gradients
        "hvp_lin": tangent + rback,
    }  # after lin.grad the cotangents are kept
    return Counter(lists[product])


class TorchCNN:
    """The same network in PyTorch (channels-first), weights copied from numnet's theta.

    ``model``, ``X``, ``y``, ``params`` and ``tangent`` are what the peers of
    :mod:`_torch` read; :meth:`flat` maps torch's parameters back to numnet's layout.
    """

    def __init__(self, p):
        import torch

        self.torch, self.p = torch, p
        dt = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[p.dtype]
        mods, c_in = [], p.size["image"][2]
        for f in p.size["filters"]:
            mods += [torch.nn.Conv2d(c_in, f, 3, dtype=dt), torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
            c_in = f
        mods += [torch.nn.Flatten(), torch.nn.Linear(p.dense.d_in, p.dense.d_out, dtype=dt)]
        self.model = torch.nn.Sequential(*mods)
        with torch.no_grad():
            for t, a in zip(self.model.parameters(), self._to_torch(p.theta)):
                t.copy_(a)
        self.X = torch.from_numpy(
            np.ascontiguousarray(p.X.reshape(p.batch, *p.size["image"]).transpose(0, 3, 1, 2))
        )
        self.y = torch.from_numpy(p.y)
        self.params = {k: t.detach() for k, t in self.model.named_parameters()}
        self.tangent = dict(zip(self.params, self._to_torch(p.v)))

    def _to_torch(self, flat):
        """numnet's flat vector → torch tensors: conv W (F, C, kh, kw), linear W (out, in) with in over (c, h, w)."""
        out = []
        for params in self.p.net.unpack(flat):
            if "W" not in params:
                continue
            W, b = params["W"], params["b"]
            if W.ndim == 4:
                W = W.transpose(3, 2, 0, 1)
            else:  # numnet flattens (h, w, c), torch (c, h, w)
                W = W.reshape(*self.p.flat_shape, -1).transpose(3, 2, 0, 1).reshape(W.shape[1], -1)
            out += [self.torch.tensor(np.ascontiguousarray(W)), self.torch.tensor(b)]
        return out

    def flat(self, tensors):
        """numnet's flat layout of torch parameter tensors (a dict or a list in parameter order)."""
        ts = [
            t.detach().numpy() for t in (tensors.values() if isinstance(tensors, dict) else tensors)
        ]
        parts = []
        for W, b in zip(ts[::2], ts[1::2]):
            if W.ndim == 4:
                parts.append(W.transpose(2, 3, 1, 0).ravel())
            else:
                h, w, c = self.p.flat_shape
                parts.append(W.reshape(-1, c, h, w).transpose(2, 3, 1, 0).ravel())
            parts.append(b)
        return np.concatenate(parts)


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _impls(p, t):
    lin = p.obj.at(p.theta)
    lin.grad  # noqa: B018  (a Newton-CG iteration has the gradient before its products)
    obj, theta, v = p.obj, p.theta, p.v
    return {
        "conv_grad": {
            "numnet obj.value_and_grad": lambda: obj.value_and_grad(theta),
            "torch eager loss.backward": _torch.grad_eager(t),
            "torch.func grad": _torch.grad_func(t),
        },
        "conv_hvp": {
            "numnet obj.hvp": lambda: obj.hvp(theta, v),
            "numnet lin.hvp (linearized)": lambda: lin.hvp(v),
            "torch.func jvp(grad)": _torch.hvp_func(t),
            "torch double backward": _torch.hvp_double_backward(t),
        },
    }


def _agreement(p, t):
    lin = p.obj.at(p.theta)
    return {
        "conv_grad": {"grad vs torch": _rel(lin.grad, t.flat(_torch.grad_eager(t)()))},
        "conv_hvp": {"hvp vs torch": _rel(lin.hvp(p.v), t.flat(_torch.hvp_func(t)()))},
    }


def _matmul_times(p, settings):
    """Seconds of the fastest ``np.matmul`` and ``torch.matmul`` call for every shape numnet multiplies."""
    import torch

    shapes = sorted(set().union(*(gemms(p, product) for product in PRODUCTS)))
    rng, out = np.random.default_rng(1), {}
    for lib in ("numpy", "torch"):
        fns = {}
        for shape in shapes:
            A, B = operands(shape, p.dtype, rng)
            if lib == "torch":
                A, B = torch.from_numpy(A), torch.from_numpy(B)
            fns[shape] = lambda A=A, B=B: A @ B
        out[lib] = {s: v["min_s"] for s, v in compare(fns, settings).items()}
    return out


def _limits(case, p, times):
    """numnet's products as a fraction of the matmul limit (the same products in np.matmul and torch.matmul)."""
    products = {
        "numnet obj.value_and_grad": "grad",
        "numnet obj.hvp": "hvp",
        "numnet lin.hvp (linearized)": "hvp_lin",
    }
    out = {}
    for r in case["rows"]:
        product = products.get(r["impl"])
        if product is None:
            continue
        g = gemms(p, product)
        t_np = sum(times["numpy"][s] * c for s, c in g.items())
        t_torch = sum(times["torch"][s] * c for s, c in g.items())
        out[r["impl"]] = {
            "product": product,
            "gflop": flops(g) / 1e9,
            "np_matmul_s": t_np,
            "torch_matmul_s": t_torch,
            "fraction_of_np_matmul": t_np / r["median_s"],
        }
    return out


def run(settings, dtypes):
    """One case per (product, dtype): ``conv_grad`` and ``conv_hvp``."""
    cases = []
    for dtype in dtypes:
        p = ConvProblem(QUICK if settings.quick else FULL, dtype)
        t = TorchCNN(p)
        agreement, impls = _agreement(p, t), _impls(p, t)
        for workload, main, product in (
            ("conv_grad", "numnet obj.value_and_grad", "grad"),
            ("conv_hvp", "numnet obj.hvp", "hvp"),
        ):
            stats = compare(impls[workload], settings)
            gf = flops(gemms(p, product))
            rows = [
                dict(
                    impl=name,
                    role="numnet" if name.startswith("numnet") else "peer",
                    gflops_per_s=gf / s["median_s"] / 1e9,
                    **s,
                )
                for name, s in stats.items()
            ]
            cases.append(
                {
                    "workload": workload,
                    "dtype": p.dtype.name,
                    "problem": p.label,
                    "main": main,
                    "product": product,
                    "gflop": gf / 1e9,
                    "rows": rows,
                    "agreement": agreement[workload],
                }
            )
        times = _matmul_times(p, settings)
        for case in cases[-2:]:
            case["matmul_limit"] = _limits(case, p, times)
    return cases
