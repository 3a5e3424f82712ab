"""The benchmark network in numnet and PyTorch, with the same weights, data and direction.

A tanh multilayer perceptron with a linear output layer and softmax
cross-entropy (notes 003), F = tanh(tanh(X W1 + b1) W2 + b2) W3 + b3. The
full size is 784-1024-1024-10 on a batch of 512 random samples (the shape
of an MNIST mini-batch; the values do not change the cost).
"""

import numpy as np

from numnet.layers import Dense
from numnet.network import Sequential
from numnet.objective import Objective

__all__ = ["Problem", "make_problem", "FULL", "QUICK", "TorchNet"]

FULL = {"widths": (784, 1024, 1024, 10), "batch": 512}
QUICK = {"widths": (64, 128, 128, 10), "batch": 64}


class Problem:
    """One instance: numnet objective, parameters ``theta`` and direction ``v``, in one dtype."""

    def __init__(self, widths, batch, dtype, seed=0):
        rng = np.random.default_rng(seed)
        acts = ["tanh"] * (len(widths) - 2) + ["identity"]
        self.widths, self.batch, self.dtype = tuple(widths), int(batch), np.dtype(dtype)
        self.net = Sequential([Dense(a, b, f) for a, b, f in zip(widths, widths[1:], acts)])
        self.X = rng.standard_normal((batch, widths[0])).astype(dtype)
        self.y = rng.integers(0, widths[-1], batch)
        self.theta = self.net.init(rng, dtype=dtype)
        self.v = rng.standard_normal(self.net.n_params).astype(dtype)
        self.obj = Objective(self.net, "cross_entropy", self.X, self.y)

    @property
    def label(self):
        return f"{'-'.join(map(str, self.widths))} tanh, batch {self.batch}"

    def layer_params(self, flat):
        """``[(W, b), ...]`` views of a flat vector in numnet's layout (W is (d_in, d_out))."""
        return [(p["W"], p["b"]) for p in self.net.unpack(flat)]


def make_problem(size, dtype, seed=0):
    """The benchmark problem of ``size`` (:data:`FULL` or :data:`QUICK`)."""
    return Problem(size["widths"], size["batch"], dtype, seed)


class TorchNet:
    """The same network as a ``torch.nn.Sequential``, weights copied from ``theta``.

    Tensors share no memory with numnet's arrays. ``params`` is the module's
    named parameters (for ``torch.func``), ``tangent`` the direction ``v`` in
    the same structure, and :meth:`flat` maps a structure back to numnet's
    flat layout.
    """

    def __init__(self, problem):
        import torch

        self.torch = torch
        self.dtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[
            problem.dtype
        ]
        layers = []
        for i, (a, b) in enumerate(zip(problem.widths, problem.widths[1:])):
            layers.append(torch.nn.Linear(a, b, dtype=self.dtype))
            if i < len(problem.widths) - 2:
                layers.append(torch.nn.Tanh())
        self.model = torch.nn.Sequential(*layers)
        self._copy_in(problem.layer_params(problem.theta), self.model.parameters())
        self.X = torch.tensor(problem.X)
        self.y = torch.tensor(problem.y)
        self.params = {k: p.detach() for k, p in self.model.named_parameters()}
        self.tangent = self._structure(problem.layer_params(problem.v))

    def _copy_in(self, pairs, parameters):
        with self.torch.no_grad():
            for (W, b), (pw, pb) in zip(pairs, zip(*[iter(parameters)] * 2)):
                pw.copy_(self.torch.from_numpy(np.ascontiguousarray(W.T)))
                pb.copy_(self.torch.from_numpy(b))

    def _structure(self, pairs):
        out = {}
        for (name, p), arr in zip(
            self.model.named_parameters(),
            [a for W, b in pairs for a in (np.ascontiguousarray(W.T), b)],
        ):
            out[name] = self.torch.tensor(arr)
        return out

    def flat(self, tensors):
        """numnet's flat layout of a dict (or list, in parameter order) of weight/bias tensors."""
        ts = list(tensors.values()) if isinstance(tensors, dict) else list(tensors)
        parts = []
        for W, b in zip(ts[::2], ts[1::2]):
            parts += [W.detach().T.contiguous().numpy().ravel(), b.detach().numpy()]
        return np.concatenate(parts)
