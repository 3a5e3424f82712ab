"""Sequential composition of layers over one flat parameter vector."""

import numpy as np

from ._validation import as_rng, check_float_dtype, check_matrix, check_theta
from .layers import INIT_SCHEMES, Dense, Layer
from .layers._contract import check_tangents

__all__ = ["Sequential", "mlp"]


class Sequential:
    """A feed-forward network F = f_L(… f_2(f_1(X))) that is itself a layer.

    Parameters
    ----------
    layers : sequence of layers
        Each satisfies the layer contract (DESIGN.md); widths must chain.

    Notes
    -----
    Notes 003, multi-layer forward/backward: the forward pass keeps each
    layer's cache; backpropagation runs the layer ``vjp``s in reverse,
    writing each layer's gradient into its slice of one flat vector, so the
    cost is O(V + E) (notes 001). ``rop`` is Pearlmutter's R-operator (note
    004, "fast multiplication by the Hessian"): one forward tangent pass
    (``tangent``), then one backward pass of the layer ``rop``s, each fed
    the cotangent gZ of the ordinary backward pass and its R-derivative dgZ.

    ``forward``, ``tangent``, ``vjp``, ``backward`` and ``rop`` take an
    optional ``ws`` (a :class:`~numnet.workspace.Workspace`): layer i that
    takes one gets the scope ``ws.scope(i)`` for its outputs and
    intermediates, which then stay valid until the next call with the same
    ``ws``. Gradients and R-products are still written into ``out`` or a
    new array.
    """

    takes_workspace = True

    def __init__(self, layers):
        layers = list(layers)
        if not layers:
            raise ValueError("layers must be a non-empty sequence of layers")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise TypeError(
                    f"layers[{i}] must be a layer (see numnet.layers.Layer), got {type(layer).__name__}"
                )
        for i, (a, b) in enumerate(zip(layers, layers[1:])):
            if a.d_out != b.d_in:
                raise ValueError(
                    f"layers[{i}] has d_out={a.d_out} but layers[{i + 1}] has d_in={b.d_in}"
                )
        self.layers = layers
        self.d_in, self.d_out = layers[0].d_in, layers[-1].d_out
        bounds = np.cumsum([0] + [layer.n_params for layer in layers])
        self.slices = [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]
        # theta and X are checked once by forward; layers that offer an unchecked _forward skip re-checking
        self._forwards = [getattr(layer, "_forward", layer.forward) for layer in layers]
        self._takes_ws = [getattr(layer, "takes_workspace", False) for layer in layers]

    def __repr__(self):
        inner = ",\n    ".join(repr(layer) for layer in self.layers)
        return f"Sequential([\n    {inner},\n])"

    def get_config(self):
        """``{"layers": [...]}``: the layers themselves (:mod:`numnet.io` turns them into JSON)."""
        return {"layers": list(self.layers)}

    def map_layers(self, fn):
        """A new ``Sequential`` with every leaf layer replaced by ``fn(layer)`` (containers recurse)."""
        return Sequential(
            [
                layer.map_layers(fn) if hasattr(layer, "map_layers") else fn(layer)
                for layer in self.layers
            ]
        )

    @property
    def n_params(self):
        return self.slices[-1].stop

    @property
    def smooth(self):
        """True when every layer is twice continuously differentiable."""
        return all(layer.smooth for layer in self.layers)

    def init(self, seed_or_rng=None, dtype=np.float64, scheme="xavier"):
        """Return a new parameter vector drawn by ``scheme`` in {"normal", "xavier", "he"}."""
        if scheme not in INIT_SCHEMES:
            raise ValueError(f"scheme must be one of {INIT_SCHEMES}, got {scheme!r}")
        rng, dtype = as_rng(seed_or_rng), check_float_dtype(dtype)
        theta = np.empty(self.n_params, dtype=dtype)
        for layer, s in zip(self.layers, self.slices):
            theta[s] = layer.init(rng, dtype, scheme)
        return theta

    def unpack(self, theta):
        """Per-layer named views (e.g. ``{"W": ..., "b": ...}``) into ``theta``."""
        theta = check_theta(theta, self.n_params, finite=False)
        return [layer.unpack(theta[s]) for layer, s in zip(self.layers, self.slices)]

    def bias_mask(self):
        """Boolean mask of the bias entries of ``theta`` (weight decay may leave them out)."""
        return np.concatenate([layer.bias_mask() for layer in self.layers])

    def split_output(self):
        """``(hidden, output)``: the network before its last layer and that layer, if the output is affine.

        For F = Z(θ_h) W + b with Z = hidden(θ_h, X) and an affine last layer
        (``output.affine``, a :class:`~numnet.layers.Dense` with identity
        activation) after at least one hidden layer; None otherwise. Variable
        projection (``method="varpro"``) eliminates ``output``'s parameters,
        the slice ``self.slices[-1]`` of θ.
        """
        if len(self.layers) >= 2 and getattr(self.layers[-1], "affine", False):
            return Sequential(self.layers[:-1]), self.layers[-1]
        return None

    def single_hidden_layer_slices(self):
        """``(hidden, output)`` slices of θ if the network is two Dense layers, None otherwise.

        The notes' single-hidden-layer network F = σ(X W₁ + b₁) W₂ + b₂ (notes
        000: S = W σ(KY + b), W₁ = Kᵀ), whose blocks θ₁ = (W₁, b₁) and
        θ₂ = (W₂, b₂) block Gauss-Newton (``method="block-gauss-newton"``)
        treats separately.
        """
        if len(self.layers) == 2 and all(isinstance(layer, Dense) for layer in self.layers):
            return tuple(self.slices)
        return None

    def _ws(self, ws, i):
        """Keyword arguments giving layer i its scope of ``ws`` (none when either lacks it)."""
        return {"ws": ws.scope(i)} if ws is not None and self._takes_ws[i] else {}

    def forward(self, theta, X, ws=None):
        """Return ``(F, cache)``; the cache is the list of layer caches."""
        theta = check_theta(theta, self.n_params)
        return self._forward(theta, check_matrix(X, "X", self.d_in, dtype=theta.dtype), ws)

    def _forward(self, theta, X, ws=None):
        """:meth:`forward` without the input checks."""
        caches = []
        for i, (forward, s) in enumerate(zip(self._forwards, self.slices)):
            X, cache = forward(theta[s], X, **self._ws(ws, i))
            caches.append(cache)
        return X, caches

    def predict(self, theta, X):
        """Network output F for inputs X (integer X is converted to theta's dtype)."""
        return self.forward(theta, X)[0]

    def tangent(self, theta, cache, dtheta, dX, *, ws=None):
        """Forward tangent pass: ``(dF, tcache)``, tcache keeping each layer's input tangent."""
        tcache = []
        for i, (layer, s, c) in enumerate(zip(self.layers, self.slices, cache)):
            dZ, tc = layer.tangent(
                theta[s], c, None if dtheta is None else dtheta[s], dX, **self._ws(ws, i)
            )
            tcache.append((dX, tc))
            dX = dZ
        return dX, tcache

    def jvp(self, theta, cache, dtheta, dX):
        """J v along a parameter direction ``dtheta`` and/or an input direction ``dX``."""
        dtheta, dX = check_tangents(self, theta, dtheta, dX)
        return self.tangent(theta, cache, dtheta, dX)[0]

    def vjp(self, theta, cache, gZ, *, need_gtheta=True, need_gX=True, out=None, ws=None):
        """Backpropagation Jᵀ u: return ``(gtheta, gX)``."""
        g, gX, _ = self.backward(
            theta, cache, gZ, need_gtheta=need_gtheta, need_gX=need_gX, out=out, ws=ws
        )
        return g, gX

    def backward(self, theta, cache, gZ, *, need_gtheta=True, need_gX=True, out=None, ws=None):
        """:meth:`vjp` that also returns the cotangents it passed: ``(gtheta, gX, gZs)``.

        ``gZs[i]`` is the cotangent at the output of layer i. Given to
        :meth:`rop` with the same ``gZ``, they spare it one backward pass.
        """
        g = None
        if need_gtheta:
            g = np.empty(self.n_params, dtype=gZ.dtype) if out is None else out
        gZs = [None] * len(self.layers)
        for i in reversed(range(len(self.layers))):
            s, gZs[i] = self.slices[i], gZ
            _, gZ = self.layers[i].vjp(
                theta[s],
                cache[i],
                gZ,
                need_gtheta=need_gtheta,
                need_gX=need_gX or i > 0,
                out=None if g is None else g[s],
                **self._ws(ws, i),
            )
        return g, gZ, gZs

    def rop(
        self,
        theta,
        cache,
        dtheta,
        dX,
        gZ,
        dgZ,
        *,
        tcache=None,
        need_gX=True,
        out=None,
        gZs=None,
        ws=None,
    ):
        """R-operator of :meth:`vjp` along (dtheta, dX), with gZ moving along dgZ.

        ``gZs``, the cotangents of :meth:`backward` for this ``gZ``, replace
        the backward pass that the R-pass otherwise runs alongside.
        """
        if tcache is None:
            tcache = self.tangent(theta, cache, dtheta, dX, ws=ws)[1]
        Rg = np.empty(self.n_params, dtype=gZ.dtype) if out is None else out
        for i in reversed(range(len(self.layers))):
            layer, s, (dXi, tc), kw = self.layers[i], self.slices[i], tcache[i], self._ws(ws, i)
            _, dgZ = layer.rop(
                theta[s],
                cache[i],
                None if dtheta is None else dtheta[s],
                dXi,
                gZ,
                dgZ,
                tcache=tc,
                need_gX=need_gX or i > 0,
                out=Rg[s],
                **kw,
            )
            if i > 0:
                gZ = (
                    gZs[i - 1]
                    if gZs is not None
                    else layer.vjp(theta[s], cache[i], gZ, need_gtheta=False, **kw)[1]
                )
        return Rg, dgZ

    def diag_backward(self, theta, cache, gZ, hZ, *, need_hX=True, out=None, gZs=None):
        """Becker–LeCun's backward recursion (note 004) through the layers: ``(diag curvature of θ, hX)``.

        Each layer's ``diag_backward`` maps the diagonal curvature hZ at its output
        to its parameters' diagonal and hX at its input, given its cotangent gZ
        (from ``gZs``, or one backward pass).
        """
        if gZs is None:
            gZs = self.backward(theta, cache, gZ, need_gtheta=False, need_gX=False)[2]
        d = np.empty(self.n_params, dtype=gZ.dtype) if out is None else out
        for i in reversed(range(len(self.layers))):
            layer, s = self.layers[i], self.slices[i]
            hZ = require_diag_backward(layer, i).diag_backward(
                theta[s], cache[i], gZs[i], hZ, need_hX=need_hX or i > 0, out=d[s]
            )[1]
        return d, hZ


def require_diag_backward(layer, where):
    """``layer`` if it has ``diag_backward``; else a TypeError naming it (Becker–LeCun needs it)."""
    if not hasattr(layer, "diag_backward"):
        raise TypeError(
            f"becker_lecun_diagonal needs diag_backward on every layer; layer {where} is {layer!r}"
        )
    return layer


def mlp(n_features, hidden, n_outputs, activation="tanh"):
    """The multi-layer perceptron n_features → hidden[0] → … → n_outputs (notes 003).

    Hidden layers are ``Dense(..., activation)``; the output layer is linear
    (identity), as the losses fuse sigmoid/softmax into themselves.
    """
    widths = [n_features, *hidden, n_outputs]
    acts = [activation] * len(hidden) + ["identity"]
    return Sequential([Dense(a, b, act) for a, b, act in zip(widths[:-1], widths[1:], acts)])
