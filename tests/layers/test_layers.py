"""numnet.layers (and every registered layer or network): the derivative matrix.

LAYERS × ACTIVATIONS in float64: the public :func:`numnet.checks.check_layer`
(Taylor test of forward/jvp, adjoint test of jvp/vjp, Taylor test of rop as
the derivative of vjp, symmetry of the second-order part). Non-smooth
activations are handled by the layer's ``smooth`` capability flag, never by
name. LAYERS × ACTIVATIONS in float32: every product stays float32 and agrees
with float64 to 1e-4. Then the contract details: linearity in the
directions, ``need_*`` flags, ``out=``, no mutation, views, init schemes.
"""

import numpy as np
import pytest
from hypothesis import example, given
from registry import LAYERS, PROPERTY, Shape, data, shapes

from numnet.activations import ACTIVATIONS
from numnet.checks import check_layer
from numnet.layers import (
    INIT_SCHEMES,
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
    Residual,
)

ACTS = sorted(ACTIVATIONS)


def n_steps(layer):
    """Rows of the Taylor table, by capability: a kinked layer is judged on its
    small-h tail, which must get below the distance to the nearest kink."""
    return 14 if layer.smooth else 24


def _products(layer, theta, X, dtheta, dX, gZ, dgZ):
    Z, cache = layer.forward(theta, X)
    dZ = layer.jvp(theta, cache, dtheta, dX)
    gtheta, gX = layer.vjp(theta, cache, gZ)
    Rg, RgX = layer.rop(theta, cache, dtheta, dX, gZ, dgZ)
    return {"Z": Z, "dZ": dZ, "gtheta": gtheta, "gX": gX, "Rgtheta": Rg, "RgX": RgX}


def _directions(rng, layer, theta, X):
    Z = layer.forward(theta, X)[0]
    return (
        rng.standard_normal(theta.shape),
        rng.standard_normal(X.shape),
        rng.standard_normal(Z.shape),
        rng.standard_normal(Z.shape),
    )


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("layer_name", LAYERS)
@PROPERTY
@given(s=shapes())
def test_check_layer_float64(layer_name, act, s):
    layer = LAYERS[layer_name](act, s)
    _, theta, X = data(layer, s)
    res = check_layer(layer, X, theta, seed=s.seed, n_steps=n_steps(layer))
    assert res.passed, str(res)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("layer_name", LAYERS)
@PROPERTY
@given(s=shapes())
@example(s=Shape(n_samples=1, d_in=5, hidden=4, d_out=1, seed=0))  # graph_shared-tanh saturates
def test_float32_keeps_dtype_and_agrees_with_float64(layer_name, act, s):
    layer = LAYERS[layer_name](act, s)
    rng, theta, X = data(layer, s)
    dirs = _directions(rng, layer, theta, X)
    ref = _products(layer, theta, X, *dirs)
    single = _products(
        layer, theta.astype(np.float32), X.astype(np.float32), *(d.astype(np.float32) for d in dirs)
    )
    for key, value in single.items():
        assert value.dtype == np.float32, key
        assert _agrees_in_float32(value, ref[key]), key


def _agrees_in_float32(single, double):
    """‖a − b‖ ≤ 1e-4 ‖b‖ + 1e-5 √size: relative agreement, with an absolute floor
    for products that vanish by saturation. A saturated unit's σ′ is taken from the
    output (tanh: 1 − Z², as PyTorch's tanh backward), which float32 knows only to
    its absolute rounding of the O(1) inputs, so ‖b‖ ≈ 1e-8 keeps no relative digits."""
    err = np.linalg.norm(np.asarray(single, dtype=np.float64) - double)
    return err <= 1e-4 * np.linalg.norm(double) + 1e-5 * np.sqrt(double.size)


@pytest.mark.parametrize("layer_name", LAYERS)
@PROPERTY
@given(s=shapes())
def test_jvp_and_rop_are_linear_in_the_directions(layer_name, s):
    layer = LAYERS[layer_name]("tanh", s)
    rng, theta, X = data(layer, s)
    dtheta, dX, gZ, dgZ = _directions(rng, layer, theta, X)
    c = layer.forward(theta, X)[1]
    both = layer.jvp(theta, c, dtheta, dX)
    np.testing.assert_allclose(
        both,
        layer.jvp(theta, c, dtheta, None) + layer.jvp(theta, c, None, dX),
        rtol=1e-12,
        atol=1e-12,
    )
    R = np.concatenate([r.ravel() for r in layer.rop(theta, c, dtheta, dX, gZ, dgZ)])
    parts = [
        layer.rop(theta, c, dtheta, None, gZ, None),
        layer.rop(theta, c, None, dX, gZ, None),
        layer.rop(theta, c, None, None, gZ, dgZ),
    ]
    summed = sum(np.concatenate([r.ravel() for r in p]) for p in parts)
    np.testing.assert_allclose(R, summed, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layer_name", LAYERS)
@PROPERTY
@given(s=shapes())
def test_need_flags_out_and_no_mutation(layer_name, s):
    layer = LAYERS[layer_name]("sigmoid", s)
    rng, theta, X = data(layer, s)
    dtheta, dX, gZ, dgZ = _directions(rng, layer, theta, X)
    inputs = [a.copy() for a in (theta, X, dtheta, dX, gZ, dgZ)]
    c = layer.forward(theta, X)[1]
    gtheta, gX = layer.vjp(theta, c, gZ)
    out = np.full(layer.n_params, np.nan)
    g_only, none = layer.vjp(theta, c, gZ, need_gX=False, out=out)
    assert none is None and g_only is out and np.array_equal(out, gtheta)
    assert layer.vjp(theta, c, gZ, need_gtheta=False)[0] is None
    np.testing.assert_array_equal(layer.vjp(theta, c, gZ, need_gtheta=False)[1], gX)
    Rg = layer.rop(theta, c, dtheta, dX, gZ, dgZ)[0]
    out2 = np.full(layer.n_params, np.nan)
    Rg2, none2 = layer.rop(theta, c, dtheta, dX, gZ, dgZ, need_gX=False, out=out2)
    assert none2 is None and Rg2 is out2 and np.allclose(out2, Rg, rtol=1e-14, atol=1e-14)
    for before, after in zip(inputs, (theta, X, dtheta, dX, gZ, dgZ)):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("layer_name", LAYERS)
def test_output_shape_and_parameter_views(layer_name):
    s = Shape(n_samples=5, d_in=3, hidden=4, d_out=2, seed=1)
    layer = LAYERS[layer_name]("tanh", s)
    _, theta, X = data(layer, s)
    Z, _ = layer.forward(theta, X)
    assert Z.shape == (5, layer.d_out)
    assert layer.bias_mask().shape == (layer.n_params,) and layer.bias_mask().dtype == bool
    params = layer.unpack(theta)
    arrays, stack = [], [params]
    while stack:  # nested lists (Sequential) and dicts (layers, Graph) down to the arrays
        p = stack.pop()
        children = p if isinstance(p, list) else p.values() if isinstance(p, dict) else None
        if children is None:
            arrays.append(p)
        else:
            stack.extend(c for c in children if c is not None)
    assert sum(a.size for a in arrays) == layer.n_params
    assert all(np.shares_memory(a, theta) for a in arrays)


def test_dense_formula_and_bias_layout():
    layer = Dense(2, 3, "tanh")
    theta = np.arange(9.0) / 10
    X = np.array([[1.0, -2.0]])
    W, b = theta[:6].reshape(2, 3), theta[6:]
    np.testing.assert_allclose(layer.forward(theta, X)[0], np.tanh(X @ W + b), rtol=1e-15)
    np.testing.assert_array_equal(layer.bias_mask(), [False] * 6 + [True] * 3)
    assert Dense(2, 3, bias=False).n_params == 6 and not Dense(2, 3, bias=False).bias_mask().any()


def test_residual_formula():
    layer = Residual(3, "sin", step=0.25)
    rng = np.random.default_rng(2)
    theta, X = layer.init(rng, scheme="normal"), rng.standard_normal((4, 3))
    W, b = theta[:9].reshape(3, 3), theta[9:]
    np.testing.assert_allclose(layer.forward(theta, X)[0], X + 0.25 * np.sin(X @ W + b), rtol=1e-14)


@pytest.mark.parametrize("scheme", INIT_SCHEMES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_init_schemes_scale_and_dtype(scheme, dtype):
    layer = Dense(200, 100)
    theta = layer.init(np.random.default_rng(0), dtype, scheme)
    W, b = layer.unpack(theta)["W"], layer.unpack(theta)["b"]
    expected = {"normal": 1.0, "xavier": np.sqrt(2 / 300), "he": np.sqrt(2 / 200)}[scheme]
    assert theta.dtype == dtype and W.std() == pytest.approx(expected, rel=0.02)
    assert (b.std() == pytest.approx(1.0, rel=0.3)) if scheme == "normal" else not b.any()


def test_smooth_flag_follows_activation_flag():
    for name, act in ACTIVATIONS.items():
        assert Dense(2, 2, name).smooth == act.smooth == Residual(2, name).smooth


@pytest.mark.parametrize(
    "args, match",
    [
        ((0, 2), "d_in"),
        ((2, -1), "d_out"),
        ((2.5, 2), "d_in"),
        ((True, 2), "d_in"),
        ((2, 2, "tanhh"), "activation"),
    ],
)
def test_dense_constructor_errors_name_the_argument(args, match):
    with pytest.raises(ValueError, match=f"^{match} must"):
        Dense(*args)


def test_residual_and_init_errors_name_the_argument():
    with pytest.raises(ValueError, match="step"):
        Residual(3, step=np.inf)
    with pytest.raises(ValueError, match="scheme"):
        Dense(2, 2).init(np.random.default_rng(0), scheme="glorot")
    with pytest.raises(TypeError, match="dtype"):
        Dense(2, 2).init(np.random.default_rng(0), np.float16)


@pytest.mark.parametrize(
    "theta, X, exc, match",
    [
        (np.zeros(5), np.zeros((2, 2)), ValueError, "theta"),
        (np.zeros((6, 1)), np.zeros((2, 2)), ValueError, "theta"),
        (np.zeros(6), np.zeros((2, 3)), ValueError, "X"),
        (np.zeros(6), np.zeros(2), ValueError, "X"),
        (np.zeros(6, np.float32), np.zeros((2, 2)), TypeError, "X has dtype float64"),
        (np.zeros(6), np.full((2, 2), np.nan), ValueError, "X contains NaN"),
        (np.full(6, np.inf), np.zeros((2, 2)), ValueError, "theta contains NaN or inf"),
        (np.zeros(6, np.int64), np.zeros((2, 2)), TypeError, "theta"),
    ],
)
def test_forward_errors_name_the_argument(theta, X, exc, match):
    with pytest.raises(exc, match=match):
        Dense(2, 2, "tanh").forward(theta, X)


#: every leaf layer kind, alone (inside a network a layer always gets an input direction)
LEAVES = {
    "dense": lambda: Dense(3, 2, "tanh"),
    "residual": lambda: Residual(3, "sigmoid"),
    "conv2d": lambda: Conv2d((3, 1, 1), 2, (2, 1), activation="tanh"),
    "conv1d": lambda: Conv1d((3, 1), 2, 2),
    "maxpool2d": lambda: MaxPool2d((3, 1, 1), (2, 1), stride=1),
    "avgpool2d": lambda: AvgPool2d((2, 3, 1), (1, 2)),
    "maxpool1d": lambda: MaxPool1d((3, 1), 2),
    "avgpool1d": lambda: AvgPool1d((3, 1), 2, stride=1),
    "reshape": lambda: Reshape((3, 1), (1, 3)),
    "flatten": lambda: Flatten((3, 1)),
    "dropout": lambda: Dropout(3, 0.5, seed=0, key=1),
    "recurrent": lambda: Recurrent(1, 3, 2),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", LEAVES)
def test_products_along_no_direction_are_zero_in_the_layer_dtype(name, dtype):
    """jvp(θ, c, None, None) = 0, and rop along no direction with gZ fixed (dgZ = None) is 0; all in θ's dtype."""
    layer = LEAVES[name]()
    rng = np.random.default_rng(3)
    theta = layer.init(rng, dtype, "normal")
    X = rng.standard_normal((4, layer.d_in)).astype(dtype)
    Z, c = layer.forward(theta, X)
    dZ = layer.jvp(theta, c, None, None)
    assert dZ.shape == Z.shape and dZ.dtype == dtype and not dZ.any()
    gZ = rng.standard_normal(Z.shape).astype(dtype)
    g, gX = layer.vjp(theta, c, gZ)
    assert g.shape == (layer.n_params,) and g.dtype == dtype and gX.dtype == dtype
    Rg, RgX = layer.rop(theta, c, None, None, gZ, None)
    assert Rg.shape == (layer.n_params,) and RgX.shape == X.shape
    assert Rg.dtype == dtype and RgX.dtype == dtype
    assert not Rg.any() and not RgX.any()


@pytest.mark.parametrize("act", ["tanh", "sigmoid", "softplus", "identity"])
@pytest.mark.parametrize(
    "make",
    [lambda act: Dense(3, 2, act), lambda act: Residual(3, act, step=0.7)],
    ids=["dense", "residual"],
)
def test_diag_backward_is_the_exact_diagonal_for_a_diagonal_output_curvature(make, act):
    """Becker–LeCun's step is exact for these layers when the output curvature is diagonal: for
    L = Σ gZ ⊙ (Z − Z₀) + ½ Σ hZ ⊙ (Z − Z₀)², the diagonals of ∇²_θ L and of each sample's ∇²_X L,
    brute-forced column by column from rop (dgZ = hZ ⊙ J v), equal diag_backward's (d, hX)."""
    layer = make(act)
    rng = np.random.default_rng(7)
    theta = layer.init(rng, np.float64, "normal")
    X = rng.standard_normal((4, layer.d_in))
    Z, c = layer.forward(theta, X)
    gZ, hZ = rng.standard_normal(Z.shape), rng.random(Z.shape) + 0.5
    d, hX = layer.diag_backward(theta, c, gZ, hZ)
    want_d = np.empty(layer.n_params)
    for p, e in enumerate(np.eye(layer.n_params)):
        want_d[p] = layer.rop(theta, c, e, None, gZ, hZ * layer.jvp(theta, c, e, None))[0][p]
    want_hX = np.empty_like(X)
    for j in range(layer.d_in):
        E = np.zeros_like(X)
        E[:, j] = (
            1  # samples are independent: one column direction gives every sample's (j, j) entry
        )
        want_hX[:, j] = layer.rop(theta, c, None, E, gZ, hZ * layer.jvp(theta, c, None, E))[1][:, j]
    np.testing.assert_allclose(d, want_d, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(hX, want_hX, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", LEAVES)
def test_forward_and_jvp_check_their_arguments_against_theta(name):
    """X takes theta's dtype (integers are converted, the other float precision is refused) and must
    have d_in columns; jvp's dX must have the cache's rows and dtheta n_params entries; every error
    message starts with the argument's name."""
    layer = LEAVES[name]()
    rng = np.random.default_rng(5)
    theta32 = layer.init(rng, np.float32, "normal")
    Xint = rng.integers(-3, 4, size=(4, layer.d_in))
    Z, cache = layer.forward(theta32, Xint)
    assert Z.dtype == np.float32 and Z.shape == (4, layer.d_out)
    np.testing.assert_allclose(
        Z,
        layer.forward(theta32.astype(np.float64), Xint.astype(np.float64))[0],
        rtol=1e-5,
        atol=1e-5,
    )
    with pytest.raises(TypeError, match="^X has dtype float64 but the parameters are float32"):
        layer.forward(theta32, Xint.astype(np.float64))
    with pytest.raises(ValueError, match=rf"^X must have shape \(n_samples, {layer.d_in}\)"):
        layer.forward(theta32, np.zeros((4, layer.d_in + 1), np.float32))
    with pytest.raises(ValueError, match=rf"^dX must have shape \(4, {layer.d_in}\)"):
        layer.jvp(theta32, cache, None, np.ones((5, layer.d_in)))
    with pytest.raises(ValueError, match=rf"^dX must have shape \(4, {layer.d_in}\)"):
        layer.jvp(theta32, cache, None, np.ones((1, layer.d_in)))
    with pytest.raises(ValueError, match=rf"^dtheta must have shape \({layer.n_params},\)"):
        layer.jvp(theta32, cache, np.ones(layer.n_params + 1), None)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", LEAVES)
def test_need_flags_and_out_of_every_leaf(name, dtype):
    """A part that is not needed is None, ``out`` is the returned parameter part itself (vjp, rop,
    diag_backward), and every returned array has the layer's dtype."""
    layer = LEAVES[name]()
    rng = np.random.default_rng(6)
    theta = layer.init(rng, dtype, "normal")
    X = rng.standard_normal((4, layer.d_in)).astype(dtype)
    Z, c = layer.forward(theta, X)
    gZ, dgZ = (rng.standard_normal(Z.shape).astype(dtype) for _ in range(2))
    dtheta, dX = rng.standard_normal(theta.shape).astype(dtype), X[::-1].copy()
    g, gX = layer.vjp(theta, c, gZ)
    assert layer.vjp(theta, c, gZ, need_gtheta=False)[0] is None
    assert layer.vjp(theta, c, gZ, need_gX=False)[1] is None
    out = np.full(layer.n_params, np.nan, dtype)
    assert layer.vjp(theta, c, gZ, out=out)[0] is out
    np.testing.assert_array_equal(out, g)
    Rg, RgX = layer.rop(theta, c, dtheta, dX, gZ, dgZ)
    out = np.full(layer.n_params, np.nan, dtype)
    Rg2, none = layer.rop(theta, c, dtheta, dX, gZ, dgZ, need_gX=False, out=out)
    assert Rg2 is out and none is None
    np.testing.assert_allclose(out, Rg, rtol=1e-6, atol=1e-6)
    hZ = rng.random(Z.shape).astype(dtype)
    d, hX = layer.diag_backward(theta, c, gZ, hZ)
    out = np.full(layer.n_params, np.nan, dtype)
    d2, none = layer.diag_backward(theta, c, gZ, hZ, need_hX=False, out=out)
    assert d2 is out and none is None
    np.testing.assert_allclose(out, d, rtol=1e-6, atol=1e-6)
    for a in (g, gX, Rg, RgX, d, hX):
        assert a.dtype == dtype
    assert d.shape == (layer.n_params,) and hX.shape == X.shape


@pytest.mark.parametrize("name", LEAVES)
def test_init_defaults_to_xavier(name):
    """init(rng) with no scheme is init(rng, np.float64, "xavier")."""
    layer = LEAVES[name]()
    a = layer.init(np.random.default_rng(8))
    b = layer.init(np.random.default_rng(8), np.float64, "xavier")
    assert a.dtype == np.float64 and a.shape == (layer.n_params,)
    np.testing.assert_array_equal(a, b)
