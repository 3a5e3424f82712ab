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


class PublicOnly:
    """A user's layer with only the public contract of :class:`numnet.layers.Layer`:
    no unchecked ``_forward``, no ``diag_backward``, no workspace (it delegates to ``layer``)."""

    def __init__(self, layer):
        self.layer, self.d_in, self.d_out = layer, layer.d_in, layer.d_out

    n_params = property(lambda self: self.layer.n_params)
    smooth = property(lambda self: self.layer.smooth)

    def init(self, rng, dtype=np.float64, scheme="xavier"):
        return self.layer.init(rng, dtype, scheme)

    def unpack(self, theta):
        return self.layer.unpack(theta)

    def bias_mask(self):
        return self.layer.bias_mask()

    def forward(self, theta, X):
        return self.layer.forward(theta, X)

    def tangent(self, theta, cache, dtheta, dX):
        return self.layer.tangent(theta, cache, dtheta, dX)

    def jvp(self, theta, cache, dtheta, dX):
        return self.layer.jvp(theta, cache, dtheta, dX)

    def vjp(self, theta, cache, gZ, **kw):
        return self.layer.vjp(theta, cache, gZ, **kw)

    def rop(self, theta, cache, dtheta, dX, gZ, dgZ, **kw):
        return self.layer.rop(theta, cache, dtheta, dX, gZ, dgZ, **kw)

    def get_config(self):
        return {"layer": self.layer}


def test_a_layer_with_only_the_public_contract_composes():
    """_forward and diag_backward are optional: a layer without them gives the same products
    as the built-in one, and Becker–LeCun refuses it naming its position."""
    from numnet.layers import Layer

    plain = Sequential([Dense(2, 3, "tanh"), Dense(3, 2, "sin")])
    user = Sequential([Dense(2, 3, "tanh"), PublicOnly(Dense(3, 2, "sin"))])
    assert isinstance(user.layers[1], Layer) and not hasattr(user.layers[1], "_forward")
    rng = np.random.default_rng(8)
    theta, X = plain.init(rng, scheme="normal"), rng.standard_normal((4, 2))
    (F, c), (Fu, cu) = plain.forward(theta, X), user.forward(theta, X)
    np.testing.assert_array_equal(Fu, F)
    gZ, v = rng.standard_normal(F.shape), rng.standard_normal(theta.shape)
    for a, b in zip(user.vjp(theta, cu, gZ), plain.vjp(theta, c, gZ)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(user.rop(theta, cu, v, None, gZ, None), plain.rop(theta, c, v, None, gZ, None)):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)
    with pytest.raises(
        TypeError,
        match=r"^becker_lecun_diagonal needs diag_backward on every layer; layer 1 is <",
    ):
        user.diag_backward(theta, cu, gZ, np.ones_like(F))


def test_an_overflowing_intermediate_gives_a_non_finite_output_not_an_error():
    """forward checks theta and X once; an intermediate that overflows to inf propagates
    (line searches reject a non-finite trial value) instead of failing a layer's input check."""
    net = Sequential([Dense(1, 1), Dense(1, 1)])
    theta = np.array([1e200, 0.0, 1.0, 0.0])
    with np.errstate(over="ignore"):
        F = net.predict(theta, np.array([[1e200]]))
    assert F.shape == (1, 1) and np.isposinf(F).all()


def test_layers_that_take_a_workspace_get_their_own_scope():
    """With ws, each layer that takes a workspace keeps its buffers in ws.scope(i); the results
    are those computed without one."""
    from numnet.workspace import Workspace

    net = _net()
    rng = np.random.default_rng(9)
    theta, X = net.init(rng), rng.standard_normal((5, 3))
    ws = Workspace()
    F, c = net.forward(theta, X, ws=ws)
    np.testing.assert_array_equal(F, net.predict(theta, X))
    assert all(ws.scope(i).nbytes > 0 for i in range(len(net.layers)))


def test_unpack_accepts_a_non_finite_theta():
    """unpack only slices (one may inspect a diverged θ): NaN and inf are not refused."""
    net = _net()
    theta = np.full(net.n_params, np.nan)
    theta[0] = np.inf
    params = net.unpack(theta)
    assert np.isposinf(params[0]["W"][0, 0]) and np.isnan(params[2]["W"]).all()


def test_constructor_messages_are_exact():
    with pytest.raises(ValueError, match=r"^layers must be a non-empty sequence of layers$"):
        Sequential([])
    with pytest.raises(
        TypeError, match=r"^layers\[1\] must be a layer \(see numnet.layers.Layer\), got str$"
    ):
        Sequential([Dense(2, 2), "Dense"])


def test_mlp_builds_dense_layers_of_the_given_widths():
    """Hidden layers Dense(·, ·, activation) (tanh by default), a linear output layer."""
    from numnet.network import mlp

    net = mlp(3, [5, 4], 2)
    assert [(layer.d_in, layer.d_out) for layer in net.layers] == [(3, 5), (5, 4), (4, 2)]
    assert all(type(layer) is Dense and layer.bias for layer in net.layers)
    assert [layer.activation.name for layer in net.layers] == ["tanh", "tanh", "identity"]
    relu = mlp(2, [3], 1, activation="relu")
    assert [(la.d_in, la.d_out, la.activation.name) for la in relu.layers] == [
        (2, 3, "relu"),
        (3, 1, "identity"),
    ]
    linear = mlp(4, [], 3)
    assert len(linear.layers) == 1 and linear.layers[0].affine
    assert (linear.d_in, linear.d_out, linear.n_params) == (4, 3, 15)


def test_split_output_separates_an_affine_last_layer():
    """(hidden, output) with hidden the layers before an affine last layer; None when the last
    layer is not affine or is the only one."""
    layers = [Dense(2, 3, "tanh"), Dense(3, 3, "identity"), Dense(3, 4, "sin"), Dense(4, 1)]
    hidden, output = Sequential(layers).split_output()
    assert output is layers[3] and hidden.layers == layers[:3]
    hidden, output = Sequential(layers[:2]).split_output()
    assert output is layers[1] and hidden.layers == layers[:1]
    assert Sequential(layers[:3]).split_output() is None
    assert Sequential([Dense(2, 2, "tanh"), Residual(2, "tanh")]).split_output() is None
    assert Sequential([Dense(2, 1)]).split_output() is None


def test_single_hidden_layer_slices_are_the_two_dense_blocks():
    """The (θ₁, θ₂) slices of a network of exactly two Dense layers, None otherwise."""
    net = Sequential([Dense(2, 3, "tanh"), Dense(3, 1)])
    assert net.single_hidden_layer_slices() == (slice(0, 9), slice(9, 13))
    assert net.single_hidden_layer_slices() == tuple(net.slices)
    assert Sequential([Dense(2, 3), Dense(3, 3), Dense(3, 1)]).single_hidden_layer_slices() is None
    assert Sequential([Dense(2, 2), Residual(2, "tanh")]).single_hidden_layer_slices() is None
    assert Sequential([Dense(2, 1)]).single_hidden_layer_slices() is None
