"""PyTorch autograd as an independent oracle, float64 on CPU.

A tiny torch twin of every registered layer, loss and regularizer is
written here from the formulas (slicing the flat theta itself); torch.func
then gives J v (``jvp``), Jᵀ u (``vjp``), the R-operator (``jvp`` of
``vjp``) and the Hessian-vector product (forward-over-reverse, ``jvp`` of
``grad``). numnet must agree to 1e-10 relative for layers and losses and
1e-9 for whole objectives.
"""

import numpy as np
import pytest
import torch
import torch.nn.functional as tF
from hypothesis import given
from hypothesis import strategies as st
from registry import (
    LAYERS,
    LOSSES,
    PROPERTY,
    REGULARIZERS,
    Shape,
    data,
    make_objective,
    rel_err,
    shapes,
)
from torch.func import grad, jvp, vjp

from numnet.activations import ACTIVATIONS, LEAKY_SLOPE
from numnet.graph import INPUT, Add, Concat, Graph
from numnet.layers import Dense, Residual
from numnet.layers import (
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    Flatten,
    MaxPool1d,
    MaxPool2d,
    Reshape,
)
from numnet.layers import Dropout, Recurrent
from numnet.network import Sequential
from numnet.regularizers import GeneralizedTikhonov, L1Penalty, Tikhonov

TOL_LAYER, TOL_OBJECTIVE = 1e-10, 1e-9
# raised inside torch itself on import of some functional ops, not by numnet
pytestmark = pytest.mark.filterwarnings(
    "ignore:`torch.jit.script` is deprecated:DeprecationWarning"
)

T_ACTIVATIONS = {
    "identity": lambda a: a,
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "relu": torch.relu,
    "leaky_relu": lambda a: tF.leaky_relu(a, LEAKY_SLOPE),
    "softplus": lambda a: torch.logaddexp(a, torch.zeros_like(a)),
    "sin": torch.sin,
    "sign": torch.sign,
}


def t_forward(layer, theta, X):
    """Torch twin of ``layer.forward(theta, X)[0]``, slicing theta by the documented layout."""
    twin = T_LAYERS.get(type(layer))
    if twin is None:
        raise TypeError(f"no torch twin for {type(layer).__name__}: add one to T_LAYERS")
    return twin(layer, theta, X)


def _t_sequential(layer, theta, X):
    offsets = np.cumsum([0] + [sub.n_params for sub in layer.layers])
    for sub, a, b in zip(layer.layers, offsets[:-1], offsets[1:]):
        X = t_forward(sub, theta[int(a) : int(b)], X)
    return X


def _t_dense(layer, theta, X):
    n_W = layer.d_in * layer.d_out
    A = X @ theta[:n_W].reshape(layer.d_in, layer.d_out)
    A = A + theta[n_W:] if layer.bias else A
    return T_ACTIVATIONS[layer.activation.name](A)


def _t_graph(graph, theta, X):
    values = {INPUT: X}
    for name in graph.order:
        node = graph.nodes[name]
        xs = [values[i] for i in node.inputs]
        if isinstance(node.op, Add):
            values[name] = sum(xs[1:], xs[0])
        elif isinstance(node.op, Concat):
            values[name] = torch.cat(xs, dim=1)
        else:
            s = graph.slices[name]
            values[name] = t_forward(node.op, theta[s.start : s.stop], xs[0])
    return values[graph.output]


def _t_dropout(layer, theta, X):
    """X ⊙ M / (1 − p) with the layer's own documented mask (the identity when key is None)."""
    M = layer.mask(tuple(X.shape))
    return X if M is None else X * T(M) / (1 - layer.p)


def _t_recurrent(layer, theta, X):
    """h_t = σ(x_t W_x + h_{t−1} W_h + b), h_0 = 0, one W_x, W_h, b for every step."""
    dx, dh, n_steps = layer.d_x, layer.d_h, layer.n_steps
    W_x, W_h = theta[: dx * dh].reshape(dx, dh), theta[dx * dh : dx * dh + dh * dh].reshape(dh, dh)
    b = theta[dx * dh + dh * dh :] if layer.bias else 0
    sigma, xs = T_ACTIVATIONS[layer.activation.name], X.reshape(X.shape[0], n_steps, dx)
    h, hs = torch.zeros(X.shape[0], dh, dtype=X.dtype), []
    for t in range(n_steps):
        h = sigma(xs[:, t] @ W_x + h @ W_h + b)
        hs.append(h)
    return h if layer.output == "last" else torch.cat(hs, dim=1)


def _t_channels_first(layer, X):
    """Flat channels-last rows → torch's (n, C, H, W) or (n, C, L)."""
    return X.reshape(X.shape[0], *layer.input_shape).movedim(-1, 1).contiguous()


def _t_conv(layer, theta, X):
    """σ(conv(X, W) + b), W (kh, kw, c_in, filters) or (k, c_in, filters) row-major, then b (filters,)."""
    c_in, kernel = layer.input_shape[-1], np.atleast_1d(layer.kernel_size).tolist()
    n_W = int(np.prod(kernel)) * c_in * layer.filters
    # torch's weight is (filters, c_in, *kernel)
    W = theta[:n_W].reshape(*kernel, c_in, layer.filters).movedim((-1, -2), (0, 1)).contiguous()
    conv = tF.conv1d if isinstance(layer, Conv1d) else tF.conv2d
    A = conv(
        _t_channels_first(layer, X),
        W,
        theta[n_W:] if layer.bias else None,
        stride=layer.stride,
        padding=layer.padding,
    )
    return T_ACTIVATIONS[layer.activation.name](A.movedim(1, -1).reshape(X.shape[0], -1))


def _t_pool(pool):
    return lambda layer, theta, X: (
        pool(_t_channels_first(layer, X), layer.pool_size, layer.stride)
        .movedim(1, -1)
        .reshape(X.shape[0], -1)
    )


#: layer type -> twin(layer, theta, X); each written from the layer's documented formula and layout
T_LAYERS = {
    Sequential: _t_sequential,
    Dense: _t_dense,
    Residual: lambda layer, theta, X: X + layer.step * t_forward(layer.inner, theta, X),
    Graph: lambda layer, theta, X: _t_graph(layer, theta, X),
    # --- convolution and pooling twins go here
    Conv2d: _t_conv,
    Conv1d: _t_conv,
    MaxPool2d: _t_pool(tF.max_pool2d),
    AvgPool2d: _t_pool(tF.avg_pool2d),
    MaxPool1d: _t_pool(tF.max_pool1d),
    AvgPool1d: _t_pool(tF.avg_pool1d),
    Reshape: lambda layer, theta, X: X,
    Flatten: lambda layer, theta, X: X,
    # --- dropout and recurrent twins go here
    Dropout: _t_dropout,
    Recurrent: _t_recurrent,
}


def _huber(F, Y, delta):
    a = (F - Y).abs()
    return torch.where(a <= delta, 0.5 * a * a, delta * (a - 0.5 * delta)).sum()


T_LOSSES = {  # sums over samples; the caller divides by n
    "squared_error": lambda loss, F, Y: 0.5 * ((F - Y) ** 2).sum(),
    "absolute_error": lambda loss, F, Y: (F - Y).abs().sum(),
    "huber": lambda loss, F, Y: _huber(F, Y, loss.delta),
    "hinge": lambda loss, F, Y: torch.relu(1 - Y * F).sum(),
    "binomial": lambda loss, F, Y: torch.logaddexp(torch.zeros_like(F), -2 * Y * F).sum(),
    "binary_cross_entropy": lambda loss, F, Y: tF.binary_cross_entropy_with_logits(
        F, Y, reduction="sum"
    ),
    "cross_entropy": lambda loss, F, Y: tF.cross_entropy(F, Y, reduction="sum"),
}


def t_loss(loss, F, Y):
    return T_LOSSES[loss.name](loss, F, Y) / F.shape[0]


def t_regularizer(reg, n_params):
    """Torch twin of ``reg.value`` as a function of theta (zero for None)."""
    if reg is None:
        return lambda th: th.sum() * 0
    m = (
        torch.ones(n_params, dtype=torch.float64)
        if getattr(reg, "mask", None) is None
        else torch.from_numpy(reg.mask.astype(np.float64))
    )
    if isinstance(reg, Tikhonov):
        return lambda th: 0.5 * reg.lam * ((th * m) ** 2).sum()
    if isinstance(reg, L1Penalty):
        return lambda th: reg.lam * (th * m).abs().sum()
    if isinstance(reg, GeneralizedTikhonov):
        L = torch.from_numpy(reg.L.matmat(np.eye(n_params)))
        return lambda th: 0.5 * reg.lam * ((L @ th) ** 2).sum()
    raise TypeError(f"no torch twin for {type(reg).__name__}: add one to t_regularizer")


def T(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float64))


def _agree(ours, theirs, tol):
    err = rel_err(ours, theirs.detach().numpy(force=True))
    assert err < tol, err


# ------------------------------------------------------------------ layers


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
@pytest.mark.parametrize("layer_name", LAYERS)
@PROPERTY
@given(s=shapes())
def test_layer_products_match_torch(layer_name, act, s):
    layer = LAYERS[layer_name](act, s)
    rng, theta, X = data(layer, s)
    Z, cache = layer.forward(theta, X)
    dtheta, dX, gZ, dgZ = (rng.standard_normal(a.shape) for a in (theta, X, Z, Z))
    f = lambda th, x: t_forward(layer, th, x)
    _agree(Z, f(T(theta), T(X)), TOL_LAYER)
    _agree(
        layer.jvp(theta, cache, dtheta, dX),
        jvp(f, (T(theta), T(X)), (T(dtheta), T(dX)))[1],
        TOL_LAYER,
    )
    for ours, theirs in zip(layer.vjp(theta, cache, gZ), vjp(f, T(theta), T(X))[1](T(gZ))):
        _agree(ours, theirs, TOL_LAYER)
    pullback = lambda th, x, g: vjp(f, th, x)[1](g)
    R = jvp(pullback, (T(theta), T(X), T(gZ)), (T(dtheta), T(dX), T(dgZ)))[1]
    for ours, theirs in zip(layer.rop(theta, cache, dtheta, dX, gZ, dgZ), R):
        _agree(ours, theirs, TOL_LAYER)


@pytest.mark.parametrize("layer_name", LAYERS)
def test_torch_twin_reads_the_same_parameters_as_unpack(layer_name):
    s = Shape(2, 3, 4, 2, 0)
    layer = LAYERS[layer_name]("identity", s)
    _, theta, X = data(layer, s)
    # identity network: F is affine in X; the twin and unpack must agree on every W and b
    _agree(layer.forward(theta, X)[0], t_forward(layer, T(theta), T(X)), TOL_LAYER)
    _agree(layer.forward(theta, 0 * X)[0], t_forward(layer, T(theta), T(0 * X)), TOL_LAYER)


# ------------------------------------------------------------------ losses


def test_every_registered_loss_has_a_torch_twin():
    assert {case.make().name for case in LOSSES.values()} <= set(T_LOSSES)


@pytest.mark.parametrize("name", LOSSES)
@PROPERTY
@given(draw=st.tuples(st.integers(0, 2**31 - 1), st.integers(1, 7), st.integers(1, 6)))
def test_loss_value_grad_hvp_match_torch(name, draw):
    seed, n, k = draw
    rng = np.random.default_rng(seed)
    loss = LOSSES[name].make()
    Y = loss.targets(LOSSES[name].targets(rng, n, k), k)
    F, dF = 2 * rng.standard_normal((n, k)), rng.standard_normal((n, k))
    f = lambda G: t_loss(loss, G, T(Y))
    assert loss.value(F, Y) == pytest.approx(float(f(T(F))), rel=TOL_LAYER, abs=1e-300)
    _agree(loss.grad(F, Y), grad(f)(T(F)), TOL_LAYER)
    _agree(loss.hvp(F, Y, dF), jvp(grad(f), (T(F),), (T(dF),))[1], TOL_LAYER)


# ------------------------------------------------------------------ objectives


@pytest.mark.parametrize("loss_name", LOSSES)
@PROPERTY
@given(
    s=shapes(),
    act=st.sampled_from(["tanh", "sigmoid", "softplus", "sin", "relu", "leaky_relu"]),
    layer_name=st.sampled_from(["mlp3", "nested"]),
    reg_name=st.sampled_from(sorted(REGULARIZERS)),
)
def test_objective_value_grad_hvp_gnvp_match_torch(loss_name, s, act, layer_name, reg_name):
    rng, obj, theta = make_objective(loss_name, reg_name, act, s, layer=layer_name)
    v = rng.standard_normal(obj.n_params)
    X, Y, R = T(obj.X), T(obj.Y), t_regularizer(obj.regularizer, obj.n_params)
    net = lambda th: t_forward(obj.net, th, X)
    J = lambda th: t_loss(obj.loss, net(th), Y) + R(th)
    lin = obj.at(theta)
    assert lin.value == pytest.approx(float(J(T(theta))), rel=TOL_OBJECTIVE)
    _agree(lin.grad, grad(J)(T(theta)), TOL_OBJECTIVE)
    _agree(lin.hvp(v), jvp(grad(J), (T(theta),), (T(v),))[1], TOL_OBJECTIVE)
    F, dF = jvp(net, (T(theta),), (T(v),))
    HdF = jvp(grad(lambda G: t_loss(obj.loss, G, Y)), (F,), (dF,))[1]
    Gv = vjp(net, T(theta))[1](HdF)[0] + jvp(grad(R), (T(theta),), (T(v),))[1]
    _agree(lin.gnvp(v), Gv, TOL_OBJECTIVE)


@pytest.mark.parametrize("reg_name", [r for r in REGULARIZERS if r != "none"])
def test_regularizer_value_grad_hvp_match_torch(reg_name):
    rng = np.random.default_rng(3)
    net = LAYERS["mlp3"]("tanh", Shape(2, 3, 4, 2, 3))
    reg, theta, v = (
        REGULARIZERS[reg_name](net, rng),
        net.init(rng, scheme="normal"),
        rng.standard_normal(net.n_params),
    )
    R = t_regularizer(reg, net.n_params)
    assert reg.value(theta) == pytest.approx(float(R(T(theta))), rel=TOL_LAYER)
    _agree(reg.grad(theta), grad(R)(T(theta)), TOL_LAYER)
    _agree(reg.hvp(theta, v), jvp(grad(R), (T(theta),), (T(v),))[1], TOL_LAYER)


@pytest.mark.parametrize("loss_name", ["squared_error", "cross_entropy"])
@pytest.mark.parametrize("layer_name", LAYERS)
def test_objective_products_match_torch_for_every_layer(layer_name, loss_name):
    """Objective.grad, hvp and gnvp on every registered layer and network agree with torch to 1e-10."""
    s = Shape(n_samples=5, d_in=3, hidden=4, d_out=3, seed=11)
    rng, obj, theta = make_objective(loss_name, "tikhonov", "tanh", s, layer=layer_name)
    v = rng.standard_normal(obj.n_params)
    X, Y, R = T(obj.X), T(obj.Y), t_regularizer(obj.regularizer, obj.n_params)
    net = lambda th: t_forward(obj.net, th, X)
    J = lambda th: t_loss(obj.loss, net(th), Y) + R(th)
    lin = obj.at(theta)
    _agree(lin.grad, grad(J)(T(theta)), TOL_LAYER)
    _agree(lin.hvp(v), jvp(grad(J), (T(theta),), (T(v),))[1], TOL_LAYER)
    F, dF = jvp(net, (T(theta),), (T(v),))
    HdF = jvp(grad(lambda G: t_loss(obj.loss, G, Y)), (F,), (dF,))[1]
    Gv = vjp(net, T(theta))[1](HdF)[0] + jvp(grad(R), (T(theta),), (T(v),))[1]
    _agree(lin.gnvp(v), Gv, TOL_LAYER)
