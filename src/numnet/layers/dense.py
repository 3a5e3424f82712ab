"""Dense and residual layers with explicit forward, Jacobian-vector, adjoint and R-operator products.

A layer owns no parameters: it reads them as views of a slice of the flat
parameter vector ``theta`` (DESIGN.md, "the layer contract"). Every product is
a few matrix products, never a Kronecker product (notes 000, "efficient
mat-vec").
"""

from functools import cached_property

import numpy as np

from .._validation import check_matrix, check_theta
from ..activations import get_activation
from ..workspace import buffer
from ._contract import check_tangents, init_weights, positive_int

__all__ = ["Dense", "DenseCache", "Residual"]


class DenseCache:
    """What the forward pass of a :class:`Dense` layer keeps.

    Attributes
    ----------
    X : ndarray (n_samples, d_in)
        The layer input.
    A : ndarray (n_samples, d_out)
        The pre-activation A = X W + b.
    Z : ndarray (n_samples, d_out)
        The output σ(A).
    activation : Activation
        σ.
    dsigma, d2sigma : ndarray (n_samples, d_out)
        σ′(A) and σ″(A), computed on first use and kept (in the forward
        pass's workspace when it had one).
    """

    def __init__(self, X, A, Z, activation, ws=None):
        self.X, self.A, self.Z, self.activation, self._ws = X, A, Z, activation, ws

    @cached_property
    def dsigma(self):
        return self.activation.dsigma(self.A, self.Z, out=buffer(self._ws, "dsigma", self.Z))

    @cached_property
    def d2sigma(self):
        return self.activation.d2sigma(self.A, self.Z, out=buffer(self._ws, "d2sigma", self.Z))


class Dense:
    """Fully connected layer Z = σ(X W + b).

    Parameters
    ----------
    d_in, d_out : int
        Input and output widths.
    activation : str or Activation, default="identity"
        σ, by name (see :mod:`numnet.activations`); "identity" gives the
        linear output layer S = Z W of the notes.
    bias : bool, default=True
        Whether the layer has the bias b.

    Notes
    -----
    Notes 000: Z = σ(KY + b); here, samples as rows, Z = σ(A), A = X W + b with
    W = Kᵀ of shape (d_in, d_out). ``theta`` holds W (row-major) then b.

    - jvp: dA = dX W + X dW + db,  dZ = σ′(A) ⊙ dA
    - vjp: gA = σ′(A) ⊙ gZ,  gW = Xᵀ gA,  gb = Σ_rows gA,  gX = gA Wᵀ
    - rop (R-operator of the vjp, note 004): R{gA} = σ″(A) ⊙ dA ⊙ gZ + σ′(A) ⊙ dgZ,
      R{gW} = dXᵀ gA + Xᵀ R{gA},  R{gb} = Σ_rows R{gA},  R{gX} = R{gA} Wᵀ + gA dWᵀ

    Every method takes an optional ``ws`` (a :class:`~numnet.workspace.Workspace`
    scope): the arrays it returns and keeps (A, Z, σ′, σ″, dA, dZ, gX, R{gX})
    are then written into that scope's buffers, by ``np.matmul(..., out=)`` and
    in-place element-wise functions, and stay valid until the next call with
    the same scope. Without it, every result is a new array.
    """

    takes_workspace = True

    def __init__(self, d_in, d_out, activation="identity", bias=True):
        self.d_in = positive_int(d_in, "d_in")
        self.d_out = positive_int(d_out, "d_out")
        self.activation = get_activation(activation)
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        self.bias = bool(bias)
        self._n_W = self.d_in * self.d_out
        self._linear = self.activation.name == "identity"

    def __repr__(self):
        return f"Dense({self.d_in}, {self.d_out}, activation={self.activation.name!r}, bias={self.bias})"

    def get_config(self):
        return {
            "d_in": self.d_in,
            "d_out": self.d_out,
            "activation": self.activation,
            "bias": self.bias,
        }

    @property
    def affine(self):
        """True when Z = X W + b (identity activation): the output is linear in (W, b), as variable projection needs."""
        return self._linear

    @property
    def n_params(self):
        return self._n_W + (self.d_out if self.bias else 0)

    @property
    def smooth(self):
        """True when the layer is twice continuously differentiable."""
        return self.activation.smooth

    def init(self, rng, dtype=np.float64, scheme="xavier"):
        """Draw parameters: "normal" (randn, as in the notes), "xavier" or "he" (zero bias)."""
        return init_weights(
            rng, dtype, scheme, self._n_W, self.n_params - self._n_W, self.d_in, self.d_out
        )

    def unpack(self, theta):
        """Views ``{"W": (d_in, d_out), "b": (d_out,) or None}`` into ``theta``."""
        W = theta[: self._n_W].reshape(self.d_in, self.d_out)
        return {"W": W, "b": theta[self._n_W :] if self.bias else None}

    def bias_mask(self):
        """Boolean mask of the entries of ``theta`` that are biases."""
        mask = np.zeros(self.n_params, dtype=bool)
        mask[self._n_W :] = True
        return mask

    def forward(self, theta, X, ws=None):
        """Return ``(Z, cache)`` with Z = σ(X W + b)."""
        theta = check_theta(theta, self.n_params)
        return self._forward(theta, check_matrix(X, "X", self.d_in, dtype=theta.dtype), ws)

    def _forward(self, theta, X, ws=None):
        """:meth:`forward` without the input checks (a network checks theta and X once)."""
        p = self.unpack(theta)
        out = None if ws is None else ws.array("A", (X.shape[0], self.d_out), X.dtype)
        A = np.matmul(X, p["W"], out=out)
        if self.bias:
            A += p["b"]
        Z = A if self._linear else self.activation.sigma(A, out=buffer(ws, "Z", A))
        return Z, DenseCache(X, A, Z, self.activation, ws)

    def tangent(self, theta, cache, dtheta, dX, *, ws=None):
        """Return ``(dZ, dA)``: the jvp and the tangent of A that :meth:`rop` reuses."""
        dA = (
            None
            if dX is None
            else np.matmul(dX, self.unpack(theta)["W"], out=buffer(ws, "dA", cache.Z))
        )
        if dtheta is not None:
            d = self.unpack(dtheta)
            if dA is None:
                dA = np.matmul(cache.X, d["W"], out=buffer(ws, "dA", cache.Z))
            else:
                dA += np.matmul(cache.X, d["W"], out=buffer(ws, "scratch", cache.Z))
            if self.bias:
                dA += d["b"]
        if dA is None:
            dA = np.zeros_like(cache.Z)
        return (dA if self._linear else np.multiply(cache.dsigma, dA, out=buffer(ws, "dZ", dA))), dA

    def jvp(self, theta, cache, dtheta, dX):
        """J v for a parameter direction ``dtheta`` and an input direction ``dX`` (either may be None)."""
        dtheta, dX = check_tangents(self, theta, dtheta, dX, cache.X.shape[0])
        return self.tangent(theta, cache, dtheta, dX)[0]

    def vjp(self, theta, cache, gZ, *, need_gtheta=True, need_gX=True, out=None, ws=None):
        """Jᵀ u: return ``(gtheta, gX)``; ``gtheta`` is written into ``out`` when given."""
        gA = gZ if self._linear else np.multiply(cache.dsigma, gZ, out=buffer(ws, "gA", gZ))
        gtheta = self._param_grad(cache.X, gA, out) if need_gtheta else None
        gX = (
            np.matmul(gA, self.unpack(theta)["W"].T, out=buffer(ws, "gX", cache.X))
            if need_gX
            else None
        )
        return gtheta, gX

    def rop(
        self, theta, cache, dtheta, dX, gZ, dgZ, *, tcache=None, need_gX=True, out=None, ws=None
    ):
        """R{vjp}: derivative of ``vjp(gZ)`` along (dtheta, dX) with gZ moving along dgZ."""
        dA = self.tangent(theta, cache, dtheta, dX, ws=ws)[1] if tcache is None else tcache
        gA = gZ if self._linear else None  # σ′(A) ⊙ gZ, needed for the dX and dW terms only
        if gA is None and (dX is not None or (need_gX and dtheta is not None)):
            gA = np.multiply(cache.dsigma, gZ, out=buffer(ws, "gA", gZ))
        RgA = self._r_cotangent(cache, dA, gZ, dgZ, ws)
        Rg = self._param_grad(cache.X, RgA, out)
        if dX is not None:
            Rg[: self._n_W].reshape(self.d_in, self.d_out)[...] += np.matmul(
                dX.T,
                gA,
                out=None if ws is None else ws.array("dXgA", (self.d_in, self.d_out), gA.dtype),
            )
        if not need_gX:
            return Rg, None
        RgX = np.matmul(RgA, self.unpack(theta)["W"].T, out=buffer(ws, "RgX", cache.X))
        if dtheta is not None:
            RgX += np.matmul(gA, self.unpack(dtheta)["W"].T, out=buffer(ws, "scratchX", cache.X))
        return Rg, RgX

    def _r_cotangent(self, cache, dA, gZ, dgZ, ws):
        """R{gA} = σ″(A) ⊙ dA ⊙ gZ + σ′(A) ⊙ dgZ (dgZ itself for a linear layer)."""
        if self._linear:
            return np.zeros_like(gZ) if dgZ is None else dgZ
        RgA = np.multiply(cache.d2sigma, dA, out=buffer(ws, "RgA", gZ))
        RgA *= gZ
        if dgZ is not None:
            RgA += np.multiply(cache.dsigma, dgZ, out=buffer(ws, "scratch", gZ))
        return RgA

    def diag_backward(self, theta, cache, gZ, hZ, *, need_hX=True, out=None):
        """Becker–LeCun's backward step (note 004): ``(diagonal curvature of θ, hX)``.

        hA = σ′(A)² ⊙ hZ + σ″(A) ⊙ gZ, diag for W: (X ⊙ X)ᵀ hA, for b: Σ_rows hA,
        hX = hA (W ⊙ W)ᵀ, where hZ holds the diagonal second derivatives at the
        output (off-diagonal terms dropped) and gZ the cotangent.
        """
        hA = hZ if self._linear else cache.dsigma * cache.dsigma * hZ + cache.d2sigma * gZ
        d = self._param_grad(cache.X * cache.X, hA, out)
        W = self.unpack(theta)["W"]
        return d, (hA @ (W * W).T if need_hX else None)

    def _param_grad(self, X, gA, out):
        """Write gW = Xᵀ gA and gb = Σ_rows gA into ``out`` (a new array when None)."""
        g = np.empty(self.n_params, dtype=gA.dtype) if out is None else out
        np.matmul(X.T, gA, out=g[: self._n_W].reshape(self.d_in, self.d_out))
        if self.bias:
            np.sum(gA, axis=0, out=g[self._n_W :])
        return g


class Residual:
    """Residual block Z = X + h σ(X W + b) (notes 002, "DAG structures").

    Parameters
    ----------
    width : int
        Input and output width.
    activation : str or Activation, default="tanh"
    step : float, default=1.0
        The step h.

    Notes
    -----
    The cache is the inner layer's :class:`DenseCache`.
    Composed from a :class:`Dense` layer D(X) = σ(X W + b):

    - jvp: dZ = dX + h dD,   vjp: (gθ, gX_D) = D.vjp(h gZ),  gX = gZ + gX_D
    - rop: (R gθ, R gX_D) = D.rop(h gZ, h dgZ),  R gX = R gX_D + dgZ

    ``ws``, when given, is shared with the inner layer (see :class:`Dense`).
    """

    takes_workspace = True

    def __init__(self, width, activation="tanh", step=1.0):
        self.inner = Dense(width, width, activation, bias=True)
        self.d_in = self.d_out = self.inner.d_in
        if isinstance(step, (bool, np.bool_)) or not isinstance(
            step, (int, float, np.integer, np.floating)
        ):
            raise TypeError(f"step must be a number, got {step!r}")
        self.step = float(step)
        if not np.isfinite(self.step):
            raise ValueError(f"step must be finite, got {step!r}")

    def __repr__(self):
        return f"Residual({self.d_in}, activation={self.inner.activation.name!r}, step={self.step})"

    def get_config(self):
        return {"width": self.d_in, "activation": self.inner.activation, "step": self.step}

    @property
    def n_params(self):
        return self.inner.n_params

    @property
    def smooth(self):
        return self.inner.smooth

    def init(self, rng, dtype=np.float64, scheme="xavier"):
        return self.inner.init(rng, dtype, scheme)

    def unpack(self, theta):
        return self.inner.unpack(theta)

    def bias_mask(self):
        return self.inner.bias_mask()

    def forward(self, theta, X, ws=None):
        D, cache = self.inner.forward(theta, X, ws)
        return self._plus_input(cache.X, D, ws), cache

    def _forward(self, theta, X, ws=None):
        D, cache = self.inner._forward(theta, X, ws)
        return self._plus_input(cache.X, D, ws), cache

    def _plus_input(self, X, D, ws):
        """Z = X + h D (into the scope's "out" buffer when there is one)."""
        Z = np.multiply(D, self.step, out=buffer(ws, "out", D))
        Z += X
        return Z

    def tangent(self, theta, cache, dtheta, dX, *, ws=None):
        dD, dA = self.inner.tangent(theta, cache, dtheta, dX, ws=ws)
        dZ = np.multiply(dD, self.step, out=buffer(ws, "dout", dD))
        if dX is not None:
            dZ += dX
        return dZ, dA

    def jvp(self, theta, cache, dtheta, dX):
        dtheta, dX = check_tangents(self, theta, dtheta, dX, cache.X.shape[0])
        return self.tangent(theta, cache, dtheta, dX)[0]

    def vjp(self, theta, cache, gZ, *, need_gtheta=True, need_gX=True, out=None, ws=None):
        hgZ = np.multiply(gZ, self.step, out=buffer(ws, "hgZ", gZ))
        g, gX = self.inner.vjp(
            theta, cache, hgZ, need_gtheta=need_gtheta, need_gX=need_gX, out=out, ws=ws
        )
        if need_gX:
            gX += gZ  # gX is the inner layer's new (or workspace) array
        return g, gX

    def rop(
        self, theta, cache, dtheta, dX, gZ, dgZ, *, tcache=None, need_gX=True, out=None, ws=None
    ):
        h = self.step
        hgZ = np.multiply(gZ, h, out=buffer(ws, "hgZ", gZ))
        hdgZ = None if dgZ is None else np.multiply(dgZ, h, out=buffer(ws, "hdgZ", dgZ))
        Rg, RgX = self.inner.rop(
            theta, cache, dtheta, dX, hgZ, hdgZ, tcache=tcache, need_gX=need_gX, out=out, ws=ws
        )
        if need_gX and dgZ is not None:
            RgX += dgZ
        return Rg, RgX

    def diag_backward(self, theta, cache, gZ, hZ, *, need_hX=True, out=None):
        """Becker–LeCun's step through Z = X + h D(X), exact for a diagonal hZ.

        D gets the cotangent h gZ and the curvature h² hZ; then
        hX = hZ + 2h (σ′(A) ⊙ diag W) ⊙ hZ + hX_D (the identity's diagonal, the cross
        term with J_D, and D's own part).
        """
        h = self.step
        d, hXD = self.inner.diag_backward(
            theta, cache, h * gZ, h * h * hZ, need_hX=need_hX, out=out
        )
        if not need_hX:
            return d, None
        cross = 2 * h * cache.dsigma * np.diagonal(self.unpack(theta)["W"])
        return d, hZ + hXD + cross * hZ
