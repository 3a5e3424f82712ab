"""Convolution layers with explicit forward, Jacobian-vector, adjoint and R-operator products.

A convolution is a dense layer applied to every window of the image: with
``cols = im2col(X)``, the matrix whose rows are the windows, A = cols W + b
is one matrix product, and every product of :class:`~numnet.layers.Dense`
carries over with ``cols`` in place of X and ``col2im`` (the adjoint of
im2col) around the input cotangents. Rows are channels-last images
(height, width, channels) or sequences (length, channels), flattened
row-major; :func:`~numnet.layers.as_rows` converts image arrays.
"""

from math import prod

import numpy as np

from .._validation import check_int, check_matrix, check_theta
from ..activations import get_activation
from ._contract import check_tangents, init_weights
from ._image import Windows, as_rows, check_shape, int_pair
from .dense import DenseCache

__all__ = ["Conv2d", "Conv1d", "ConvCache", "as_rows"]


class ConvCache(DenseCache):
    """What the forward pass of a :class:`Conv2d` or :class:`Conv1d` layer keeps.

    Attributes
    ----------
    X : ndarray (n_samples, d_in)
        The layer input (flat channels-last rows).
    cols : ndarray (n_samples · n_pixels, kh · kw · c_in)
        im2col(X): row (s, p) is the window of sample s seen by output pixel
        p, flattened (i, j, c) like the first three axes of W. The weight
        gradients are ``colsᵀ gA``.
    A : ndarray (n_samples, d_out)
        The pre-activation conv(X, W) + b.
    Z : ndarray (n_samples, d_out)
        The output σ(A).
    activation : Activation
        σ.
    dsigma, d2sigma : ndarray (n_samples, d_out)
        σ′(A) and σ″(A), computed on first use and kept.
    """

    def __init__(self, X, cols, A, Z, activation):
        super().__init__(X, A, Z, activation)
        self.cols = cols


class Conv2d:
    """2-D convolution Z = σ(conv(X, W) + b) over channels-last images.

    Parameters
    ----------
    input_shape : tuple (height, width, channels)
        Shape of one input image; a row of X is this image flattened row-major.
    filters : int
        Output channels.
    kernel_size : int or pair (kh, kw)
    stride : int or pair (sh, sw), default=1
    padding : int or pair (ph, pw), default=0
        Zeros added on both sides of each spatial axis.
    activation : str or Activation, default="identity"
        σ, by name (see :mod:`numnet.activations`).
    bias : bool, default=True
        Whether the layer has one bias per filter.

    Attributes
    ----------
    input_shape, output_shape : tuple
        (H, W, C) and (Ho, Wo, filters), Ho = ⌊(H + 2 ph − kh) / sh⌋ + 1 and
        Wo alike; d_in = H·W·C, d_out = Ho·Wo·filters.

    Notes
    -----
    Notes 000's single layer Z = σ(KY + b) with K a convolution; here, samples
    as rows, Z = σ(A) with the cross-correlation (as in PyTorch)
    A[s, ho, wo, f] = Σ_{i,j,c} Xp[s, sh·ho + i, sw·wo + j, c] W[i, j, c, f] + b[f],
    Xp the zero-padded X. ``theta`` holds W of shape (kh, kw, c_in, filters)
    (row-major), then b. With cols(X) = im2col(X) (n·Ho·Wo, kh·kw·c_in) and W
    read as a (kh·kw·c_in, filters) matrix, A = cols(X) W + b, so:

    - jvp: dA = cols(dX) W + cols(X) dW + db,  dZ = σ′(A) ⊙ dA
    - vjp: gA = σ′(A) ⊙ gZ,  gW = cols(X)ᵀ gA,  gb = Σ_{rows, pixels} gA,
      gX = col2im(gA Wᵀ), col2im the adjoint of im2col (overlapping windows add)
    - rop: R{gA} = σ″(A) ⊙ dA ⊙ gZ + σ′(A) ⊙ dgZ,
      R{gW} = cols(dX)ᵀ gA + cols(X)ᵀ R{gA},  R{gb} = Σ R{gA},
      R{gX} = col2im(R{gA} Wᵀ + gA dWᵀ)
    - diag_backward (Becker–LeCun, note 004): hA = σ′(A)² ⊙ hZ + σ″(A) ⊙ gZ,
      diag W = cols(X ⊙ X)ᵀ hA,  diag b = Σ_{rows, pixels} hA,  hX = col2im(hA (W ⊙ W)ᵀ)

    im2col and col2im are one slice copy (addition) per kernel offset; the
    forward pass keeps cols(X) in the :class:`ConvCache` for the weight
    gradients, and the tangent pass keeps cols(dX) for ``rop``.
    """

    def __init__(
        self,
        input_shape,
        filters,
        kernel_size,
        *,
        stride=1,
        padding=0,
        activation="identity",
        bias=True,
    ):
        shape = check_shape(input_shape, 3)
        kernel = int_pair(kernel_size, "kernel_size")
        self._setup(
            Windows(shape, kernel, int_pair(stride, "stride"), int_pair(padding, "padding", 0)),
            filters,
            activation,
            bias,
        )
        self.input_shape, self.output_shape = shape, (*self._grid.out_hw, self.filters)
        self.kernel_size, self.stride, self.padding = kernel, self._grid.stride, self._grid.padding

    def _setup(self, grid, filters, activation, bias):
        """Sizes from the window geometry ``grid`` (shared by the 1-D layer)."""
        self.filters = check_int(filters, "filters")
        self.activation = get_activation(activation)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        self.bias = bool(bias)
        self._grid = grid
        kh, kw = grid.kernel
        self._k = kh * kw * grid.image[2]
        self._n_W = self._k * self.filters
        self._fans = (self._k, kh * kw * self.filters)
        self.d_in, self.d_out = prod(grid.image), grid.n_pixels * self.filters
        self._linear = self.activation.name == "identity"

    def __repr__(self):
        return (
            f"{type(self).__name__}({self.input_shape}, {self.filters}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}, activation={self.activation.name!r}, "
            f"bias={self.bias})"
        )

    def get_config(self):
        return {
            "input_shape": list(self.input_shape),
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "stride": list(self.stride),
            "padding": list(self.padding),
            "activation": self.activation,
            "bias": self.bias,
        }

    @property
    def n_params(self):
        return self._n_W + (self.filters if self.bias else 0)

    @property
    def smooth(self):
        """True when the layer is twice continuously differentiable."""
        return self.activation.smooth

    def init(self, rng, dtype=np.float64, scheme="xavier"):
        """Draw parameters with fan_in = kh·kw·c_in, fan_out = kh·kw·filters (zero bias unless "normal")."""
        return init_weights(rng, dtype, scheme, self._n_W, self.n_params - self._n_W, *self._fans)

    def unpack(self, theta):
        """Views ``{"W": (kh, kw, c_in, filters), "b": (filters,) or None}`` into ``theta``."""
        W = theta[: self._n_W].reshape(*self._grid.kernel, self._grid.image[2], self.filters)
        return {"W": W, "b": theta[self._n_W :] if self.bias else None}

    def bias_mask(self):
        """Boolean mask of the entries of ``theta`` that are biases."""
        mask = np.zeros(self.n_params, dtype=bool)
        mask[self._n_W :] = True
        return mask

    def forward(self, theta, X):
        """Return ``(Z, cache)`` with Z = σ(conv(X, W) + b)."""
        theta = check_theta(theta, self.n_params)
        return self._forward(theta, check_matrix(X, "X", self.d_in, dtype=theta.dtype))

    def _forward(self, theta, X):
        """:meth:`forward` without the input checks (a network checks theta and X once)."""
        cols = self._grid.im2col(X)
        A = (cols @ self._matrix(theta)).reshape(X.shape[0], self.d_out)
        if self.bias:
            A += self._per_pixel(theta[self._n_W :])
        Z = A if self._linear else self.activation.f(A)
        return Z, ConvCache(X, cols, A, Z, self.activation)

    def tangent(self, theta, cache, dtheta, dX):
        """Return ``(dZ, (dA, cols(dX)))``: the jvp and what :meth:`rop` reuses of it."""
        dcols = dA = None
        if dX is not None:
            dcols = self._grid.im2col(dX)
            dA = dcols @ self._matrix(theta)
        if dtheta is not None:
            XdW = cache.cols @ self._matrix(dtheta)
            dA = XdW if dA is None else np.add(dA, XdW, out=dA)
        dA = np.zeros_like(cache.Z) if dA is None else dA.reshape(cache.Z.shape)
        if dtheta is not None and self.bias:
            dA += self._per_pixel(dtheta[self._n_W :])
        return (dA if self._linear else cache.dsigma * dA), (dA, dcols)

    def jvp(self, theta, cache, dtheta, dX):
        """J v for a parameter direction ``dtheta`` and an input direction ``dX`` (either may be None)."""
        dtheta, dX = check_tangents(self, theta, dtheta, dX, cache.X.shape[0])
        return self.tangent(theta, cache, dtheta, dX)[0]

    def vjp(self, theta, cache, gZ, *, need_gtheta=True, need_gX=True, out=None):
        """Jᵀ u: return ``(gtheta, gX)``; ``gtheta`` is written into ``out`` when given."""
        gA = self._by_pixel(gZ if self._linear else cache.dsigma * gZ)
        gtheta = self._param_grad(cache.cols, gA, out) if need_gtheta else None
        gX = self._backproject([(gA, theta)]) if need_gX else None
        return gtheta, gX

    def rop(self, theta, cache, dtheta, dX, gZ, dgZ, *, tcache=None, need_gX=True, out=None):
        """R{vjp}: derivative of ``vjp(gZ)`` along (dtheta, dX) with gZ moving along dgZ."""
        dA, dcols = self.tangent(theta, cache, dtheta, dX)[1] if tcache is None else tcache
        gA = gZ if self._linear else cache.dsigma * gZ
        if self._linear:
            RgA = np.zeros_like(gZ) if dgZ is None else dgZ
        else:
            RgA = cache.d2sigma * dA * gZ
            if dgZ is not None:
                RgA += cache.dsigma * dgZ
        gA, RgA = self._by_pixel(gA), self._by_pixel(RgA)
        Rg = self._param_grad(cache.cols, RgA, out)
        if dX is not None:
            dcols = self._grid.im2col(dX) if dcols is None else dcols
            Rg[: self._n_W].reshape(self._k, self.filters)[...] += dcols.T @ gA
        if not need_gX:
            return Rg, None
        pairs = [(RgA, theta)] if dtheta is None else [(RgA, theta), (gA, dtheta)]
        return Rg, self._backproject(pairs)

    def diag_backward(self, theta, cache, gZ, hZ, *, need_hX=True, out=None):
        """Becker–LeCun's backward step (note 004), :class:`Dense`'s on the im2col matrix: ``(diag, hX)``.

        hA = σ′(A)² ⊙ hZ + σ″(A) ⊙ gZ, diag for W: cols(X ⊙ X)ᵀ hA (cols(X) ⊙ cols(X),
        im2col being a selection), for b: Σ_{rows, pixels} hA, hX = col2im(hA (W ⊙ W)ᵀ);
        hZ holds the diagonal second derivatives at the output (off-diagonal terms
        dropped), gZ the cotangent; the diagonal is written into ``out`` when given.
        """
        hA = self._by_pixel(
            hZ if self._linear else cache.dsigma * cache.dsigma * hZ + cache.d2sigma * gZ
        )
        d = self._param_grad(cache.cols * cache.cols, hA, out)
        W = theta[: self._n_W]
        return d, (self._backproject([(hA, W * W)]) if need_hX else None)

    def _matrix(self, theta):
        """W as the (kh·kw·c_in, filters) matrix that multiplies im2col rows (a view)."""
        return theta[: self._n_W].reshape(self._k, self.filters)

    def _by_pixel(self, G):
        """(n, Ho·Wo·filters) → (n·Ho·Wo, filters), a view of a contiguous G."""
        return G.reshape(-1, self.filters)

    def _per_pixel(self, b):
        """b repeated for every output pixel: added to a (n, d_out) row in one pass along the row."""
        return np.tile(b, self._grid.n_pixels)

    def _backproject(self, pairs):
        """col2im(Σ G Wᵀ) over the list of (G, theta) pairs, as one product per kernel offset.

        Each product G W[i, j]ᵀ is a contiguous (n, Ho, Wo, c_in) block, so it adds
        into the padded input row by row (a product of G with all of Wᵀ at once
        would interleave the offsets and add 8-element pieces).
        """
        G0 = pairs[0][0]
        n, dims = G0.shape[0] // self._grid.n_pixels, (-1, *self._grid.out_hw, self._grid.image[2])
        Ws = [
            theta[: self._n_W].reshape(len(self._grid.offsets), -1, self.filters)
            for _, theta in pairs
        ]

        def part(k):
            P = G0 @ Ws[0][k].T
            for (G, _), W in zip(pairs[1:], Ws[1:]):
                P += G @ W[k].T
            return P.reshape(dims)

        return self._grid.scatter((part(k) for k in range(len(self._grid.offsets))), n, G0.dtype)

    def _param_grad(self, cols, gA, out):
        """Write gW = colsᵀ gA and gb = Σ_rows gA into ``out`` (a new array when None)."""
        g = np.empty(self.n_params, dtype=gA.dtype) if out is None else out
        np.matmul(cols.T, gA, out=g[: self._n_W].reshape(self._k, self.filters))
        if self.bias:  # sum the long rows of (n, Ho·Wo·filters) first: a column sum of (n·Ho·Wo, filters) is slow
            gA.reshape(-1, self._grid.n_pixels * self.filters).sum(axis=0).reshape(
                -1, self.filters
            ).sum(axis=0, out=g[self._n_W :])
        return g


class Conv1d(Conv2d):
    """1-D convolution Z = σ(conv(X, W) + b) over channels-last sequences.

    Parameters
    ----------
    input_shape : tuple (length, channels)
        Shape of one input sequence; a row of X is it flattened row-major.
    filters : int
        Output channels.
    kernel_size, stride : int
        stride defaults to 1.
    padding : int, default=0
        Zeros added at both ends.
    activation : str or Activation, default="identity"
    bias : bool, default=True

    Attributes
    ----------
    input_shape, output_shape : tuple
        (L, C) and (Lo, filters), Lo = ⌊(L + 2 p − k) / s⌋ + 1.

    Notes
    -----
    The 2-D layer on images of height 1:
    A[s, l, f] = Σ_{i,c} Xp[s, stride·l + i, c] W[i, c, f] + b[f];
    ``theta`` holds W of shape (kernel_size, c_in, filters), then b. Every
    product is the one of :class:`Conv2d`.
    """

    def __init__(
        self,
        input_shape,
        filters,
        kernel_size,
        *,
        stride=1,
        padding=0,
        activation="identity",
        bias=True,
    ):
        L, C = check_shape(input_shape, 2)
        k, s = check_int(kernel_size, "kernel_size"), check_int(stride, "stride")
        p = check_int(padding, "padding", 0)
        if k > L + 2 * p:
            raise ValueError(f"kernel_size {k} is larger than the padded input length {L + 2 * p}")
        self._setup(Windows((1, L, C), (1, k), (1, s), (0, p)), filters, activation, bias)
        self.input_shape, self.output_shape = (L, C), (self._grid.out_hw[1], self.filters)
        self.kernel_size, self.stride, self.padding = k, s, p

    def get_config(self):
        return {
            "input_shape": list(self.input_shape),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "stride": self.stride,
            "padding": self.padding,
            "activation": self.activation,
            "bias": self.bias,
        }

    def unpack(self, theta):
        """Views ``{"W": (kernel_size, c_in, filters), "b": (filters,) or None}`` into ``theta``."""
        W = theta[: self._n_W].reshape(self.kernel_size, self.input_shape[1], self.filters)
        return {"W": W, "b": theta[self._n_W :] if self.bias else None}
