"""Runs to a target for numnet's ``minimize`` and PyTorch's Adam and L-BFGS, from the same start.

Every runner takes a :class:`~_trace.Goals`, runs one optimizer from one
initial ``theta0`` (numnet's flat layout) and returns its
:class:`~_trace.Trace`. The networks are tanh MLPs with a linear output
layer (F = tanh(… tanh(X W₁ + b₁) …) W_L + b_L, samples as rows), built
in numnet by :func:`mlp` and copied into ``torch.nn`` by
:func:`torch_mlp` with the same weights, so both start from the same point.
The loss is numnet's: ``"squared_error"`` (1/n) Σ ½‖F_i − Y_i‖² or
``"cross_entropy"`` (1/n) Σ [logsumexp(F_i) − F_{i,y_i}].
"""

import numpy as np

from ._trace import Stop, Trace

__all__ = [
    "mlp",
    "torch_mlp",
    "numnet_run",
    "torch_adam_run",
    "torch_lbfgs_run",
    "numnet_methods",
    "NUMNET_METHODS",
    "ADAM_LR",
    "MAX_ITER",
    "ADAM",
    "TORCH_LBFGS",
]

#: numnet methods timed when ``minimize`` has them (names of ``numnet.METHODS``).
NUMNET_METHODS = ("levenberg-marquardt", "gauss-newton", "newton-cg", "trust-ncg", "lbfgs")
#: Full-batch Adam step size (0.01: of 1e-3 and 1e-2, the better on these problems in a 5 s trial).
ADAM_LR = 1e-2
MAX_ITER = 10**9
ADAM, TORCH_LBFGS = f"torch Adam (full batch, lr {ADAM_LR:g})", "torch.optim.LBFGS (strong Wolfe)"


def mlp(widths):
    """numnet ``Sequential`` of tanh ``Dense`` layers with a linear last layer."""
    from numnet.layers import Dense
    from numnet.network import Sequential

    acts = ["tanh"] * (len(widths) - 2) + ["identity"]
    return Sequential([Dense(a, b, f) for a, b, f in zip(widths, widths[1:], acts)])


def numnet_methods(candidates=NUMNET_METHODS):
    """The candidates that numnet's ``minimize`` offers today."""
    from numnet.optim import METHODS

    return [m for m in candidates if m in METHODS]


def numnet_run(obj, theta0, method, goals, accuracy=None, **options):
    """``minimize(obj, theta0, method, **options)`` (default options unless given), recording each accepted iterate.

    The trace's ``solvers`` are the linear solvers the run's history names (e.g. "dense" or "cg").
    """
    from numnet.optim import minimize

    trace = Trace(goals)

    def callback(res):
        if trace.record(res.fun, accuracy and (lambda: accuracy(res.x))):
            raise StopIteration

    res = minimize(
        obj,
        theta0,
        method,
        callback=callback,
        max_iter=MAX_ITER,
        gtol=0.0,
        max_time=goals.cap_s,
        **options,
    )
    trace.solvers = {h["solver"] for h in res.history if "solver" in h}
    return trace


def torch_mlp(net, theta):
    """The numnet ``mlp`` ``net`` at ``theta`` as a ``torch.nn.Sequential`` (W transposed to torch's (out, in))."""
    import torch

    dtype = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}[theta.dtype]
    layers = []
    for i, p in enumerate(net.unpack(theta)):
        lin = torch.nn.Linear(*p["W"].shape, dtype=dtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(p["W"].T)))
            lin.bias.copy_(torch.from_numpy(p["b"].copy()))
        layers += [lin] if i == len(net.layers) - 1 else [lin, torch.nn.Tanh()]
    return torch.nn.Sequential(*layers)


def _torch_loss(loss, Y):
    import torch

    if loss == "squared_error":
        return lambda F: 0.5 * ((F - Y) ** 2).sum() / F.shape[0]
    if loss == "cross_entropy":
        return lambda F: torch.nn.functional.cross_entropy(F, Y)
    raise ValueError(f"loss must be 'squared_error' or 'cross_entropy', got {loss!r}")


def _torch_setup(net, theta0, loss, X, Y):
    import torch

    model = torch_mlp(net, theta0)
    return model, torch.from_numpy(X), _torch_loss(loss, torch.from_numpy(Y))


def _torch_accuracy(model, accuracy):
    """``accuracy(F)`` of numnet's kind as a callable of the model (no autograd)."""
    import torch

    def measure():
        with torch.no_grad():
            return accuracy(model)

    return None if accuracy is None else measure


def torch_adam_run(net, theta0, loss, X, Y, goals, accuracy=None, lr=ADAM_LR):
    """Full-batch ``torch.optim.Adam``: one point per step (the loss before the step)."""
    import torch

    model, Xt, fn = _torch_setup(net, theta0, loss, X, Y)
    trace = Trace(goals)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    measure = _torch_accuracy(model, accuracy)
    while True:
        opt.zero_grad()
        value = fn(model(Xt))
        if trace.record(value.item(), measure):
            return trace
        value.backward()
        opt.step()


def torch_lbfgs_run(net, theta0, loss, X, Y, goals, accuracy=None):
    """``torch.optim.LBFGS`` with a strong-Wolfe line search, no tolerances: one point per evaluation."""
    import torch

    model, Xt, fn = _torch_setup(net, theta0, loss, X, Y)
    trace = Trace(goals)
    opt = torch.optim.LBFGS(
        model.parameters(), line_search_fn="strong_wolfe", tolerance_grad=0.0, tolerance_change=0.0
    )
    measure = _torch_accuracy(model, accuracy)

    def closure():
        opt.zero_grad()
        value = fn(model(Xt))
        if trace.record(value.item(), measure):
            raise Stop
        value.backward()
        return value

    try:
        while True:
            opt.step(closure)
    except Stop:
        return trace
