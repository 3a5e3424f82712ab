"""Activation functions σ with their first and second derivatives.

Every activation is one record, :class:`Activation`, holding σ, σ′ and σ″ as
functions of the pre-activation ``A`` (notes 000: Z = σ(KY + b); here
Z = σ(A), A = X @ W + b). Second derivatives exist for every activation
(zero almost everywhere for the piecewise-linear ones), so exact Hessian
products work for all of them. Look an activation up by name with
:func:`get_activation`.
"""

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Activation", "ACTIVATIONS", "get_activation"]

Array = np.ndarray


@dataclass(frozen=True)
class Activation:
    """An element-wise activation σ with σ′ and σ″, all taking ``A``.

    Parameters
    ----------
    name : str
        Registry name.
    f, df, d2f : callable
        σ(A), σ′(A), σ″(A), element-wise, dtype-preserving.
    smooth : bool
        True when σ is twice continuously differentiable. Piecewise-linear
        and discontinuous activations (relu, leaky_relu, sign) are False: their
        second-order Taylor test holds only away from the kinks.
    odd : bool
        True when σ(−a) = −σ(a) (sign-flip symmetry of hidden units, note 004).
    dfz, d2fz : callable or None
        σ′ and σ″ written in the output Z = σ(A) when that is cheaper
        (tanh: σ′ = 1 − Z², sigmoid: σ′ = Z(1 − Z)); layers use them to
        reuse the forward pass instead of re-evaluating σ.
    """

    name: str
    f: Callable[[Array], Array]
    df: Callable[[Array], Array]
    d2f: Callable[[Array], Array]
    smooth: bool = True
    odd: bool = False
    dfz: Callable[[Array], Array] | None = None
    d2fz: Callable[[Array], Array] | None = None

    def __call__(self, A):
        return self.f(A)


def _sigmoid(A):
    # e = exp(-|a|) never overflows; 1/(1+e) for a ≥ 0 and e/(1+e) for a < 0
    # keep full relative accuracy in both tails (no 1 - tiny cancellation).
    E = np.exp(-np.abs(A))
    S = np.where(A >= 0, 1, E)
    S /= 1 + E
    return S


def _dsigmoid(A):
    S = _sigmoid(A)
    return S * (1 - S)


def _d2sigmoid(A):
    S = _sigmoid(A)
    return S * (1 - S) * (1 - 2 * S)


def _softplus(A):
    # log(1 + e^a) = max(a, 0) + log1p(e^{-|a|}): stable for large |a|.
    return np.maximum(A, 0) + np.log1p(np.exp(-np.abs(A)))


def _dtanh(A):
    T = np.tanh(A)
    return 1 - T * T


def _d2tanh(A):
    T = np.tanh(A)
    return -2 * T * (1 - T * T)


def _ones(A):
    return np.ones_like(A)


def _zeros(A):
    return np.zeros_like(A)


def _step(A):
    return (A > 0).astype(A.dtype)


LEAKY_SLOPE = 0.01


def _leaky(A):
    return np.where(A > 0, A, A * LEAKY_SLOPE)


def _dleaky(A):
    return np.where(A > 0, 1, LEAKY_SLOPE).astype(A.dtype)


def _sign(A):
    return np.sign(A)


ACTIVATIONS = {
    a.name: a
    for a in [
        Activation("identity", lambda A: A, _ones, _zeros, odd=True),
        Activation("tanh", np.tanh, _dtanh, _d2tanh, odd=True,
                   dfz=lambda Z: 1 - Z * Z, d2fz=lambda Z: -2 * Z * (1 - Z * Z)),
        Activation("sigmoid", _sigmoid, _dsigmoid, _d2sigmoid,
                   dfz=lambda Z: Z * (1 - Z), d2fz=lambda Z: Z * (1 - Z) * (1 - 2 * Z)),
        Activation("relu", lambda A: np.maximum(A, 0), _step, _zeros, smooth=False),
        Activation("leaky_relu", _leaky, _dleaky, _zeros, smooth=False),
        Activation("softplus", _softplus, _sigmoid, _dsigmoid),
        Activation("sin", np.sin, np.cos, lambda A: -np.sin(A), odd=True),
        Activation("sign", _sign, _zeros, _zeros, smooth=False, odd=True),
    ]
}


def get_activation(activation):
    """Return the :class:`Activation` named ``activation`` (or pass one through).

    Raises
    ------
    ValueError
        If the name is unknown; the message lists the known names.
    """
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str) and activation in ACTIVATIONS:
        return ACTIVATIONS[activation]
    raise ValueError(
        f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}"
    )
