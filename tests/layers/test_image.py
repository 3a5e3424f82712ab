"""numnet.layers._image: window geometry against loops, argument checks and as_rows.

:class:`Windows` is checked against direct loops over output pixels and
kernel offsets: ``padded`` against ``np.pad``, ``im2col`` (both its strided
view and its per-offset copy) against the window of every output pixel,
``scatter`` against adding each part at its pixels, on paddings that differ
per axis, strides above and below the kernel and odd sizes. Then the exact
messages of :func:`check_shape` and :func:`as_rows`.
"""

import re

import numpy as np
import pytest

from numnet.layers import Conv1d, Conv2d, MaxPool1d, MaxPool2d, as_rows
from numnet.layers._image import Windows, check_shape

#: (image, kernel, stride, padding): a per-offset copy when kw·C < 8, else the strided view
GEOMETRIES = [
    ((5, 6, 2), (2, 3), (1, 1), (0, 0)),
    ((5, 6, 2), (2, 3), (2, 1), (1, 0)),
    ((5, 6, 2), (3, 2), (1, 3), (0, 2)),
    ((4, 7, 1), (3, 3), (2, 2), (1, 1)),
    ((4, 2, 4), (2, 2), (2, 2), (0, 0)),
    ((5, 4, 4), (3, 2), (1, 2), (2, 0)),
    ((3, 5, 3), (1, 4), (2, 3), (0, 1)),
    ((1, 9, 3), (1, 3), (1, 2), (0, 1)),
    ((2, 2, 8), (2, 2), (1, 1), (1, 1)),
]


def loop_windows(X, image, kernel, stride, padding):
    """(n, Ho, Wo, kh, kw, C): the zero-padded window of every output pixel, by loops."""
    (H, W, C), (kh, kw), (sh, sw), (ph, pw) = image, kernel, stride, padding
    n = X.shape[0]
    Xp = np.zeros((n, H + 2 * ph, W + 2 * pw, C))
    for r in range(H):
        for q in range(W):
            Xp[:, r + ph, q + pw] = X.reshape(n, H, W, C)[:, r, q]
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (W + 2 * pw - kw) // sw + 1
    out = np.zeros((n, Ho, Wo, kh, kw, C))
    for ho in range(Ho):
        for wo in range(Wo):
            for i in range(kh):
                for j in range(kw):
                    out[:, ho, wo, i, j] = Xp[:, sh * ho + i, sw * wo + j]
    return Xp, out


@pytest.mark.parametrize("image, kernel, stride, padding", GEOMETRIES)
def test_windows_match_the_loops(image, kernel, stride, padding):
    """out_hw, padded, im2col, windows and their adjoint scatter, entry by entry."""
    grid = Windows(image, kernel, stride, padding)
    rng = np.random.default_rng(21)
    n = 2
    X = rng.standard_normal((n, int(np.prod(image))))
    Xp, ref = loop_windows(X, image, kernel, stride, padding)
    Ho, Wo = ref.shape[1:3]
    assert grid.out_hw == (Ho, Wo) and grid.n_pixels == Ho * Wo
    assert grid.padded_shape == Xp.shape[1:]
    np.testing.assert_array_equal(grid.padded(X), Xp)
    cols = grid.im2col(X)
    np.testing.assert_array_equal(cols, ref.reshape(n * Ho * Wo, -1))
    kh, kw = kernel
    parts = grid.windows(X)
    assert [(i, j) for i, j, _ in grid.offsets] == [(i, j) for i in range(kh) for j in range(kw)]
    for (i, j, _), part in zip(grid.offsets, parts):
        np.testing.assert_array_equal(part, ref[:, :, :, i, j])
    # scatter: each part added back at the pixels its offset reads, the padding cropped
    G = [rng.standard_normal((n, Ho, Wo, image[2])) for _ in grid.offsets]
    want = np.zeros_like(Xp)
    for (i, j, _), g in zip(grid.offsets, G):
        for ho in range(Ho):
            for wo in range(Wo):
                want[:, stride[0] * ho + i, stride[1] * wo + j] += g[:, ho, wo]
    H, W, _ = image
    want = want[:, padding[0] : padding[0] + H, padding[1] : padding[1] + W].reshape(n, -1)
    got = grid.scatter(iter(G), n, np.float64)
    assert got.shape == (n, X.shape[1])
    np.testing.assert_allclose(got, want, rtol=1e-14, atol=1e-14)


@pytest.mark.parametrize("image, kernel, stride, padding", GEOMETRIES)
def test_im2col_never_writes_through_to_the_input(image, kernel, stride, padding):
    """The columns may share X's memory (a strided view) but are then read-only: X stays intact."""
    grid = Windows(image, kernel, stride, padding)
    X = np.random.default_rng(22).standard_normal((2, int(np.prod(image))))
    before = X.copy()
    cols = grid.im2col(X)
    try:
        cols[...] = 0.0
    except ValueError:  # read-only
        pass
    np.testing.assert_array_equal(X, before)


def test_conv_cache_columns_that_share_the_input_are_read_only():
    layer = Conv2d(
        (4, 2, 4), 3, 2, stride=2
    )  # each window spans a whole row pair: cols may be a view
    rng = np.random.default_rng(23)
    theta, X = layer.init(rng), rng.standard_normal((2, layer.d_in))
    cols = layer.forward(theta, X)[1].cols
    assert not (np.shares_memory(cols, X) and cols.flags.writeable)


@pytest.mark.parametrize(
    "shape, ndim, name, message",
    [
        (
            (5, 5),
            3,
            "input_shape",
            "input_shape must be a tuple (height, width, channels) of positive ints (channels-last), got (5, 5)",
        ),
        (
            5,
            3,
            "input_shape",
            "input_shape must be a tuple (height, width, channels) of positive ints (channels-last), got 5",
        ),
        (
            (5, 5, 1),
            2,
            "seq",
            "seq must be a tuple (length, channels) of positive ints (channels-last), got (5, 5, 1)",
        ),
        (
            (1, 2),
            4,
            "shape",
            "shape must be a tuple 4 sizes of positive ints (channels-last), got (1, 2)",
        ),
        (
            (1, 2, 3, 4),
            1,
            "s",
            "s must be a tuple 1 sizes of positive ints (channels-last), got (1, 2, 3, 4)",
        ),
    ],
)
def test_check_shape_messages(shape, ndim, name, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        check_shape(shape, ndim, name)


def test_check_shape_default_name_and_values():
    assert check_shape([2, np.int64(3), 1], 3) == (2, 3, 1)
    with pytest.raises(ValueError, match=r"^input_shape must be a tuple \(length, channels\)"):
        check_shape((2,), 2)
    with pytest.raises(ValueError, match="^input_shape must be >= 1, got 0$"):
        check_shape((2, 0), 2)
    with pytest.raises(TypeError, match="^input_shape must be an int, got float$"):
        check_shape((2, 1.0, 3), 3)


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: Conv2d((5, 5), 2, 2),
            "input_shape must be a tuple (height, width, channels) of positive ints (channels-last), got (5, 5)",
        ),
        (
            lambda: Conv1d((5, 5, 1), 2, 2),
            "input_shape must be a tuple (length, channels) of positive ints (channels-last), got (5, 5, 1)",
        ),
        (
            lambda: MaxPool2d((4, 4), 2),
            "input_shape must be a tuple (height, width, channels) of positive ints (channels-last), got (4, 4)",
        ),
        (
            lambda: MaxPool1d([4], 2),
            "input_shape must be a tuple (length, channels) of positive ints (channels-last), got [4]",
        ),
        (
            lambda: Conv2d((5, 5, 1), 2, 6),
            "kernel_size (6, 6) is larger than the padded input (5, 5)",
        ),
        (
            lambda: Conv2d((5, 5, 1), 2, (2, 8), padding=(0, 1)),
            "kernel_size (2, 8) is larger than the padded input (5, 7)",
        ),
    ],
)
def test_layers_name_the_shape_they_expect(make, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        make()


def test_windows_error_names_the_kernel_argument():
    with pytest.raises(
        ValueError, match=r"^kernel_size \(4, 1\) is larger than the padded input \(3, 3\)$"
    ):
        Windows((3, 3, 1), (4, 1), (1, 1), (0, 0))
    with pytest.raises(
        ValueError, match=r"^window \(1, 4\) is larger than the padded input \(3, 3\)$"
    ):
        Windows((3, 3, 1), (1, 4), (1, 1), (0, 0), kernel_name="window")


# ------------------------------------------------------------------ as_rows


def test_as_rows_converts_both_forms_and_checks_the_entries():
    images = np.arange(24.0).reshape(2, 3, 2, 2)
    np.testing.assert_array_equal(as_rows(images, (3, 2, 2)), images.reshape(2, 12))
    np.testing.assert_array_equal(as_rows(images.reshape(2, 12), [3, 2, 2]), images.reshape(2, 12))
    bad = images.copy()
    bad[0, 1, 1, 0] = np.nan
    with pytest.raises(ValueError, match="^X contains NaN or inf$"):
        as_rows(bad, (3, 2, 2))
    with pytest.raises(ValueError, match="^images contains NaN or inf$"):
        as_rows(bad, (3, 2, 2), name="images")
    with pytest.raises(ValueError, match="^X contains NaN or inf$"):
        as_rows(bad.reshape(2, 12), (3, 2, 2))
    with pytest.raises(ValueError, match="^rows contains NaN or inf$"):
        as_rows(bad.reshape(2, 12), (3, 2, 2), name="rows")


@pytest.mark.parametrize(
    "shape, kwargs, message",
    [
        ((5, 25), {}, "X must have shape (n_samples, 4, 3, 2) or (n_samples, 24), got (5, 25)"),
        (
            (5, 4, 3, 3),
            {},
            "X must have shape (n_samples, 4, 3, 2) or (n_samples, 24), got (5, 4, 3, 3)",
        ),
        (
            (5, 24, 1, 1),
            {},
            "X must have shape (n_samples, 4, 3, 2) or (n_samples, 24), got (5, 24, 1, 1)",
        ),
        (
            (5, 24, 1),
            {"name": "images"},
            "images must have shape (n_samples, 4, 3, 2) or (n_samples, 24), got (5, 24, 1)",
        ),
        (
            (5, 2, 4, 3),
            {"name": "images"},
            "images has shape (5, 2, 4, 3), which looks channels-first; numnet is channels-last: "
            "expected (n_samples, 4, 3, 2) (np.moveaxis(images, 1, -1) converts)",
        ),
        (
            (5, 2, 4, 3),
            {},
            "X has shape (5, 2, 4, 3), which looks channels-first; numnet is channels-last: "
            "expected (n_samples, 4, 3, 2) (np.moveaxis(X, 1, -1) converts)",
        ),
    ],
)
def test_as_rows_messages(shape, kwargs, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        as_rows(np.zeros(shape), (4, 3, 2), **kwargs)
