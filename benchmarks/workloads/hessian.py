"""Workload 7: the dense exact Hessian of a ~2,000-parameter network.

A 16-48-24-4 tanh network (2,092 parameters) with softmax cross-entropy on
200 samples. numnet assembles H column by column from exact Hessian-vector
products on one linearization (:func:`numnet.curvature.hessian_dense`);
PyTorch's ``torch.autograd.functional.hessian`` is timed on the same
function of a flat parameter vector, as a loop of backward passes
(``vectorize=False``, its default) and with ``vmap`` (``vectorize=True``).
"""

import numpy as np

from ._mlp import Problem, TorchNet
from ._timing import compare

__all__ = ["run", "NAME"]

NAME = "hessian"
FULL = {"widths": (16, 48, 24, 4), "batch": 200}
QUICK = {"widths": (6, 10, 8, 3), "batch": 20}


def _torch_hessian(t, vectorize):
    """``torch.autograd.functional.hessian`` of the loss as a function of numnet's flat theta."""
    import torch

    shapes = [p.shape for p in t.model.parameters()]
    sizes = [int(np.prod(s)) for s in shapes]

    def loss(flat):
        parts = [c.view(s) for c, s in zip(torch.split(flat, sizes), shapes)]
        F = t.X
        for i, (W, b) in enumerate(zip(parts[::2], parts[1::2])):
            F = torch.nn.functional.linear(F, W, b)
            F = torch.tanh(F) if i < len(parts) // 2 - 1 else F
        return torch.nn.functional.cross_entropy(F, t.y)

    flat = torch.cat([p.detach().reshape(-1) for p in t.model.parameters()])
    return lambda: torch.autograd.functional.hessian(loss, flat, vectorize=vectorize)


def _flat_index(p):
    """Indices of numnet's flat layout (W as (in, out)) in torch's (W as (out, in))."""
    idx, start = [], 0
    for a, b in zip(p.widths, p.widths[1:]):
        idx.append((start + np.arange(a * b).reshape(b, a).T).ravel())
        idx.append(start + a * b + np.arange(b))
        start += a * b + b
    return np.concatenate(idx)


def run(settings, dtypes):
    """One case per dtype: numnet ``hessian_dense`` vs torch's two Hessians, with their max difference."""
    from numnet.curvature import hessian_dense

    size = QUICK if settings.quick else FULL
    cases = []
    for dtype in dtypes:
        p = Problem(size["widths"], size["batch"], dtype)
        t = TorchNet(p)
        impls = {
            "numnet curvature.hessian_dense": lambda: hessian_dense(p.obj, p.theta),
            "torch.autograd.functional.hessian": _torch_hessian(t, False),
            "torch.autograd.functional.hessian(vectorize=True)": _torch_hessian(t, True),
        }
        stats = compare(
            impls,
            settings.replace(
                repeats=min(settings.repeats, 5), warmup=min(settings.warmup, 1), rounds=1
            ),
        )
        rows = [
            dict(impl=k, role="numnet" if k.startswith("numnet") else "peer", **v)
            for k, v in stats.items()
        ]
        idx = _flat_index(p)
        H, Ht = hessian_dense(p.obj, p.theta), impls["torch.autograd.functional.hessian"]().numpy()
        diff = float(np.abs(H - Ht[np.ix_(idx, idx)]).max() / np.abs(Ht).max())
        cases.append(
            {
                "workload": NAME,
                "dtype": p.dtype.name,
                "problem": f"{p.label}, p = {p.net.n_params}",
                "main": rows[0]["impl"],
                "rows": rows,
                "max_rel_diff_vs_torch": diff,
            }
        )
    return cases
