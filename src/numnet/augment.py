"""Data augmentation: random label-invariant transforms of image rows.

Notes 001 ("reduce overfitting"): apply label-invariant transforms to the
training data. :class:`Augment` shifts, rotates, flips and perturbs images
stored as rows (samples as rows, each a flattened channels-last image); the
stochastic methods of :mod:`numnet.optim` ("sgd", "adam") apply it once per
epoch through their ``augment`` option, and the MLP estimators through
their ``augment`` parameter.
"""

from numbers import Real

import numpy as np

from ._validation import as_rng, check_matrix

__all__ = ["Augment"]


def _image_shape(image_shape):
    """(h, w) or (h, w, c) of positive ints as (h, w, c)."""
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else None
    if (
        shape is None
        or len(shape) not in (2, 3)
        or not all(
            isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s >= 1 for s in shape
        )
    ):
        raise ValueError(
            f"image_shape must be (height, width) or (height, width, channels) of "
            f"positive ints, got {image_shape!r}"
        )
    return tuple(int(s) for s in shape) + ((1,) if len(shape) == 2 else ())


def _non_negative(value, name, integer=False):
    """``value`` as a finite number ≥ 0 (an int when ``integer``); raises naming ``name``."""
    kinds = (int, np.integer) if integer else Real
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, kinds):
        raise TypeError(
            f"{name} must be a non-negative {'int' if integer else 'number'}, got {value!r}"
        )
    if not (np.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite non-negative number, got {value!r}")
    return int(value) if integer else float(value)


class Augment:
    """Random shifts, rotations, horizontal flips and Gaussian noise of image rows.

    Parameters
    ----------
    image_shape : tuple of int
        (height, width) or (height, width, channels): each row of X is one
        image flattened in this shape (channels-last, row-major); e.g.
        (8, 8) for the digits.
    shift : int, default=1
        Largest shift in pixels; each image moves by independent integers
        (dy, dx) uniform in [−shift, shift], filling with zeros.
    rotate : float, default=0.0
        Largest rotation in degrees; each image turns by an angle uniform in
        [−rotate, rotate] about its center (bilinear, zero fill, same size).
    flip : bool, default=False
        Mirror each image left-right with probability 1/2.
    noise : float, default=0.0
        Standard deviation of additive Gaussian noise.

    Notes
    -----
    Applied in the order rotate, shift, flip, noise, to all images at once.
    The rotation about the center c = ((h − 1)/2, (w − 1)/2) reads each
    output pixel p = (i, j) from the input at c + R(α)ᵀ (p − c), with
    R(α) = [[cos α, −sin α], [sin α, cos α]], by bilinear interpolation
    with zero fill: ``scipy.ndimage.rotate(image, α, reshape=False,
    order=1)`` per image, batched here through one
    ``scipy.ndimage.map_coordinates`` call. The shift is exact (integer
    indexing into a zero-padded copy). A disabled transform draws no random
    numbers, so e.g. two calls with equally seeded generators flip the same
    images.
    """

    def __init__(self, image_shape, *, shift=1, rotate=0.0, flip=False, noise=0.0):
        self.image_shape = _image_shape(image_shape)
        self.shift = _non_negative(shift, "shift", integer=True)
        self.rotate = _non_negative(rotate, "rotate")
        if not isinstance(flip, (bool, np.bool_)):
            raise TypeError(f"flip must be True or False, got {flip!r}")
        self.flip = bool(flip)
        self.noise = _non_negative(noise, "noise")

    def __repr__(self):
        return (
            f"Augment({self.image_shape}, shift={self.shift}, rotate={self.rotate}, "
            f"flip={self.flip}, noise={self.noise})"
        )

    def get_config(self):
        """Constructor arguments as plain JSON data (so estimators that use it can be saved)."""
        return {
            "image_shape": list(self.image_shape),
            "shift": self.shift,
            "rotate": self.rotate,
            "flip": self.flip,
            "noise": self.noise,
        }

    @property
    def n_features(self):
        """Row width h · w · c."""
        h, w, c = self.image_shape
        return h * w * c

    def __call__(self, X, rng):
        """A new array of augmented rows, of X's shape and float dtype (X is never modified).

        ``rng`` is a ``np.random.Generator`` or an int seed.
        """
        X = check_matrix(X, "X", self.n_features)
        rng = as_rng(rng, "rng")
        images = X.reshape(-1, *self.image_shape).copy()
        if self.rotate > 0:
            images = rotate_images(images, rng.uniform(-self.rotate, self.rotate, len(images)))
        if self.shift > 0:
            images = shift_images(
                images, rng.integers(-self.shift, self.shift + 1, (len(images), 2))
            )
        if self.flip:
            mirror = rng.random(len(images)) < 0.5
            images[mirror] = images[mirror, :, ::-1]
        if self.noise > 0:
            images += (self.noise * rng.standard_normal(images.shape)).astype(images.dtype)
        return images.reshape(X.shape).astype(X.dtype, copy=False)


def shift_images(images, shifts):
    """Move each image (n, h, w, c) by integer ``shifts`` (n, 2) = (dy, dx) pixels, zero fill.

    Pixel (i, j) of the result is pixel (i − dy, j − dx) of the input, or 0
    outside it.
    """
    n, h, w, _ = images.shape
    s = int(np.max(np.abs(shifts), initial=0))
    padded = np.pad(images, ((0, 0), (s, s), (s, s), (0, 0)))
    rows = np.arange(h)[None, :] + s - shifts[:, :1]
    cols = np.arange(w)[None, :] + s - shifts[:, 1:]
    return padded[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]


def rotate_images(images, degrees):
    """Rotate each image (n, h, w, c) by its angle in ``degrees`` (n,) about its center.

    Bilinear interpolation with zero fill, the same size: per image this is
    ``scipy.ndimage.rotate(image, angle, axes=(1, 0), reshape=False, order=1)``.
    """
    n, h, w, c = images.shape
    a = np.deg2rad(np.asarray(degrees, dtype=np.float64))[:, None, None, None]
    cy, cx = (h - 1) / 2, (w - 1) / 2
    N, I, J, C = np.meshgrid(
        np.arange(n), np.arange(h) - cy, np.arange(w) - cx, np.arange(c), indexing="ij"
    )
    cos, sin = np.cos(a), np.sin(a)
    coords = np.stack([N, cos * I + sin * J + cy, cos * J - sin * I + cx, C])
    from scipy import ndimage  # imported on first use: `import numnet` stays light

    return ndimage.map_coordinates(images, coords, order=1, mode="constant", cval=0.0)
