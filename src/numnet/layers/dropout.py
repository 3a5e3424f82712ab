"""Inverted dropout as a layer: a fixed random mask per (seed, key, input shape).

Dropout (notes 001, "reduce overfitting") multiplies each input entry by an
independent Bernoulli(1 − p) draw and rescales by 1/(1 − p). Here the mask
is a deterministic function of the layer's ``seed`` and ``key`` and of the
input's shape, so a layer with a key is one fixed linear map: its ``jvp``,
``vjp`` and ``rop`` are the exact derivatives of that map and pass every
check. Training draws a new mask per mini-batch step by giving the network a
new key (:func:`with_dropout_key`; the stochastic methods of
:mod:`numnet.optim` do it through ``Objective.batch(rows, key=...)``).
``key=None`` is inference: the identity.
"""

from numbers import Real

import numpy as np

from .._validation import check_float_dtype, check_matrix, check_theta
from ._contract import INIT_SCHEMES, check_tangents, positive_int

__all__ = ["Dropout", "DropoutCache", "with_dropout_key", "has_dropout"]


def _seed_int(value, name, allow_none=False):
    """``value`` as an int ≥ 0 (or None when allowed); raises naming ``name``."""
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"{name} must be a non-negative int{' or None' if allow_none else ''}, got {value!r}"
        )
    if value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


def _probability(p):
    """``p`` as a float in [0, 1); TypeError for non-numbers and bools, ValueError otherwise."""
    if isinstance(p, (bool, np.bool_)) or not isinstance(p, Real):
        raise TypeError(f"p must be a float in [0, 1), got {p!r}")
    if not 0.0 <= float(p) < 1.0:
        raise ValueError(f"p must be a float in [0, 1), got {p!r}")
    return float(p)


class DropoutCache:
    """What the forward pass of a :class:`Dropout` layer keeps.

    Attributes
    ----------
    mask : ndarray (n_samples, width) or None
        The Bernoulli(1 − p) mask M (entries 0 and 1, in X's dtype); None in
        inference (``key=None``).
    factor : ndarray (n_samples, width) or None
        M / (1 − p), the factor every product multiplies by; None in inference.
    shape : tuple
        Shape of the input X (and output Z).
    dtype : numpy dtype
        X's dtype.
    """

    def __init__(self, mask, factor, shape, dtype):
        self.mask, self.factor, self.shape, self.dtype = mask, factor, shape, dtype

    def apply(self, V):
        """V ⊙ M / (1 − p) as a new array (a copy of V in inference)."""
        return V.copy() if self.factor is None else V * self.factor


class Dropout:
    """Inverted dropout Z = X ⊙ M / (1 − p), a fixed mask M per (seed, key, X.shape).

    Parameters
    ----------
    width : int
        Input and output width.
    p : float
        Drop probability, in [0, 1).
    seed : int, default=0
        Seed of the mask (give each Dropout of a network its own seed: two
        layers with the same seed, key and input shape draw the same mask).
    key : int or None, default=None
        Which mask: the generator is ``np.random.default_rng([seed, key])``.
        None means inference, where the layer is the identity.

    Notes
    -----
    Notes 001, "reduce overfitting: dropout". M has independent entries
    M_ij = [u_ij ≥ p], u_ij uniform in [0, 1) drawn row-major from
    ``np.random.default_rng([seed, key]).random(X.shape)`` (see :meth:`mask`),
    so E[M] = 1 − p and E[Z] = X. The layer has no parameters and is linear
    in X, so (D = M / (1 − p)):

    - forward: Z = X ⊙ D
    - jvp: dZ = dX ⊙ D
    - vjp: gX = gZ ⊙ D  (gθ is empty)
    - rop: R{gX} = dgZ ⊙ D  (the second derivative vanishes)
    - diag_backward (Becker–LeCun, note 004): hX = hZ ⊙ D ⊙ D

    With ``key=None``, D = 1.
    """

    def __init__(self, width, p, *, seed=0, key=None):
        self.d_in = self.d_out = positive_int(width, "width")
        self.p = _probability(p)
        self.seed = _seed_int(seed, "seed")
        self.key = _seed_int(key, "key", allow_none=True)

    def __repr__(self):
        return f"Dropout({self.d_in}, p={self.p}, seed={self.seed}, key={self.key})"

    def get_config(self):
        return {"width": self.d_in, "p": self.p, "seed": self.seed, "key": self.key}

    @property
    def n_params(self):
        return 0

    @property
    def smooth(self):
        """Always True: the layer is linear in X."""
        return True

    def init(self, rng, dtype=np.float64, scheme="xavier"):
        """An empty parameter slice (``scheme`` is checked and otherwise unused)."""
        if scheme not in INIT_SCHEMES:
            raise ValueError(f"scheme must be one of {INIT_SCHEMES}, got {scheme!r}")
        return np.zeros(0, dtype=check_float_dtype(dtype))

    def unpack(self, theta):
        """No parameters: ``{}``."""
        return {}

    def bias_mask(self):
        return np.zeros(0, dtype=bool)

    def forward(self, theta, X):
        """Return ``(Z, cache)`` with Z = X ⊙ M / (1 − p)."""
        theta = check_theta(theta, 0)
        return self._forward(theta, check_matrix(X, "X", self.d_in, dtype=theta.dtype))

    def _forward(self, theta, X):
        """:meth:`forward` without the input checks."""
        M = self.mask(X.shape, X.dtype)
        factor = None if M is None else M * X.dtype.type(1.0 / (1.0 - self.p))
        cache = DropoutCache(M, factor, X.shape, X.dtype)
        return cache.apply(X), cache

    def tangent(self, theta, cache, dtheta, dX):
        """Return ``(dZ, None)``: the jvp (nothing to keep for :meth:`rop`)."""
        dZ = np.zeros(cache.shape, dtype=cache.dtype) if dX is None else cache.apply(dX)
        return dZ, None

    def jvp(self, theta, cache, dtheta, dX):
        """J v: dZ = dX ⊙ M / (1 − p) (``dtheta`` has length 0 and is ignored)."""
        dtheta, dX = check_tangents(self, theta, dtheta, dX, cache.shape[0])
        return self.tangent(theta, cache, dtheta, dX)[0]

    def vjp(self, theta, cache, gZ, *, need_gtheta=True, need_gX=True, out=None):
        """Jᵀ u: ``(gtheta, gX)`` with gθ empty and gX = gZ ⊙ M / (1 − p)."""
        gtheta = (np.empty(0, dtype=gZ.dtype) if out is None else out) if need_gtheta else None
        return gtheta, (cache.apply(gZ) if need_gX else None)

    def rop(self, theta, cache, dtheta, dX, gZ, dgZ, *, tcache=None, need_gX=True, out=None):
        """R{vjp}: ``(empty, dgZ ⊙ M / (1 − p))`` (zero when ``dgZ`` is None)."""
        Rg = np.empty(0, dtype=gZ.dtype) if out is None else out
        if not need_gX:
            return Rg, None
        return Rg, (np.zeros_like(gZ) if dgZ is None else cache.apply(dgZ))

    def diag_backward(self, theta, cache, gZ, hZ, *, need_hX=True, out=None):
        """Becker–LeCun's step (note 004): ``(empty, hX)`` with hX = (M / (1 − p))² ⊙ hZ.

        Linear, so gZ is unused; hX = hZ (a copy) in inference; the empty
        diagonal is ``out`` itself when given.
        """
        d = np.empty(0, dtype=hZ.dtype) if out is None else out
        if not need_hX:
            return d, None
        return d, (hZ.copy() if cache.factor is None else hZ * cache.factor * cache.factor)

    def mask(self, shape, dtype=np.float64):
        """The mask M (0/1 entries of ``dtype``) for inputs of ``shape``; None when ``key`` is None."""
        if self.key is None:
            return None
        u = np.random.default_rng([self.seed, self.key]).random(tuple(shape))
        return (u >= self.p).astype(check_float_dtype(dtype))

    def with_key(self, key):
        """The same layer with mask key ``key`` (None: inference)."""
        return Dropout(self.d_in, self.p, seed=self.seed, key=key)


def with_dropout_key(net, key):
    """``net`` with every :class:`Dropout` given mask key ``key`` (None: inference).

    A network is rebuilt with ``net.map_layers`` (containers recurse); a bare
    layer is mapped directly. Layers other than Dropout are kept as they are.
    """
    key = _seed_int(key, "key", allow_none=True)

    def swap(layer):
        return layer.with_key(key) if isinstance(layer, Dropout) else layer

    return net.map_layers(swap) if hasattr(net, "map_layers") else swap(net)


def has_dropout(net):
    """True when ``net`` is, or contains, a :class:`Dropout` layer."""
    found = []

    def visit(layer):
        found.append(isinstance(layer, Dropout))
        return layer

    if hasattr(net, "map_layers"):
        net.map_layers(visit)
    else:
        visit(net)
    return any(found)
