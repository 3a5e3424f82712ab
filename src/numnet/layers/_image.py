"""Images as rows: argument checks, :func:`as_rows`, and the sliding-window geometry of conv and pooling layers.

numnet is channels-last: a row of an image layer is an array of shape
(height, width, channels) flattened row-major (a sequence: (length,
channels)). :class:`Windows` holds the geometry of a kernel sliding over
such an image and the maps every image layer is built from: ``im2col`` (the
windows as the rows of a matrix), ``windows`` (one strided view per kernel
offset) and its adjoint ``scatter`` (which, fed one product per offset, is
the col2im of a convolution), each one slice copy or slice addition per
kernel offset, never a loop over pixels or samples.
"""

from math import prod

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .._validation import check_int, check_matrix

__all__ = ["as_rows", "int_pair", "check_shape", "Windows"]

# im2col copies the windows at once through a strided view when a window row
# (kernel width × channels) is long enough for NumPy's copy loop; for short
# rows one slice copy per kernel offset is faster (measured: 1 channel, 3×3).
_MIN_STRIDED_ROW = 8


def int_pair(value, name, minimum=1):
    """``value`` (an int or a pair of ints, each ≥ ``minimum``) as a pair; errors name ``name``."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
        return tuple(check_int(v, name, minimum) for v in value)
    v = check_int(value, name, minimum)
    return (v, v)


def check_shape(shape, ndim, name="input_shape"):
    """``shape`` as a tuple of ``ndim`` positive ints; errors name ``name``."""
    if not isinstance(shape, (tuple, list)) or len(shape) != ndim:
        what = (
            "(height, width, channels)"
            if ndim == 3
            else "(length, channels)"
            if ndim == 2
            else f"{ndim} sizes"
        )
        raise ValueError(
            f"{name} must be a tuple {what} of positive ints (channels-last), got {shape!r}"
        )
    return tuple(check_int(s, name) for s in shape)


def as_rows(X, input_shape, name="X"):
    """Image or sequence array → the flat float rows ``(n_samples, prod(input_shape))`` layers take.

    Parameters
    ----------
    X : array_like, shape (n_samples, *input_shape) or (n_samples, prod(input_shape))
        Channels-last images (n, height, width, channels) or sequences
        (n, length, channels), or rows that are already flat.
    input_shape : tuple of int
        The layer's ``input_shape``.
    name : str, default="X"
        Name of the argument in error messages.

    Returns
    -------
    ndarray (n_samples, prod(input_shape))
        A view when possible; integer input becomes float64, float32 stays float32.

    Raises
    ------
    ValueError
        If the shape fits neither form; a channels-first array ((n, c, h, w)
        where (n, h, w, c) was expected) says that numnet is channels-last.
    """
    X, shape = np.asarray(X), tuple(input_shape)
    d = prod(shape)
    if X.ndim == 2 and X.shape[1] == d:
        return check_matrix(X, name, d)
    if X.ndim == len(shape) + 1 and X.shape[1:] == shape:
        return check_matrix(X.reshape(X.shape[0], d), name, d)
    first = (shape[-1], *shape[:-1])
    if X.ndim == len(shape) + 1 and X.shape[1:] == first:
        raise ValueError(
            f"{name} has shape {X.shape}, which looks channels-first; numnet is channels-last: "
            f"expected (n_samples, {', '.join(map(str, shape))}) (np.moveaxis({name}, 1, -1) converts)"
        )
    raise ValueError(
        f"{name} must have shape (n_samples, {', '.join(map(str, shape))}) or (n_samples, {d}), "
        f"got {X.shape}"
    )


class Windows:
    """A (kh, kw) window sliding with stride (sh, sw) over a zero-padded (H, W, C) image.

    Parameters
    ----------
    image : tuple (H, W, C)
    kernel, stride, padding : pairs of int
    kernel_name : str
        Argument named when the window does not fit the (padded) image.

    Attributes
    ----------
    out_hw : tuple (Ho, Wo)
        Ho = ⌊(H + 2 ph − kh) / sh⌋ + 1, and Wo alike.
    offsets : list of (i, j, slices)
        Per kernel offset (i, j), row-major, the slices of the padded image
        that offset reads for every output pixel at once.
    """

    def __init__(self, image, kernel, stride, padding, kernel_name="kernel_size"):
        (H, W, C), (kh, kw), (sh, sw), (ph, pw) = image, kernel, stride, padding
        Hp, Wp = H + 2 * ph, W + 2 * pw
        if kh > Hp or kw > Wp:
            raise ValueError(f"{kernel_name} {kernel} is larger than the padded input ({Hp}, {Wp})")
        self.image, self.kernel, self.stride, self.padding = image, kernel, stride, padding
        self.padded_shape = (Hp, Wp, C)
        Ho, Wo = (Hp - kh) // sh + 1, (Wp - kw) // sw + 1
        self.out_hw = (Ho, Wo)
        self.offsets = [
            (
                i,
                j,
                (
                    slice(None),
                    slice(i, i + sh * (Ho - 1) + 1, sh),
                    slice(j, j + sw * (Wo - 1) + 1, sw),
                ),
            )
            for i in range(kh)
            for j in range(kw)
        ]
        self.overlap = sh < kh or sw < kw
        self._strided = kw * C >= _MIN_STRIDED_ROW

    @property
    def n_pixels(self):
        return self.out_hw[0] * self.out_hw[1]

    def padded(self, X):
        """Rows (n, H·W·C) → padded images (n, Hp, Wp, C); a view when there is no padding."""
        n, (H, W, C), (ph, pw) = X.shape[0], self.image, self.padding
        X4 = X.reshape(n, H, W, C)
        if ph == pw == 0:
            return X4
        Xp = np.zeros((n, *self.padded_shape), dtype=X.dtype)
        Xp[:, ph : ph + H, pw : pw + W] = X4
        return Xp

    def im2col(self, X):
        """cols (n·Ho·Wo, kh·kw·C): row (s, ho, wo) is the window of output pixel (ho, wo), flattened (i, j, c)."""
        Xp, (Ho, Wo), (kh, kw), C = self.padded(X), self.out_hw, self.kernel, self.image[2]
        n = Xp.shape[0]
        if self._strided:
            s0, s1, s2, s3 = Xp.strides
            sh, sw = self.stride
            view = as_strided(
                Xp, (n, Ho, Wo, kh, kw, C), (s0, sh * s1, sw * s2, s1, s2, s3), writeable=False
            )
            return view.reshape(n * Ho * Wo, kh * kw * C)
        cols = np.empty((n, Ho, Wo, kh, kw, C), dtype=X.dtype)
        for i, j, sl in self.offsets:
            cols[:, :, :, i, j] = Xp[sl]
        return cols.reshape(n * Ho * Wo, kh * kw * C)

    def windows(self, X):
        """The slice of the padded image read by each kernel offset: a list of (n, Ho, Wo, C) views."""
        Xp = self.padded(X)
        return [Xp[sl] for _, _, sl in self.offsets]

    def scatter(self, parts, n, dtype):
        """Adjoint of :meth:`windows`: rows (n, H·W·C) = Σ_k part k (n, Ho, Wo, C) added at offset k's slice.

        ``parts`` may be a generator (one part in memory at a time); a
        contiguous part with stride 1 along the width adds row by row.
        """
        (H, W, _), (ph, pw) = self.image, self.padding
        gXp = np.zeros((n, *self.padded_shape), dtype=dtype)
        for (_, _, sl), part in zip(self.offsets, parts):
            gXp[sl] += part
        if ph or pw:
            gXp = np.ascontiguousarray(gXp[:, ph : ph + H, pw : pw + W])
        return gXp.reshape(n, -1)
