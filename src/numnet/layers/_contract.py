"""The layer contract, written down: :class:`Layer`, and helpers every layer shares.

Every layer of numnet, and every network built from layers (``Sequential``,
``Graph``), satisfies :class:`Layer`. Inputs and outputs are matrices with
samples as rows, ``(n_samples, d_in)`` → ``(n_samples, d_out)``; a layer
that sees images or sequences (convolution, pooling, recurrent) reads each
row as a flattened array of the shape it documents (channels-last).
"""

from typing import Any, Protocol, runtime_checkable

import numpy as np

from .._validation import as_rng, check_direction, check_float_dtype

__all__ = ["Layer", "INIT_SCHEMES", "positive_int", "init_std", "init_weights", "check_tangents"]

INIT_SCHEMES = ("normal", "xavier", "he")


@runtime_checkable
class Layer(Protocol):
    """What every layer (and every network, itself a layer) provides.

    A layer owns no parameters: it reads them as views of ``theta``, the slice
    of the one flat parameter vector that belongs to it. Naming: ``d*`` are
    directions (tangents), ``g*`` cotangents flowing backwards.

    Attributes
    ----------
    d_in, d_out : int
        Widths of an input row and an output row.
    n_params : int
        Length of the layer's slice of ``theta`` (0 for layers without
        parameters).
    smooth : bool
        True when the layer is twice continuously differentiable in
        ``(theta, X)``; kinked layers (relu, max pooling) pass only the
        first-order Taylor test near kinks.

    Notes
    -----
    Optional members: ``_forward(theta, X)`` (``forward`` without the input
    checks, which a network runs once), and ``diag_backward(theta, cache, gZ,
    hZ, *, need_hX=True, out=None) -> (diagonal curvature of theta, hX)``,
    the layer's step of the Becker–LeCun recursion (note 004) used by
    :func:`numnet.curvature.becker_lecun_diagonal`: given the cotangent gZ
    and the diagonal second derivatives hZ at the output (off-diagonal
    terms dropped), the diagonal for the parameters and hX at the input.
    """

    d_in: int
    d_out: int

    @property
    def n_params(self) -> int: ...

    @property
    def smooth(self) -> bool: ...

    def init(
        self, rng: np.random.Generator, dtype=np.float64, scheme: str = "xavier"
    ) -> np.ndarray:
        """A new parameter slice of length ``n_params`` drawn by ``scheme`` (see ``INIT_SCHEMES``)."""

    def unpack(self, theta: np.ndarray) -> Any:
        """Named views into ``theta`` (a dict for a layer, a list or dict of them for a network)."""

    def bias_mask(self) -> np.ndarray:
        """Boolean mask over ``theta`` of the biases (weight decay may leave them out)."""

    def forward(self, theta: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, Any]:
        """``(Z, cache)``: the output and what the products below need (the layer's public cache type)."""

    def tangent(self, theta, cache, dtheta, dX) -> tuple[np.ndarray, Any]:
        """``(dZ, tcache)``: the jvp, and what :meth:`rop` may reuse of it (pass it as ``tcache``)."""

    def jvp(self, theta, cache, dtheta, dX) -> np.ndarray:
        """J v along ``dtheta`` and ``dX`` (either may be None): ``tangent(...)[0]``."""

    def vjp(self, theta, cache, gZ, *, need_gtheta=True, need_gX=True, out=None) -> tuple:
        """Jᵀ u: ``(gtheta, gX)``; a part not needed is None; ``gtheta`` is written into ``out`` when given."""

    def rop(
        self, theta, cache, dtheta, dX, gZ, dgZ, *, tcache=None, need_gX=True, out=None
    ) -> tuple:
        """``(R gtheta, R gX)``: the derivative of ``vjp(gZ)`` along ``(dtheta, dX)`` with gZ moving along ``dgZ``."""

    def get_config(self) -> dict:
        """Constructor arguments: ``type(self)(**get_config())`` rebuilds the layer.

        Values are plain data, layers (for containers) or an ``Activation``;
        :func:`numnet.architecture.to_json` stores an activation by its
        registered name and refuses one that is not registered.
        """


def positive_int(value, name):
    """``value`` as an int ≥ 1; anything else raises ``ValueError`` naming ``name``."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def init_std(scheme, fan_in, fan_out):
    """Standard deviation of the weights.

    "normal" 1 (the notes' randn), "xavier" √(2/(fan_in+fan_out)), "he" √(2/fan_in).
    """
    std = {
        "normal": 1.0,
        "xavier": np.sqrt(2.0 / (fan_in + fan_out)),
        "he": np.sqrt(2.0 / fan_in),
    }.get(scheme)
    if std is None:
        raise ValueError(f"scheme must be one of {INIT_SCHEMES}, got {scheme!r}")
    return std


def init_weights(rng, dtype, scheme, n_weights, n_bias, fan_in, fan_out):
    """``n_weights`` weights of scale :func:`init_std`, then ``n_bias`` biases.

    The biases are standard normal for "normal", else zero.

    ``rng`` is a ``np.random.Generator``, or an int seed or None for a new one
    (as ``Sequential.init`` takes).
    """
    rng, dtype = as_rng(rng, "rng"), check_float_dtype(dtype)
    std = init_std(scheme, fan_in, fan_out)
    theta = np.zeros(n_weights + n_bias, dtype=dtype)
    theta[:n_weights] = std * rng.standard_normal(n_weights)
    if scheme == "normal" and n_bias:
        theta[n_weights:] = rng.standard_normal(n_bias)
    return theta


def check_tangents(layer, theta, dtheta, dX, n_samples=None):
    """``(dtheta, dX)`` checked for a layer's public ``jvp``: real, finite, in theta's dtype.

    ``dtheta`` must have shape ``(layer.n_params,)`` and ``dX`` shape
    ``(n_samples, layer.d_in)`` (any number of rows when ``n_samples`` is
    None); either may be None. Errors name the argument (see
    :func:`numnet._validation.check_direction`). Networks check once in
    their ``jvp`` and call the unchecked ``tangent`` of their layers.
    """
    dtype = np.asarray(theta).dtype
    if dtheta is not None:
        dtheta = check_direction(dtheta, (layer.n_params,), dtype, "dtheta")
    if dX is not None:
        dX = check_direction(dX, (n_samples, layer.d_in), dtype, "dX")
    return dtheta, dX
