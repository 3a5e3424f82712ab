"""Pooling and reshaping layers: no parameters, explicit forward, jvp, vjp and rop.

Rows are channels-last images (height, width, channels) or sequences
(length, channels), flattened row-major. Windows have no padding and the
stride defaults to the window size; every product is one slice operation
per window offset (or one gather/scatter), never a loop over pixels.
"""

from math import prod

import numpy as np

from .._validation import check_float_dtype, check_int, check_matrix, check_theta
from ._contract import check_tangents
from ._image import Windows, check_shape, int_pair

__all__ = ["MaxPool2d", "AvgPool2d", "MaxPool1d", "AvgPool1d", "Reshape", "Flatten", "PoolCache"]


class PoolCache:
    """What the forward pass of a pooling or reshaping layer keeps.

    Attributes
    ----------
    X : ndarray (n_samples, d_in)
        The layer input.
    Z : ndarray (n_samples, d_out)
        The output.
    index : ndarray of int (n_samples, d_out) or None
        Max pooling: for each output entry, the position in its input row
        (0 … d_in − 1) of the window's maximum (the first one on ties).
        None for the linear layers.
    """

    def __init__(self, X, Z, index=None):
        self.X, self.Z, self.index = X, Z, index


class _NoParams:
    """The parameter side of a layer without parameters: n_params = 0, empty gradients."""

    n_params = 0

    def init(self, rng, dtype=np.float64, scheme="xavier"):
        """An empty parameter slice of ``dtype``."""
        return np.empty(0, dtype=check_float_dtype(dtype))

    def unpack(self, theta):
        return {}

    def bias_mask(self):
        return np.zeros(0, dtype=bool)

    def forward(self, theta, X):
        """Return ``(Z, cache)``."""
        theta = check_theta(theta, 0)
        return self._forward(theta, check_matrix(X, "X", self.d_in, dtype=theta.dtype))

    def jvp(self, theta, cache, dtheta, dX):
        """J v along the input direction ``dX`` (``dtheta`` is empty)."""
        dtheta, dX = check_tangents(self, theta, dtheta, dX, cache.X.shape[0])
        return self.tangent(theta, cache, dtheta, dX)[0]

    def vjp(self, theta, cache, gZ, *, need_gtheta=True, need_gX=True, out=None):
        """Jᵀ u: ``(gtheta, gX)``, gtheta empty (``out`` itself when given)."""
        return self._empty(gZ, need_gtheta, out), (self._adjoint(cache, gZ) if need_gX else None)

    def rop(self, theta, cache, dtheta, dX, gZ, dgZ, *, tcache=None, need_gX=True, out=None):
        """R{vjp}: the layer is piecewise linear, so R gX = vjp(dgZ) (zero when dgZ is None)."""
        Rg = self._empty(gZ, True, out)
        if not need_gX:
            return Rg, None
        return Rg, (np.zeros_like(cache.X) if dgZ is None else self._adjoint(cache, dgZ))

    def diag_backward(self, theta, cache, gZ, hZ, *, need_hX=True, out=None):
        """Becker–LeCun's step (note 004) through Z = P X: ``(empty, hX)``, hX_i = Σ_k P_ki² hZ_k.

        Piecewise linear, so the gZ-weighted second derivative is 0 and gZ is
        unused; the empty diagonal is ``out`` itself when given.
        """
        return self._empty(hZ, True, out), (self._adjoint_squared(cache, hZ) if need_hX else None)

    def _adjoint_squared(self, cache, hZ):
        """(P ⊙ P)ᵀ hZ; P ⊙ P = P for the 0/1 maps (max pooling, reshaping)."""
        return self._adjoint(cache, hZ)

    @staticmethod
    def _empty(gZ, need, out):
        if not need:
            return None
        return np.empty(0, dtype=gZ.dtype) if out is None else out


def _pool_windows(input_shape, pool_size, stride, ndim):
    """Input shape and :class:`Windows` of a pooling layer on ``ndim``-D (1 or 2) channels-last data."""
    if ndim == 2:
        shape = check_shape(input_shape, 3)
        pool = int_pair(pool_size, "pool_size")
        step = pool if stride is None else int_pair(stride, "stride")
        image = shape
    else:
        shape = check_shape(input_shape, 2)
        pool = (1, check_int(pool_size, "pool_size"))
        step = pool if stride is None else (1, check_int(stride, "stride"))
        image = (1, *shape)
    if pool[0] > image[0] or pool[1] > image[1]:
        size = pool if ndim == 2 else pool[1]
        raise ValueError(
            f"pool_size {size} is larger than the input {shape[:-1] if ndim == 2 else shape[0]}"
        )
    return shape, Windows(image, pool, step, (0, 0), kernel_name="pool_size")


class _Pool:
    """Window geometry, shapes and configuration shared by the pooling layers."""

    _ndim = 2

    def __init__(self, input_shape, pool_size, *, stride=None):
        self.input_shape, self._grid = _pool_windows(input_shape, pool_size, stride, self._ndim)
        grid = self._grid
        if self._ndim == 2:
            self.pool_size, self.stride = grid.kernel, grid.stride
        else:
            self.pool_size, self.stride = grid.kernel[1], grid.stride[1]
        hw = grid.out_hw if self._ndim == 2 else grid.out_hw[1:]
        self.output_shape = (*hw, self.input_shape[-1])
        self.d_in, self.d_out = prod(self.input_shape), prod(self.output_shape)

    def __repr__(self):
        return f"{type(self).__name__}({self.input_shape}, {self.pool_size}, stride={self.stride})"

    def get_config(self):
        listed = (lambda v: list(v)) if self._ndim == 2 else (lambda v: v)
        return {
            "input_shape": list(self.input_shape),
            "pool_size": listed(self.pool_size),
            "stride": listed(self.stride),
        }


class MaxPool2d(_NoParams, _Pool):
    """Max pooling Z = max over each (ph, pw) window of channels-last images.

    Parameters
    ----------
    input_shape : tuple (height, width, channels)
    pool_size : int or pair (ph, pw)
    stride : int or pair, default=pool_size
        Windows overlap when the stride is smaller than the window.

    Attributes
    ----------
    input_shape, output_shape : tuple
        (H, W, C) and (Ho, Wo, C), Ho = ⌊(H − ph) / sh⌋ + 1.

    Notes
    -----
    Z[s, ho, wo, c] = X[s, sh·ho + i*, sw·wo + j*, c] at the window's argmax
    (i*, j*), kept as ``index`` (a position in the row) in the
    :class:`PoolCache`. Locally Z = P X with P a 0/1 selection:

    - jvp: dZ = P dX (dX at the argmax)
    - vjp: gX = Pᵀ gZ (gZ scattered to the argmax, summed where overlapping
      windows share it)
    - rop: second derivative 0 (piecewise linear), R gX = Pᵀ dgZ
    - diag_backward (Becker–LeCun, note 004): hX = (P ⊙ P)ᵀ hZ = Pᵀ hZ (hZ
      scattered to the argmax, summed where overlapping windows share it)

    Kinked (``smooth`` False) where two entries of a window tie.
    """

    smooth = False

    def __init__(self, input_shape, pool_size, *, stride=None):
        super().__init__(input_shape, pool_size, stride=stride)
        self._positions = self._window_positions()

    def _forward(self, theta, X):
        parts, positions = self._grid.windows(X), self._positions
        stack = np.empty((len(parts), *parts[0].shape), dtype=X.dtype)
        for k, part in enumerate(parts):  # contiguous copies compare faster than strided windows
            stack[k] = part
        Z, index = stack[0].copy(), np.empty(stack.shape[1:], dtype=positions.dtype)
        index[...] = positions[0]
        for part, position in zip(stack[1:], positions[1:]):
            larger = part > Z  # strict: the first maximum wins ties
            np.maximum(Z, part, out=Z)
            index += larger * (position - index)
        n = X.shape[0]
        return Z.reshape(n, self.d_out), PoolCache(
            X, Z.reshape(n, self.d_out), index.reshape(n, self.d_out)
        )

    def _window_positions(self):
        """(pool offsets, Ho, Wo, C): the position in the input row read by each offset of each window."""
        grid, (_, W, C) = self._grid, self._grid.image
        (Ho, Wo), (sh, sw) = grid.out_hw, grid.stride
        start = (
            np.arange(Ho)[:, None, None] * sh * W + np.arange(Wo)[:, None] * sw
        ) * C + np.arange(C)
        shift = np.array([(i * W + j) * C for i, j, _ in grid.offsets])
        dtype = np.int32 if self.d_in < 2**31 else np.intp
        return (shift[:, None, None, None] + start).astype(dtype)

    def tangent(self, theta, cache, dtheta, dX):
        """Return ``(dZ, None)``: dX at the argmax of each window."""
        if dX is None:
            return np.zeros_like(cache.Z), None
        return np.take(dX, self._flat(cache.index)), None

    def _adjoint(self, cache, gZ):
        n = gZ.shape[0]
        if not self._grid.overlap:  # each input entry is the argmax of at most one window
            gX = np.zeros((n, self.d_in), dtype=gZ.dtype)
            gX.ravel()[self._flat(cache.index)] = gZ
            return gX
        return (
            np.bincount(
                self._flat(cache.index).ravel(), weights=gZ.ravel(), minlength=n * self.d_in
            )
            .reshape(n, self.d_in)
            .astype(gZ.dtype, copy=False)
        )

    def _flat(self, index):
        """Row positions → positions in the flattened (n_samples, d_in) input (a gather is faster on them)."""
        return index + self.d_in * np.arange(index.shape[0], dtype=np.intp)[:, None]


class AvgPool2d(_NoParams, _Pool):
    """Average pooling Z = mean over each (ph, pw) window of channels-last images.

    Parameters
    ----------
    input_shape : tuple (height, width, channels)
    pool_size : int or pair (ph, pw)
    stride : int or pair, default=pool_size

    Attributes
    ----------
    input_shape, output_shape : tuple
        (H, W, C) and (Ho, Wo, C), Ho = ⌊(H − ph) / sh⌋ + 1.

    Notes
    -----
    Linear: Z = P X with Z[s, ho, wo, c] = (1 / (ph·pw)) Σ_{i,j} X[s, sh·ho + i, sw·wo + j, c].

    - jvp: dZ = P dX
    - vjp: gX = Pᵀ gZ (gZ / (ph·pw) added to every entry of its window)
    - rop: R gX = Pᵀ dgZ (second derivative 0)
    - diag_backward (Becker–LeCun, note 004): hX = (P ⊙ P)ᵀ hZ (hZ / (ph·pw)²
      added to every entry of its window)
    """

    smooth = True

    def _forward(self, theta, X):
        return (Z := self._average(X)), PoolCache(X, Z)

    def tangent(self, theta, cache, dtheta, dX):
        """Return ``(dZ, None)``: the average of dX."""
        return (np.zeros_like(cache.Z) if dX is None else self._average(dX)), None

    def _average(self, X):
        parts = self._grid.windows(X)
        Z = parts[0].copy()
        for part in parts[1:]:
            Z += part
        Z *= Z.dtype.type(1.0 / len(parts))
        return Z.reshape(X.shape[0], self.d_out)

    def _adjoint(self, cache, gZ):
        G = gZ.reshape(-1, *self._grid.out_hw, self._grid.image[2]) * gZ.dtype.type(
            1.0 / len(self._grid.offsets)
        )
        return self._grid.scatter([G] * len(self._grid.offsets), G.shape[0], G.dtype)

    def _adjoint_squared(self, cache, hZ):
        """(P ⊙ P)ᵀ hZ = Pᵀ (hZ / (ph·pw)): each coefficient of P is 1 / (ph·pw)."""
        return self._adjoint(cache, hZ * hZ.dtype.type(1.0 / len(self._grid.offsets)))


class MaxPool1d(MaxPool2d):
    """Max pooling over windows of channels-last sequences (length, channels).

    Parameters
    ----------
    input_shape : tuple (length, channels)
    pool_size : int
    stride : int, default=pool_size

    Notes
    -----
    :class:`MaxPool2d` on images of height 1; output_shape (Lo, C),
    Lo = ⌊(L − pool_size) / stride⌋ + 1.
    """

    _ndim = 1


class AvgPool1d(AvgPool2d):
    """Average pooling over windows of channels-last sequences (length, channels).

    Parameters
    ----------
    input_shape : tuple (length, channels)
    pool_size : int
    stride : int, default=pool_size

    Notes
    -----
    :class:`AvgPool2d` on images of height 1; output_shape (Lo, C).
    """

    _ndim = 1


class Reshape(_NoParams):
    """The identity on flat rows that declares a new ``output_shape``.

    Parameters
    ----------
    input_shape, output_shape : tuple of int
        Same total size; rows are flattened row-major, so e.g. (H, W, C) →
        (H·W, C) turns an image into a sequence of pixels.

    Notes
    -----
    Z = X; jvp dZ = dX, vjp gX = gZ, rop R gX = dgZ, diag_backward
    (Becker–LeCun, note 004) hX = hZ. Returns its input arrays themselves,
    no copy.
    """

    smooth = True

    def __init__(self, input_shape, output_shape):
        self.input_shape = self._shape(input_shape, "input_shape")
        self.output_shape = self._shape(output_shape, "output_shape")
        self.d_in, self.d_out = prod(self.input_shape), prod(self.output_shape)
        if self.d_in != self.d_out:
            raise ValueError(
                f"output_shape {self.output_shape} has {self.d_out} entries but input_shape "
                f"{self.input_shape} has {self.d_in}"
            )

    @staticmethod
    def _shape(shape, name):
        if not isinstance(shape, (tuple, list)) or not shape:
            raise ValueError(f"{name} must be a non-empty tuple of positive ints, got {shape!r}")
        return check_shape(shape, len(shape), name)

    def __repr__(self):
        return f"Reshape({self.input_shape}, {self.output_shape})"

    def get_config(self):
        return {"input_shape": list(self.input_shape), "output_shape": list(self.output_shape)}

    def _forward(self, theta, X):
        return X, PoolCache(X, X)

    def tangent(self, theta, cache, dtheta, dX):
        return (np.zeros_like(cache.X) if dX is None else dX), None

    def _adjoint(self, cache, gZ):
        return gZ


class Flatten(Reshape):
    """The identity on flat rows: ``input_shape`` → ``output_shape`` (prod(input_shape),).

    Parameters
    ----------
    input_shape : tuple of int

    Notes
    -----
    :class:`Reshape` to one axis, e.g. before a :class:`~numnet.layers.Dense` layer.
    """

    def __init__(self, input_shape):
        shape = self._shape(input_shape, "input_shape")
        super().__init__(shape, (prod(shape),))

    def __repr__(self):
        return f"Flatten({self.input_shape})"

    def get_config(self):
        return {"input_shape": list(self.input_shape)}
