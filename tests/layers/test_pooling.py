"""numnet.layers.pooling: every product against the explicit pooling matrix, built by loops.

A pooling layer is, per sample, Z = P X with P an explicit (d_out, d_in)
matrix: a 0/1 selection of each window's first maximum (max pooling) or
1 / (window size) on every window entry (average pooling). Here P is built
by Python loops over the windows and every product (forward, jvp, vjp, rop,
diag_backward) is compared with it, on geometries where the stride differs
from the window (overlaps and gaps), odd sizes, 1×1 windows, global windows
and 1-D sequences. Then the reshaping layers, the configuration, and the
argument errors (whose messages name the argument first).
"""

import re

import numpy as np
import pytest

from numnet.layers import AvgPool1d, AvgPool2d, Flatten, MaxPool1d, MaxPool2d, PoolCache, Reshape


def pool_matrices(X, image, pool, stride, kind):
    """Per sample, the (d_out, d_in) matrix P with Z = P x, by loops over windows, offsets and channels.

    ``image`` is (H, W, C) (a sequence is an image of height 1); max pooling
    selects the first maximum of each window in row-major window order.
    """
    (H, W, C), (ph, pw), (sh, sw) = image, pool, stride
    Ho, Wo = (H - ph) // sh + 1, (W - pw) // sw + 1
    mats = []
    for x in X:
        P = np.zeros((Ho * Wo * C, H * W * C))
        for ho in range(Ho):
            for wo in range(Wo):
                for c in range(C):
                    row = (ho * Wo + wo) * C + c
                    cells = [
                        ((sh * ho + i) * W + sw * wo + j) * C + c
                        for i in range(ph)
                        for j in range(pw)
                    ]
                    if kind == "max":
                        best = cells[0]
                        for cell in cells[1:]:
                            if x[cell] > x[best]:
                                best = cell
                        P[row, best] = 1.0
                    else:
                        for cell in cells:
                            P[row, cell] += 1.0 / (ph * pw)
        mats.append(P)
    return (Ho, Wo, C), mats


#: (layer class, kind, input_shape, pool_size, stride) — strides below, equal to and above the window
CASES = [
    (MaxPool2d, "max", (5, 7, 2), (2, 3), (2, 1)),
    (MaxPool2d, "max", (5, 7, 2), (3, 2), (1, 3)),
    (MaxPool2d, "max", (5, 7, 2), (2, 3), None),
    (MaxPool2d, "max", (6, 5, 3), (2, 2), 3),
    (MaxPool2d, "max", (3, 4, 2), 1, None),
    (MaxPool2d, "max", (3, 4, 2), (3, 4), 1),
    (MaxPool2d, "max", (4, 5, 1), (1, 3), (1, 2)),
    (AvgPool2d, "avg", (5, 7, 2), (2, 3), (2, 1)),
    (AvgPool2d, "avg", (5, 7, 2), (3, 2), (1, 3)),
    (AvgPool2d, "avg", (6, 5, 3), (2, 2), 3),
    (AvgPool2d, "avg", (3, 4, 2), 1, None),
    (AvgPool2d, "avg", (3, 4, 2), (3, 4), 1),
    (MaxPool1d, "max", (9, 3), 2, 3),
    (MaxPool1d, "max", (9, 3), 3, 1),
    (MaxPool1d, "max", (9, 2), 4, None),
    (MaxPool1d, "max", (5, 2), 1, None),
    (AvgPool1d, "avg", (9, 3), 2, 3),
    (AvgPool1d, "avg", (9, 3), 3, 1),
    (AvgPool1d, "avg", (7, 2), 7, None),
]


def _geometry(cls, shape, pool, stride):
    """(image, pool pair, stride pair) of the loop reference."""
    if cls in (MaxPool1d, AvgPool1d):
        step = pool if stride is None else stride
        return (1, *shape), (1, pool), (1, step)
    pool2 = (pool, pool) if isinstance(pool, int) else pool
    step = pool2 if stride is None else (stride, stride) if isinstance(stride, int) else stride
    return shape, pool2, step


@pytest.mark.parametrize("cls, kind, shape, pool, stride", CASES)
def test_every_product_is_the_explicit_pooling_matrix(cls, kind, shape, pool, stride):
    """Z = P x, jvp P dx, vjp Pᵀ gz, rop Pᵀ dgz (no parameter part), diag_backward (P ⊙ P)ᵀ hz; output_shape."""
    layer = cls(shape, pool, stride=stride)
    image, pool2, step = _geometry(cls, shape, pool, stride)
    rng = np.random.default_rng(11)
    n = 3
    # few distinct values: most windows hold ties, which the first maximum wins
    X = rng.integers(-2, 3, size=(n, layer.d_in)).astype(np.float64)
    out_hw, mats = pool_matrices(X, image, pool2, step, kind)
    expected_shape = out_hw if cls in (MaxPool2d, AvgPool2d) else out_hw[1:]
    assert layer.output_shape == expected_shape and layer.d_out == mats[0].shape[0]
    theta = layer.init(rng)
    Z, cache = layer.forward(theta, X)
    assert isinstance(cache, PoolCache) and cache.X is X and np.array_equal(cache.Z, Z)
    dX = rng.standard_normal(X.shape)
    gZ, dgZ, hZ = (rng.standard_normal(Z.shape) for _ in range(3))

    def apply(M, V):  # row s of V times M_s (or M_sᵀ)
        return np.stack([m @ v for m, v in zip(M, V)])

    P, Pt = mats, [m.T for m in mats]
    np.testing.assert_allclose(Z, apply(P, X), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(
        layer.jvp(theta, cache, None, dX), apply(P, dX), rtol=1e-14, atol=1e-14
    )
    g, gX = layer.vjp(theta, cache, gZ)
    assert g.shape == (0,)
    np.testing.assert_allclose(gX, apply(Pt, gZ), rtol=1e-14, atol=1e-14)
    Rg, RgX = layer.rop(theta, cache, None, dX, gZ, dgZ)
    assert Rg.shape == (0,)
    np.testing.assert_allclose(RgX, apply(Pt, dgZ), rtol=1e-14, atol=1e-14)
    d, hX = layer.diag_backward(theta, cache, gZ, hZ)
    assert d.shape == (0,)
    np.testing.assert_allclose(hX, apply([p * p for p in Pt], hZ), rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("cls, kind, shape, pool, stride", [c for c in CASES if c[1] == "max"])
def test_max_pool_index_is_the_first_maximum_of_each_window(cls, kind, shape, pool, stride):
    """``cache.index`` holds, per output entry, the row position of its window's first maximum."""
    layer = cls(shape, pool, stride=stride)
    image, pool2, step = _geometry(cls, shape, pool, stride)
    X = np.random.default_rng(12).integers(0, 2, size=(2, layer.d_in)).astype(np.float64)
    _, mats = pool_matrices(X, image, pool2, step, "max")
    index = layer.forward(np.empty(0), X)[1].index
    np.testing.assert_array_equal(index, np.stack([m.argmax(axis=1) for m in mats]))


def test_max_pool_gradient_of_a_tie_goes_to_the_first_entry():
    X = np.array([[3.0, 3.0, 1.0, 3.0]])  # one window of four equal maxima but one
    layer = MaxPool1d((4, 1), 4)
    Z, cache = layer.forward(np.empty(0), X)
    np.testing.assert_array_equal(cache.index, [[0]])
    np.testing.assert_array_equal(
        layer.vjp(np.empty(0), cache, np.array([[2.0]]))[1], [[2, 0, 0, 0]]
    )


@pytest.mark.parametrize("cls", [MaxPool2d, AvgPool2d])
def test_float32_products_match_float64(cls):
    """Overlapping windows (the summing adjoint) in float32: same dtype, same values."""
    layer = cls((5, 6, 2), (3, 2), stride=(1, 2))
    rng = np.random.default_rng(13)
    X = rng.standard_normal((2, layer.d_in))
    gZ = rng.standard_normal((2, layer.d_out))
    for dtype in (np.float32,):
        Z, c = layer.forward(np.empty(0, dtype), X.astype(dtype))
        gX = layer.vjp(np.empty(0, dtype), c, gZ.astype(dtype))[1]
        hX = layer.diag_backward(np.empty(0, dtype), c, gZ.astype(dtype), np.abs(gZ).astype(dtype))[
            1
        ]
        assert Z.dtype == gX.dtype == hX.dtype == dtype
        Z64, c64 = layer.forward(np.empty(0), X)
        np.testing.assert_allclose(gX, layer.vjp(np.empty(0), c64, gZ)[1], rtol=1e-6, atol=1e-6)


# ------------------------------------------------------------------ reshaping


@pytest.mark.parametrize("layer", [Reshape((2, 3, 2), (6, 2)), Flatten((4, 3))], ids=repr)
def test_reshaping_layers_are_the_identity_and_keep_their_output(layer):
    rng = np.random.default_rng(14)
    X, dX, gZ, hZ = (rng.standard_normal((3, 12)) for _ in range(4))
    Z, cache = layer.forward(np.empty(0), X)
    assert Z is X and cache.X is X and cache.Z is Z and cache.index is None
    np.testing.assert_array_equal(layer.jvp(np.empty(0), cache, None, dX), dX)
    np.testing.assert_array_equal(layer.rop(np.empty(0), cache, None, dX, gZ, hZ)[1], hZ)
    np.testing.assert_array_equal(layer.diag_backward(np.empty(0), cache, gZ, hZ)[1], hZ)


# ------------------------------------------------------------------ configuration


@pytest.mark.parametrize(
    "layer, text, config",
    [
        (
            MaxPool2d((5, 7, 2), (2, 3), stride=(2, 1)),
            "MaxPool2d((5, 7, 2), (2, 3), stride=(2, 1))",
            {"input_shape": [5, 7, 2], "pool_size": [2, 3], "stride": [2, 1]},
        ),
        (
            AvgPool2d((4, 4, 1), 2),
            "AvgPool2d((4, 4, 1), (2, 2), stride=(2, 2))",
            {"input_shape": [4, 4, 1], "pool_size": [2, 2], "stride": [2, 2]},
        ),
        (
            MaxPool1d((9, 3), 2, stride=3),
            "MaxPool1d((9, 3), 2, stride=3)",
            {"input_shape": [9, 3], "pool_size": 2, "stride": 3},
        ),
        (
            AvgPool1d((8, 1), 4),
            "AvgPool1d((8, 1), 4, stride=4)",
            {"input_shape": [8, 1], "pool_size": 4, "stride": 4},
        ),
        (
            Reshape((2, 3), [6]),
            "Reshape((2, 3), (6,))",
            {"input_shape": [2, 3], "output_shape": [6]},
        ),
        (Flatten([2, 3]), "Flatten((2, 3))", {"input_shape": [2, 3]}),
    ],
)
def test_repr_and_config_are_exact(layer, text, config):
    """Plain lists (JSON-ready) for 2-D sizes, ints for 1-D ones; the repr names the class."""
    assert repr(layer) == text
    config_out = layer.get_config()
    assert config_out == config
    assert all(type(config_out[k]) is type(v) for k, v in config.items())
    assert type(layer)(**config_out).get_config() == config


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "make, exc, message",
    [
        (
            lambda: MaxPool2d((4, 4, 1), (5, 2)),
            ValueError,
            "pool_size (5, 2) is larger than the input (4, 4)",
        ),
        (
            lambda: AvgPool2d((4, 3, 2), (2, 4)),
            ValueError,
            "pool_size (2, 4) is larger than the input (4, 3)",
        ),
        (lambda: MaxPool1d((4, 1), 5), ValueError, "pool_size 5 is larger than the input 4"),
        (
            lambda: AvgPool1d((3, 2), 4, stride=1),
            ValueError,
            "pool_size 4 is larger than the input 3",
        ),
        (lambda: MaxPool2d((4, 4, 1), 2.0), TypeError, "pool_size must be an int, got float"),
        (lambda: MaxPool2d((4, 4, 1), 2, stride=(1, 0)), ValueError, "stride must be >= 1, got 0"),
        (lambda: MaxPool1d((4, 1), 0), ValueError, "pool_size must be >= 1, got 0"),
        (lambda: AvgPool1d((4, 1), 2.5), TypeError, "pool_size must be an int, got float"),
        (lambda: MaxPool1d((4, 1), 2, stride=0), ValueError, "stride must be >= 1, got 0"),
        (lambda: AvgPool2d((4, 0, 1), 2), ValueError, "input_shape must be >= 1, got 0"),
        (
            lambda: Reshape(6, (6,)),
            ValueError,
            "input_shape must be a non-empty tuple of positive ints, got 6",
        ),
        (
            lambda: Reshape((), (1,)),
            ValueError,
            "input_shape must be a non-empty tuple of positive ints, got ()",
        ),
        (
            lambda: Reshape((2, 3), ()),
            ValueError,
            "output_shape must be a non-empty tuple of positive ints, got ()",
        ),
        (lambda: Reshape((2, 0), (0,)), ValueError, "input_shape must be >= 1, got 0"),
        (lambda: Reshape((2, 3), (6, 0)), ValueError, "output_shape must be >= 1, got 0"),
        (
            lambda: Reshape((2, 3), (5,)),
            ValueError,
            "output_shape (5,) has 5 entries but input_shape (2, 3) has 6",
        ),
        (lambda: Flatten((2, 0)), ValueError, "input_shape must be >= 1, got 0"),
        (
            lambda: Flatten("ab"),
            ValueError,
            "input_shape must be a non-empty tuple of positive ints, got 'ab'",
        ),
    ],
)
def test_constructor_errors_are_exact(make, exc, message):
    with pytest.raises(exc, match=f"^{re.escape(message)}$"):
        make()
