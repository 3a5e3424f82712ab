"""Becker–LeCun's diagonal (note 004) through every layer's ``diag_backward``.

Where the recursion drops nothing it is exact: least squares has the output
curvature I/n, a diagonal, so a single layer (a convolution, one recurrent
step), and a layer before a map whose Jacobian has disjoint rows (dropout,
reshaping, non-overlapping max pooling), give the exact Hessian diagonal.
hX of each layer is checked against brute force, hX_i = Σ_k J_ki² hZ_k plus
the gZ-weighted second derivative, with J built column by column from
``jvp`` and the second derivative from ``rop``. Every registered network
then runs through :func:`becker_lecun_diagonal`, exact on its output layer.
"""

import numpy as np
import pytest
from registry import LAYERS, Shape, data

from numnet.curvature import becker_lecun_diagonal, hessian_dense
from numnet.graph import Graph
from numnet.layers import (
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    MaxPool1d,
    MaxPool2d,
    Recurrent,
    Reshape,
)
from numnet.network import Sequential
from numnet.objective import Objective


def least_squares(net, shape, dtype=np.float64):
    """(objective, theta): squared error on the registry's data for ``net``."""
    rng, theta, X = data(net, shape, dtype)
    Y = rng.standard_normal((shape.n_samples, net.d_out))
    return Objective(net, "squared_error", X, Y), theta


def assert_close(actual, expected, rtol):
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * np.abs(expected).max())


# ------------------------------------------------- exact where nothing is dropped

SMALL = Shape(n_samples=4, d_in=3, hidden=3, d_out=2, seed=11)

EXACT = {
    "conv2d_stride_pad": lambda: Conv2d(
        (5, 4, 2), 3, (3, 2), stride=(2, 1), padding=(1, 2), activation="tanh"
    ),
    "conv1d": lambda: Conv1d((6, 2), 3, 3, stride=2, padding=1, activation="sin"),
    "rnn_one_step": lambda: Recurrent(1, 3, 4, activation="tanh", output="last"),
    "rnn_one_step_sequence": lambda: Recurrent(1, 2, 3, activation="sigmoid", output="sequence"),
    "avgpool_dense": lambda: Sequential([AvgPool2d((4, 4, 2), 2, stride=1), Dense(18, 3, "tanh")]),
    "dropout_dense": lambda: Sequential([Dropout(4, 0.4, seed=3, key=5), Dense(4, 3, "tanh")]),
    # parameters before a parameter-free map with disjoint Jacobian rows: Pᵀ (I/n) P stays diagonal
    "conv_maxpool": lambda: Sequential(
        [
            Conv2d((4, 4, 2), 2, 2, padding=1, activation="tanh"),
            MaxPool2d((5, 5, 2), 2),
            Flatten((2, 2, 2)),
        ]
    ),
    "dense_dropout": lambda: Sequential([Dense(3, 5, "tanh"), Dropout(5, 0.4, seed=1, key=2)]),
    "dense_reshape": lambda: Sequential([Dense(3, 6, "tanh"), Reshape((6,), (3, 2))]),
}


@pytest.mark.parametrize("name", EXACT)
def test_becker_lecun_is_exact_where_nothing_is_dropped(name):
    obj, theta = least_squares(EXACT[name](), SMALL)
    assert_close(becker_lecun_diagonal(obj, theta), np.diag(hessian_dense(obj, theta)), rtol=1e-11)


# ------------------------------------------------------ hX against brute force

HX = {
    "maxpool2d_overlap": lambda: MaxPool2d((4, 5, 2), (2, 3), stride=1),
    "maxpool2d": lambda: MaxPool2d((4, 4, 3), 2),
    "maxpool1d": lambda: MaxPool1d((7, 2), 3, stride=2),
    "avgpool2d_overlap": lambda: AvgPool2d((4, 5, 2), (2, 3), stride=(1, 2)),
    "avgpool2d": lambda: AvgPool2d((4, 4, 1), 2),
    "avgpool1d": lambda: AvgPool1d((7, 2), 3, stride=1),
    "reshape": lambda: Reshape((3, 4), (2, 6)),
    "flatten": lambda: Flatten((2, 3, 2)),
    "dropout": lambda: Dropout(6, 0.5, seed=4, key=7),
    "dropout_inference": lambda: Dropout(6, 0.5, seed=4),
    "conv2d_stride_pad": lambda: Conv2d(
        (5, 4, 2), 3, (3, 2), stride=(2, 1), padding=(1, 2), activation="tanh"
    ),
    "conv1d": lambda: Conv1d((6, 2), 2, 3, stride=2, padding=1, activation="softplus"),
    "rnn_one_step": lambda: Recurrent(1, 3, 2, activation="tanh"),
}


def brute_force_hX(layer, theta, cache, gZ, hZ):
    """hX_i = Σ_k J_ki² hZ_k + ∂²(gZ · Z)/∂X_i²: J column by column by ``jvp``, the second term by ``rop``."""
    n, hX = gZ.shape[0], np.empty((gZ.shape[0], layer.d_in))
    for i in range(layer.d_in):
        E = np.zeros((n, layer.d_in))
        E[:, i] = 1.0
        J_i = layer.jvp(theta, cache, None, E)
        hX[:, i] = (J_i * J_i * hZ).sum(axis=1) + layer.rop(theta, cache, None, E, gZ, None)[1][
            :, i
        ]
    return hX


@pytest.mark.parametrize("name", HX)
def test_diag_backward_input_curvature_equals_brute_force(name):
    layer = HX[name]()
    rng, theta, X = data(layer, SMALL)
    _, cache = layer.forward(theta, X)
    gZ, hZ = (
        rng.standard_normal((SMALL.n_samples, layer.d_out)),
        rng.random((SMALL.n_samples, layer.d_out)),
    )
    hX = layer.diag_backward(theta, cache, gZ, hZ)[1]
    assert hX.shape == X.shape
    assert_close(hX, brute_force_hX(layer, theta, cache, gZ, hZ), rtol=1e-12)


@pytest.mark.parametrize("name", HX)
def test_diag_backward_writes_into_out_like_vjp(name):
    layer = HX[name]()
    rng, theta, X = data(layer, SMALL)
    _, cache = layer.forward(theta, X)
    gZ, hZ = (
        rng.standard_normal((SMALL.n_samples, layer.d_out)),
        rng.random((SMALL.n_samples, layer.d_out)),
    )
    d, hX = layer.diag_backward(theta, cache, gZ, hZ, need_hX=False)
    assert hX is None and d.shape == (layer.n_params,) and d.dtype == theta.dtype
    out = np.full(layer.n_params, np.nan)
    assert layer.diag_backward(theta, cache, gZ, hZ, out=out)[0] is out
    np.testing.assert_array_equal(out, d)


# ------------------------------------------------ the recursion through time


def unrolled_reference(layer, theta, X, gZ, hZ):
    """Becker–LeCun on the unrolled RNN: step t is Dense's step on [x_t, h_{t−1}] with W = [W_x; W_h]."""
    p, T, d_x = layer.unpack(theta), layer.n_steps, layer.d_x
    step = Dense(d_x + layer.d_h, layer.d_h, layer.activation, bias=layer.bias)
    step_theta = np.concatenate(
        [np.vstack([p["W_x"], p["W_h"]]).ravel(), p["b"] if layer.bias else []]
    )
    X3, h, caches = X.reshape(X.shape[0], T, d_x), np.zeros((X.shape[0], layer.d_h)), []
    for t in range(T):
        h, cache = step.forward(step_theta, np.hstack([X3[:, t], h]))
        caches.append(cache)
    G, Hh = (V.reshape(X.shape[0], -1, layer.d_h) for V in (gZ, hZ))
    d, hX, g_carry, h_carry = np.zeros(step.n_params), np.empty_like(X3), 0.0, 0.0
    for t in reversed(range(T)):
        k = t - T + G.shape[1]  # the output's own step (none before T when output="last")
        gh = g_carry + (G[:, k] if k >= 0 else 0.0)
        hh = h_carry + (Hh[:, k] if k >= 0 else 0.0)
        d_t, h_in = step.diag_backward(step_theta, caches[t], gh, hh)
        g_in = step.vjp(step_theta, caches[t], gh, need_gtheta=False)[1]
        d += d_t
        hX[:, t], h_carry, g_carry = h_in[:, :d_x], h_in[:, d_x:], g_in[:, d_x:]
    return d, hX.reshape(X.shape)


@pytest.mark.parametrize("output", ["last", "sequence"])
@pytest.mark.parametrize(
    "activation, bias", [("tanh", True), ("sigmoid", False), ("identity", True)]
)
def test_recurrent_diag_backward_is_the_unrolled_dense_recursion(output, activation, bias):
    layer = Recurrent(4, 2, 3, activation=activation, output=output, bias=bias)
    rng, theta, X = data(layer, SMALL)
    _, cache = layer.forward(theta, X)
    gZ, hZ = (
        rng.standard_normal((SMALL.n_samples, layer.d_out)),
        rng.random((SMALL.n_samples, layer.d_out)),
    )
    d, hX = layer.diag_backward(theta, cache, gZ, hZ)
    d_ref, hX_ref = unrolled_reference(layer, theta, X, gZ, hZ)
    assert_close(d, d_ref, rtol=1e-12)
    assert_close(hX, hX_ref, rtol=1e-12)


# --------------------------------------------------- every registered network

SHAPES = [
    Shape(n_samples=4, d_in=2, hidden=3, d_out=2, seed=5),
    Shape(n_samples=1, d_in=1, hidden=2, d_out=1, seed=8),
]


def output_layer_slice(net):
    """The slice of ``theta`` of the network's output layer when it is a Dense layer, else None."""
    if isinstance(net, Dense):
        return slice(0, net.n_params)
    if isinstance(net, Sequential):
        inner, s = output_layer_slice(net.layers[-1]), net.slices[-1]
        return None if inner is None else slice(s.start + inner.start, s.start + inner.stop)
    if isinstance(net, Graph) and net.nodes[net.output].share is None:
        inner, s = output_layer_slice(net.nodes[net.output].op), net.slices[net.output]
        return None if inner is None else slice(s.start + inner.start, s.start + inner.stop)
    return None


@pytest.mark.parametrize("shape", SHAPES, ids=["n4", "n1"])
@pytest.mark.parametrize("name", LAYERS)
def test_becker_lecun_on_every_registered_network(name, shape):
    """Finite, one entry per parameter, and exact on an output Dense layer (it sees the exact loss curvature)."""
    obj, theta = least_squares(LAYERS[name]("tanh", shape), shape)
    d = becker_lecun_diagonal(obj, theta)
    assert d.shape == (obj.n_params,) and d.dtype == np.float64 and np.isfinite(d).all()
    last = output_layer_slice(obj.net)
    if last is not None:
        assert_close(d[last], np.diag(hessian_dense(obj, theta))[last], rtol=1e-11)


@pytest.mark.parametrize("name", LAYERS)
def test_becker_lecun_float32_keeps_dtype_and_agrees_with_float64(name):
    shape = SHAPES[0]
    obj32, theta32 = least_squares(LAYERS[name]("tanh", shape), shape, np.float32)
    obj64, theta64 = least_squares(LAYERS[name]("tanh", shape), shape)
    d32, d64 = becker_lecun_diagonal(obj32, theta32), becker_lecun_diagonal(obj64, theta64)
    assert d32.dtype == np.float32
    assert np.linalg.norm(d32 - d64) <= 1e-4 * np.linalg.norm(d64)
