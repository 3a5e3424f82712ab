"""numnet.layers.conv and numnet.layers.pooling: what the registry's property matrix does not cover.

The derivative, adjoint, R-operator, float32 and torch checks of these
layers run through ``registry.LAYERS``; here: the formulas against direct
(slow, loop-based) references, output shapes, channels-last input,
argument errors, configuration round trips and the parameter-free contract.
"""

import json
import re
from math import prod

import numpy as np
import pytest

from numnet.layers import (
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    ConvCache,
    Dense,
    Flatten,
    Layer,
    MaxPool1d,
    MaxPool2d,
    PoolCache,
    Reshape,
    as_rows,
)
from numnet.network import Sequential


def conv_reference(X4, W, b, stride, padding):
    """A[s, ho, wo, f] = Σ_{i,j,c} Xp[s, sh·ho + i, sw·wo + j, c] W[i, j, c, f] + b[f], by loops."""
    (sh, sw), (ph, pw) = stride, padding
    Xp = np.pad(X4, ((0, 0), (ph, ph), (pw, pw), (0, 0)))
    n, Hp, Wp, _ = Xp.shape
    kh, kw, _, F = W.shape
    Ho, Wo = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
    A = np.zeros((n, Ho, Wo, F))
    for s in range(n):
        for ho in range(Ho):
            for wo in range(Wo):
                window = Xp[s, sh * ho : sh * ho + kh, sw * wo : sw * wo + kw, :]
                for f in range(F):
                    A[s, ho, wo, f] = np.sum(window * W[..., f]) + b[f]
    return A


def pool_reference(X4, pool, stride, reduce):
    (ph, pw), (sh, sw) = pool, stride
    n, H, W, C = X4.shape
    Ho, Wo = (H - ph) // sh + 1, (W - pw) // sw + 1
    Z = np.zeros((n, Ho, Wo, C))
    for ho in range(Ho):
        for wo in range(Wo):
            Z[:, ho, wo, :] = reduce(
                X4[:, sh * ho : sh * ho + ph, sw * wo : sw * wo + pw, :], axis=(1, 2)
            )
    return Z


@pytest.mark.parametrize(
    "stride, padding", [((1, 1), (0, 0)), ((2, 1), (1, 2)), ((2, 3), (0, 1)), ((1, 2), (1, 0))]
)
def test_conv2d_matches_the_loop_reference(rng, stride, padding):
    layer = Conv2d((5, 6, 2), 3, (2, 3), stride=stride, padding=padding, activation="tanh")
    theta, X = layer.init(rng, scheme="normal"), rng.standard_normal((3, 60))
    p = layer.unpack(theta)
    A = conv_reference(X.reshape(3, 5, 6, 2), p["W"], p["b"], stride, padding)
    Z, cache = layer.forward(theta, X)
    assert A.shape[1:] == layer.output_shape
    np.testing.assert_allclose(Z, np.tanh(A).reshape(3, -1), rtol=1e-13, atol=1e-13)
    assert isinstance(cache, ConvCache) and cache.cols.shape == (
        3 * prod(layer.output_shape[:2]),
        2 * 3 * 2,
    )
    np.testing.assert_allclose(cache.dsigma, 1 - Z**2, rtol=1e-13, atol=1e-13)


def test_conv1d_is_conv2d_of_height_one(rng):
    layer = Conv1d((7, 2), 4, 3, stride=2, padding=1, activation="sin", bias=False)
    theta, X = layer.init(rng, scheme="normal"), rng.standard_normal((2, 14))
    W = layer.unpack(theta)["W"]
    assert W.shape == (3, 2, 4) and layer.unpack(theta)["b"] is None
    A = conv_reference(X.reshape(2, 1, 7, 2), W[None], np.zeros(4), (1, 2), (0, 1))
    assert layer.output_shape == (4, 4) == A.shape[2:]
    np.testing.assert_allclose(
        layer.forward(theta, X)[0], np.sin(A).reshape(2, -1), rtol=1e-13, atol=1e-13
    )


def test_conv1d_defaults_are_stride_1_no_padding_and_a_bias(rng):
    layer = Conv1d((7, 2), 3, 3)
    assert (layer.stride, layer.padding, layer.bias) == (1, 0, True)
    assert layer.output_shape == (5, 3) and layer.n_params == 3 * 2 * 3 + 3
    theta, X = layer.init(rng, scheme="normal"), rng.standard_normal((2, 14))
    p = layer.unpack(theta)
    A = conv_reference(X.reshape(2, 1, 7, 2), p["W"][None], p["b"], (1, 1), (0, 0))
    np.testing.assert_allclose(layer.forward(theta, X)[0], A.reshape(2, -1), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    "shape, k, padding, out_len", [((4, 1), 4, 0, 1), ((3, 2), 5, 1, 1), ((5, 1), 6, 1, 2)]
)
def test_conv1d_kernel_may_span_the_whole_padded_sequence(shape, k, padding, out_len, rng):
    layer = Conv1d(shape, 2, k, padding=padding)
    assert layer.output_shape == (out_len, 2)
    theta, X = layer.init(rng, scheme="normal"), rng.standard_normal((3, layer.d_in))
    p = layer.unpack(theta)
    A = conv_reference(X.reshape(3, 1, *shape), p["W"][None], p["b"], (1, 1), (0, padding))
    np.testing.assert_allclose(layer.forward(theta, X)[0], A.reshape(3, -1), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: Conv1d((5, 2), 2, 8, padding=1),
            "kernel_size 8 is larger than the padded input length 7",
        ),
        (lambda: Conv1d((5, 2), 2, 6), "kernel_size 6 is larger than the padded input length 5"),
        (
            lambda: Conv1d((2, 2), 2, 9, padding=3),
            "kernel_size 9 is larger than the padded input length 8",
        ),
    ],
)
def test_conv1d_kernel_error_is_exact(make, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        make()


def test_reprs_are_exact():
    assert repr(Conv2d((5, 6, 2), 3, (2, 3), activation="tanh")) == (
        "Conv2d((5, 6, 2), 3, kernel_size=(2, 3), stride=(1, 1), padding=(0, 0), "
        "activation='tanh', bias=True)"
    )
    assert repr(Conv1d((7, 2), 4, 3, stride=2, padding=1, bias=False)) == (
        "Conv1d((7, 2), 4, kernel_size=3, stride=2, padding=1, activation='identity', bias=False)"
    )


@pytest.mark.parametrize("pool, stride", [((2, 2), (2, 2)), ((3, 2), (1, 1)), ((2, 3), (2, 1))])
def test_pooling_matches_the_loop_reference(rng, pool, stride):
    X = rng.standard_normal((3, 5 * 7 * 2))
    for cls, reduce in ((MaxPool2d, np.max), (AvgPool2d, np.mean)):
        layer = cls((5, 7, 2), pool, stride=stride)
        Z, cache = layer.forward(np.empty(0), X)
        ref = pool_reference(X.reshape(3, 5, 7, 2), pool, stride, reduce)
        assert ref.shape[1:] == layer.output_shape and isinstance(cache, PoolCache)
        np.testing.assert_allclose(Z, ref.reshape(3, -1), rtol=1e-14)


def test_max_pool_keeps_the_argmax_and_adds_where_windows_overlap():
    X = np.array([[1.0, 5.0, 2.0, 0.0]])  # length 4, one channel; windows [1 5] [5 2] [2 0]
    layer = MaxPool1d((4, 1), 2, stride=1)
    Z, cache = layer.forward(np.empty(0), X)
    np.testing.assert_array_equal(Z, [[5.0, 5.0, 2.0]])
    np.testing.assert_array_equal(cache.index, [[1, 1, 2]])
    np.testing.assert_array_equal(
        layer.vjp(np.empty(0), cache, np.array([[1.0, 10.0, 100.0]]))[1], [[0.0, 11.0, 100.0, 0.0]]
    )
    dX = np.array([[0.1, 0.2, 0.3, 0.4]])
    np.testing.assert_array_equal(layer.jvp(np.empty(0), cache, None, dX), [[0.2, 0.2, 0.3]])
    assert not layer.smooth and AvgPool1d((4, 1), 2).smooth


def test_avg_pool1d_and_reshape_flatten():
    X = np.arange(12.0).reshape(1, 12)  # length 6, two channels
    np.testing.assert_allclose(
        AvgPool1d((6, 2), 3).forward(np.empty(0), X)[0], [[2.0, 3.0, 8.0, 9.0]]
    )
    for layer in (Reshape((3, 2, 2), (6, 2)), Flatten((3, 2, 2))):
        Z, cache = layer.forward(np.empty(0), X)
        assert Z is X and layer.vjp(np.empty(0), cache, X)[1] is X
    assert Flatten((3, 2, 2)).output_shape == (12,)


@pytest.mark.parametrize(
    "args, kwargs, out_shape",
    [
        (((28, 28, 1), 8, 3), {}, (26, 26, 8)),
        (((28, 28, 1), 8, 3), {"padding": 1}, (28, 28, 8)),
        (((28, 28, 3), 4, 3), {"stride": 2, "padding": 1}, (14, 14, 4)),
        (((7, 9, 2), 5, (3, 2)), {"stride": (2, 3), "padding": (0, 2)}, (3, 4, 5)),
        (((4, 4, 1), 2, 4), {}, (1, 1, 2)),
    ],
)
def test_conv2d_output_shapes(args, kwargs, out_shape):
    layer = Conv2d(*args, **kwargs)
    assert layer.output_shape == out_shape and layer.d_out == prod(out_shape)
    assert layer.d_in == prod(args[0]) and layer.forward(
        layer.init(np.random.default_rng(0)), np.zeros((2, layer.d_in))
    )[0].shape == (2, prod(out_shape))


def test_pool_and_conv1d_output_shapes():
    assert MaxPool2d((26, 26, 8), 2).output_shape == (13, 13, 8)
    assert MaxPool2d((11, 11, 16), 2).output_shape == (5, 5, 16)
    assert AvgPool2d((6, 5, 3), (3, 2), stride=1).output_shape == (4, 4, 3)
    assert MaxPool1d((10, 4), 3, stride=2).output_shape == (4, 4)
    assert Conv1d((10, 3), 6, 4, stride=3, padding=2).output_shape == (4, 6)


def test_as_rows_accepts_images_and_rows_and_refuses_channels_first(rng):
    images = rng.standard_normal((5, 4, 3, 2))
    rows = as_rows(images, (4, 3, 2))
    assert rows.shape == (5, 24) and np.shares_memory(rows, images)
    assert as_rows(rows, (4, 3, 2)) is rows
    assert as_rows(images.astype(np.float32), (4, 3, 2)).dtype == np.float32
    assert as_rows(np.ones((2, 4, 3, 2), dtype=int), (4, 3, 2)).dtype == np.float64
    with pytest.raises(ValueError, match="images.*channels-last"):
        as_rows(np.moveaxis(images, -1, 1), (4, 3, 2), name="images")
    with pytest.raises(ValueError, match="seqs.*channels-last"):
        as_rows(np.zeros((5, 2, 7)), (7, 2), name="seqs")
    with pytest.raises(ValueError, match="X must have shape"):
        as_rows(np.zeros((5, 25)), (4, 3, 2))


@pytest.mark.parametrize(
    "make, exc, match",
    [
        (lambda: Conv2d((5, 5, 1), 2, 2.0), TypeError, "kernel_size"),
        (lambda: Conv2d((5, 5, 1), 2, True), TypeError, "kernel_size"),
        (lambda: Conv2d((5, 5, 1), 2, 0), ValueError, "kernel_size"),
        (lambda: Conv2d((5, 5, 1), 2, (2, 2, 2)), ValueError, "kernel_size"),
        (lambda: Conv2d((5, 5, 1), 2, 6), ValueError, "kernel_size"),
        (lambda: Conv2d((5, 5, 1), 2, 7, padding=(1, 0)), ValueError, "kernel_size"),
        (lambda: Conv2d((5, 5, 1), 2, 2, stride=0), ValueError, "stride"),
        (lambda: Conv2d((5, 5, 1), 2, 2, stride=(1, 1.5)), TypeError, "stride"),
        (lambda: Conv2d((5, 5, 1), 2, 2, stride=False), TypeError, "stride"),
        (lambda: Conv2d((5, 5, 1), 2, 2, padding=-1), ValueError, "padding"),
        (lambda: Conv2d((5, 5, 1), 2, 2, padding=0.5), TypeError, "padding"),
        (lambda: Conv2d((5, 5), 2, 2), ValueError, "input_shape"),
        (lambda: Conv2d((5, 0, 1), 2, 2), ValueError, "input_shape"),
        (lambda: Conv2d((5, 5, 1), 0, 2), ValueError, "filters"),
        (lambda: Conv2d((5, 5, 1), 2, 2, activation="tanhh"), ValueError, "activation"),
        (lambda: Conv2d((5, 5, 1), 2, 2, bias=1), TypeError, "bias"),
        (lambda: Conv1d((5, 5, 1), 2, 2), ValueError, "input_shape"),
        (lambda: Conv1d((5, 2), 2, 8, padding=1), ValueError, "kernel_size"),
        (lambda: Conv1d((5, 2), 2, (2, 2)), TypeError, "kernel_size"),
        (lambda: Conv1d((5, 2), 2, 2, stride=-1), ValueError, "stride"),
        (lambda: Conv1d((5, 2), 2, 2, padding=-2), ValueError, "padding"),
        (lambda: MaxPool2d((4, 4, 1), 5), ValueError, "pool_size"),
        (lambda: MaxPool2d((4, 4, 1), (2, 0)), ValueError, "pool_size"),
        (lambda: MaxPool2d((4, 4, 1), 2, stride=0), ValueError, "stride"),
        (lambda: AvgPool2d((4, 4, 1), 2.0), TypeError, "pool_size"),
        (lambda: AvgPool2d((4, -4, 1), 2), ValueError, "input_shape"),
        (lambda: MaxPool1d((4, 1), 5), ValueError, "pool_size"),
        (lambda: AvgPool1d((4, 1), 2, stride=True), TypeError, "stride"),
        (lambda: AvgPool1d((4, 1, 1), 2), ValueError, "input_shape"),
        (lambda: Reshape((2, 3), (5,)), ValueError, "output_shape"),
        (lambda: Reshape((2, 3), ()), ValueError, "output_shape"),
        (lambda: Reshape((2, 0), (0,)), ValueError, "input_shape"),
        (lambda: Flatten((2, 1.5)), TypeError, "input_shape"),
    ],
)
def test_constructor_errors_name_the_argument(make, exc, match):
    with pytest.raises(exc, match=f"^{match} "):
        make()


LAYERS = [
    Conv2d((6, 5, 2), 3, (2, 3), stride=(2, 1), padding=(1, 0), activation="relu", bias=False),
    Conv1d((8, 3), 2, 3, stride=2, padding=1, activation="tanh"),
    MaxPool2d((6, 5, 2), (2, 3), stride=1),
    AvgPool2d((6, 5, 2), 2),
    MaxPool1d((8, 3), 3),
    AvgPool1d((8, 3), 2, stride=1),
    Reshape((6, 5, 2), (30, 2)),
    Flatten((6, 5, 2)),
]


@pytest.mark.parametrize("layer", LAYERS, ids=repr)
def test_get_config_round_trips_through_json(layer):
    from numnet.architecture import from_json, to_json

    twin = from_json(json.loads(json.dumps(to_json(layer))))
    assert twin.get_config() == layer.get_config() and repr(twin) == repr(layer)
    assert (twin.input_shape, twin.output_shape, twin.n_params) == (
        layer.input_shape,
        layer.output_shape,
        layer.n_params,
    )
    assert isinstance(layer, Layer) and layer.d_in == prod(layer.input_shape)


@pytest.mark.parametrize("layer", LAYERS[2:], ids=repr)
def test_layers_without_parameters_follow_the_contract(layer, rng):
    assert layer.n_params == 0 and layer.unpack(np.empty(0)) == {}
    assert layer.init(rng, np.float32).dtype == np.float32 and layer.init(rng).shape == (0,)
    assert layer.bias_mask().shape == (0,) and layer.bias_mask().dtype == bool
    X = rng.standard_normal((3, layer.d_in)).astype(np.float32)
    Z, cache = layer.forward(np.empty(0, np.float32), X)
    out = np.empty(0, np.float32)
    g, gX = layer.vjp(np.empty(0, np.float32), cache, Z, out=out)
    assert g is out and gX.dtype == np.float32 and gX.shape == X.shape
    assert layer.vjp(np.empty(0, np.float32), cache, Z, need_gtheta=False)[0] is None
    Rg, RgX = layer.rop(np.empty(0, np.float32), cache, None, X, Z, None)
    assert Rg.shape == (0,) and not RgX.any()


def test_conv_init_uses_kernel_fans():
    layer = Conv2d((8, 8, 16), 32, 3)
    theta = layer.init(np.random.default_rng(0), scheme="he")
    assert layer.unpack(theta)["W"].std() == pytest.approx(np.sqrt(2 / (9 * 16)), rel=0.03)
    assert not layer.unpack(theta)["b"].any()
    np.testing.assert_array_equal(layer.bias_mask(), np.arange(layer.n_params) >= 9 * 16 * 32)


@pytest.mark.parametrize("kernel", [3, (3, 2)])
def test_conv_xavier_init_uses_both_kernel_fans(kernel):
    """xavier: std √(2 / (fan_in + fan_out)), fan_in = kh·kw·c_in, fan_out = kh·kw·filters."""
    layer = Conv2d((8, 8, 16), 32, kernel)
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    theta = layer.init(np.random.default_rng(0))
    expected = np.sqrt(2 / (kh * kw * 16 + kh * kw * 32))
    assert layer.unpack(theta)["W"].std() == pytest.approx(expected, rel=0.03)
    assert not layer.unpack(theta)["b"].any()


def test_mnist_sized_batch_runs_vectorized():
    """A 28×28×1 batch of 128 through conv, pooling and dense (shape test: every map is vectorized)."""
    net = Sequential(
        [
            Conv2d((28, 28, 1), 8, 3, activation="relu"),
            MaxPool2d((26, 26, 8), 2),
            Conv2d((13, 13, 8), 16, 3, activation="relu"),
            MaxPool2d((11, 11, 16), 2),
            Flatten((5, 5, 16)),
            Dense(400, 10),
        ]
    )
    rng = np.random.default_rng(0)
    theta, X = net.init(rng), as_rows(rng.standard_normal((128, 28, 28, 1)), (28, 28, 1))
    F, cache = net.forward(theta, X)
    g, gX = net.vjp(theta, cache, np.ones_like(F))
    Hv = net.rop(
        theta, cache, rng.standard_normal(theta.shape), None, np.ones_like(F), None, need_gX=False
    )[0]
    assert F.shape == (128, 10) and g.shape == Hv.shape == theta.shape and gX.shape == (128, 784)
    assert cache[0].cols.shape == (128 * 26 * 26, 9) and cache[1].index.shape == (128, 13 * 13 * 8)
