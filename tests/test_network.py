"""numnet.network.Sequential: composition over one flat theta.

The derivative matrix of test_layers.py already runs every registered
network through check_layer; here: the network *is* the composition of its
layers on the slices of theta, nesting does not change anything, the
slices and views are right, init is reproducible, and bad input is named.
"""

import numpy as np
import pytest
from hypothesis import given
from registry import LAYERS, PROPERTY, Shape, data, shapes

from numnet.layers import Dense, Residual
from numnet.network import Sequential

NETWORKS = [
    name
    for name, make in LAYERS.items()
    if isinstance(make("tanh", Shape(2, 2, 2, 2, 0)), Sequential)
]


def _flatten(net):
    out = []
    for layer in net.layers:
        out += _flatten(layer) if isinstance(layer, Sequential) else [layer]
    return out


@pytest.mark.parametrize("net_name", NETWORKS)
@PROPERTY
@given(s=shapes())
def test_forward_is_the_composition_of_layers_on_their_slices(net_name, s):
    net = LAYERS[net_name]("sigmoid", s)
    _, theta, X = data(net, s)
    Z = X
    for layer, sl in zip(net.layers, net.slices):
        Z = layer.forward(theta[sl], Z)[0]
    np.testing.assert_array_equal(net.predict(theta, X), Z)


@pytest.mark.parametrize("net_name", NETWORKS)
@PROPERTY
@given(s=shapes())
def test_nesting_changes_no_product(net_name, s):
    net = LAYERS[net_name]("tanh", s)
    flat = Sequential(_flatten(net))
    rng, theta, X = data(net, s)
    assert flat.n_params == net.n_params
    dtheta, dX = rng.standard_normal(theta.shape), rng.standard_normal(X.shape)
    (Z, c), (Zf, cf) = net.forward(theta, X), flat.forward(theta, X)
    gZ, dgZ = rng.standard_normal(Z.shape), rng.standard_normal(Z.shape)
    np.testing.assert_allclose(Z, Zf, rtol=1e-14)
    np.testing.assert_allclose(
        net.jvp(theta, c, dtheta, dX), flat.jvp(theta, cf, dtheta, dX), rtol=1e-13
    )
    for a, b in zip(net.vjp(theta, c, gZ), flat.vjp(theta, cf, gZ)):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)
    for a, b in zip(
        net.rop(theta, c, dtheta, dX, gZ, dgZ), flat.rop(theta, cf, dtheta, dX, gZ, dgZ)
    ):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14)


def _net():
    return Sequential([Dense(3, 4, "tanh"), Residual(4, "relu"), Dense(4, 2, bias=False)])


def test_slices_tile_theta_and_unpack_gives_views():
    net = _net()
    assert [(s.start, s.stop) for s in net.slices] == [(0, 16), (16, 36), (36, 44)]
    assert net.n_params == 44 and (net.d_in, net.d_out) == (3, 2)
    theta = net.init(0)
    params = net.unpack(theta)
    assert [sorted(p) for p in params] == [["W", "b"]] * 3 and params[2]["b"] is None
    assert all(np.shares_memory(p["W"], theta) for p in params)
    params[1]["W"][0, 0] = 123.0
    assert theta[16] == 123.0


def test_bias_mask_concatenates_layer_masks():
    mask = _net().bias_mask()
    assert mask.shape == (44,) and mask.sum() == 4 + 4
    assert mask[12:16].all() and mask[32:36].all() and not mask[36:].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_init_is_reproducible_and_typed(dtype):
    net = _net()
    a, b = net.init(7, dtype), net.init(np.random.default_rng(7), dtype)
    assert a.dtype == dtype and np.array_equal(a, b)
    assert not np.array_equal(a, net.init(8, dtype))
    assert net.predict(a, np.ones((2, 3), dtype)).dtype == dtype


def test_predict_converts_integer_input_to_theta_dtype():
    net = _net()
    theta = net.init(0, np.float32)
    F = net.predict(theta, np.arange(6).reshape(2, 3))
    assert F.dtype == np.float32
    np.testing.assert_allclose(
        F, net.predict(theta, np.arange(6.0, dtype=np.float32).reshape(2, 3))
    )


def test_smooth_is_false_when_any_layer_is_kinked():
    assert not _net().smooth
    assert Sequential([Dense(2, 2, "tanh"), Dense(2, 1)]).smooth


def test_constructor_errors_name_the_argument():
    with pytest.raises(ValueError, match="layers must be a non-empty"):
        Sequential([])
    with pytest.raises(ValueError, match=r"layers\[0\] has d_out=4 but layers\[1\] has d_in=3"):
        Sequential([Dense(2, 4), Dense(3, 1)])


def test_init_errors_name_the_argument():
    with pytest.raises(ValueError, match="scheme"):
        _net().init(0, scheme="kaiming")
    with pytest.raises(TypeError, match="seed"):
        _net().init("zero")
    with pytest.raises(TypeError, match="dtype"):
        _net().init(0, np.int32)


@pytest.mark.parametrize(
    "theta, X, exc, match",
    [
        (np.zeros(43), np.zeros((2, 3)), ValueError, "theta must be a 1-D array of shape"),
        (np.zeros(44), np.zeros((2, 4)), ValueError, "X must have shape"),
        (np.zeros(44, np.float32), np.zeros((2, 3)), TypeError, "X has dtype float64"),
        (np.full(44, np.nan), np.zeros((2, 3)), ValueError, "theta contains NaN"),
        (np.zeros(44), np.full((2, 3), -np.inf), ValueError, "X contains NaN or inf"),
    ],
)
def test_forward_errors_name_the_argument(theta, X, exc, match):
    with pytest.raises(exc, match=match):
        _net().forward(theta, X)


def test_unpack_rejects_wrong_length():
    with pytest.raises(ValueError, match="theta"):
        _net().unpack(np.zeros(3))


@pytest.mark.parametrize("net_name", ["mlp3", "graph_shared", "graph_nested"])
def test_diag_backward_returns_the_input_curvature_by_default(net_name):
    """need_hX defaults to True: hX (the Becker–LeCun curvature at the input) is returned, and equals
    the one asked for explicitly; with need_hX=False it is None and the parameter diagonal is unchanged."""
    s = Shape(n_samples=4, d_in=3, hidden=3, d_out=2, seed=5)
    net = LAYERS[net_name]("tanh", s)
    rng, theta, X = data(net, s)
    F, cache = net.forward(theta, X)
    gZ, hZ = rng.standard_normal(F.shape), rng.random(F.shape)
    d, hX = net.diag_backward(theta, cache, gZ, hZ)
    assert hX is not None and hX.shape == X.shape
    d2, hX2 = net.diag_backward(theta, cache, gZ, hZ, need_hX=True)
    np.testing.assert_array_equal(hX, hX2)
    d3, none = net.diag_backward(theta, cache, gZ, hZ, need_hX=False)
    assert none is None
    np.testing.assert_array_equal(d, d3)


@pytest.mark.parametrize(
    "net_name, n_biases",
    [
        ("mlp3", 3 + 3 + 2),
        ("graph_shared", 3 + 3 + 2),
        ("graph_inception", 3 + 2 + 3 + 2 + 2),
        ("rnn_last", 2),
    ],
)
def test_bias_mask_marks_exactly_the_biases(net_name, n_biases):
    """The mask that weight decay uses to skip biases has one True per bias (a shared slice counts once)."""
    net = LAYERS[net_name]("tanh", Shape(n_samples=2, d_in=3, hidden=3, d_out=2, seed=0))
    mask = net.bias_mask()
    assert mask.shape == (net.n_params,) and mask.dtype == bool
    assert mask.sum() == n_biases


@pytest.mark.parametrize("net_name", ["graph_shared", "graph_nested", "nested"])
def test_map_layers_with_the_identity_rebuilds_the_same_network(net_name):
    """map_layers keeps shared slices, the output node and every product: same θ layout, same F."""
    s = Shape(n_samples=3, d_in=3, hidden=3, d_out=2, seed=4)
    net = LAYERS[net_name]("tanh", s)
    again = net.map_layers(lambda layer: layer)
    assert repr(again) == repr(net) and again.n_params == net.n_params
    _, theta, X = data(net, s)
    np.testing.assert_array_equal(again.forward(theta, X)[0], net.forward(theta, X)[0])
