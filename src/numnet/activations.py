"""Activation functions σ with their first and second derivatives.

Every activation is one record, :class:`Activation`, holding σ, σ′ and σ″ as
functions of the pre-activation ``A`` (notes 000: Z = σ(KY + b); here
Z = σ(A), A = X @ W + b). Second derivatives exist for every activation
(zero almost everywhere for the piecewise-linear ones), so exact Hessian
products work for all of them. Look an activation up by name with
:func:`get_activation`.
"""

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = ["Activation", "ACTIVATIONS", "get_activation"]

Array = np.ndarray


@dataclass(frozen=True, init=False)
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
    df_from_output, d2f_from_output : callable or None
        σ′ and σ″ written in the output Z = σ(A) when that is cheaper
        (tanh: σ′ = 1 − Z², sigmoid: σ′ = Z(1 − Z)); layers use them to
        reuse the forward pass instead of re-evaluating σ. (Formerly
        ``dfz``, ``d2fz``: still accepted and readable, with a
        ``DeprecationWarning``.)
    writes_out : bool
        True when every function above also takes a keyword ``out`` (an
        array of A's shape and dtype that it writes and returns), so that
        layers can evaluate σ, σ′, σ″ into reused buffers. Every registered
        activation does; a custom one need not.

    Notes
    -----
    Layers call :meth:`sigma`, :meth:`dsigma` and :meth:`d2sigma`, which pick
    the output form when there is one and use ``out`` when allowed.
    """

    name: str
    f: Callable[[Array], Array]
    df: Callable[[Array], Array]
    d2f: Callable[[Array], Array]
    smooth: bool = True
    odd: bool = False
    df_from_output: Callable[[Array], Array] | None = None
    d2f_from_output: Callable[[Array], Array] | None = None
    writes_out: bool = False

    def __init__(
        self,
        name,
        f,
        df,
        d2f,
        smooth=True,
        odd=False,
        df_from_output=None,
        d2f_from_output=None,
        writes_out=False,
        *,
        dfz=None,
        d2fz=None,
    ):
        if dfz is not None or d2fz is not None:
            warnings.warn(
                "Activation(dfz=, d2fz=) is deprecated; pass df_from_output=, d2f_from_output=",
                DeprecationWarning,
                stacklevel=2,
            )
            df_from_output = dfz if df_from_output is None else df_from_output
            d2f_from_output = d2fz if d2f_from_output is None else d2f_from_output
        values = dict(
            name=name,
            f=f,
            df=df,
            d2f=d2f,
            smooth=smooth,
            odd=odd,
            df_from_output=df_from_output,
            d2f_from_output=d2f_from_output,
            writes_out=writes_out,
        )
        for key, value in values.items():
            object.__setattr__(self, key, value)

    @property
    def dfz(self):
        """Deprecated name of :attr:`df_from_output`."""
        warnings.warn(
            "Activation.dfz is deprecated; use Activation.df_from_output",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.df_from_output

    @property
    def d2fz(self):
        """Deprecated name of :attr:`d2f_from_output`."""
        warnings.warn(
            "Activation.d2fz is deprecated; use Activation.d2f_from_output",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.d2f_from_output

    def __call__(self, A):
        return self.f(A)

    def _eval(self, fn, x, out):
        return fn(x) if out is None or not self.writes_out else fn(x, out=out)

    def sigma(self, A, out=None):
        """σ(A), written into ``out`` when given and allowed (else a new array)."""
        return self._eval(self.f, A, out)

    def dsigma(self, A, Z, out=None):
        """σ′(A), from the output Z = σ(A) when that form exists; into ``out`` as :meth:`sigma`."""
        return (
            self._eval(self.df, A, out)
            if self.df_from_output is None
            else self._eval(self.df_from_output, Z, out)
        )

    def d2sigma(self, A, Z, out=None):
        """σ″(A), from Z when that form exists; into ``out`` as :meth:`sigma`."""
        return (
            self._eval(self.d2f, A, out)
            if self.d2f_from_output is None
            else self._eval(self.d2f_from_output, Z, out)
        )


def _into(value, out):
    """``value``, copied into ``out`` when given (for forms that have no in-place ufunc chain)."""
    if out is None:
        return value
    np.copyto(out, value)
    return out


def _sigmoid(A, out=None):
    # e = exp(-|a|) never overflows; 1/(1+e) for a ≥ 0 and e/(1+e) for a < 0
    # keep full relative accuracy in both tails (no 1 - tiny cancellation).
    E = np.exp(-np.abs(A))
    S = np.where(A >= 0, 1, E)
    S /= 1 + E
    return _into(S, out)


def _dsigmoid_z(Z, out=None):
    out = np.subtract(1, Z, out=out)
    out *= Z
    return out


def _d2sigmoid_z(Z, out=None):
    out = _dsigmoid_z(Z, out)
    out *= 1 - 2 * Z
    return out


def _dsigmoid(A, out=None):
    return _dsigmoid_z(_sigmoid(A), out)


def _d2sigmoid(A, out=None):
    return _d2sigmoid_z(_sigmoid(A), out)


def _softplus(A, out=None):
    # log(1 + e^a) = max(a, 0) + log1p(e^{-|a|}): stable for large |a|.
    return _into(np.maximum(A, 0) + np.log1p(np.exp(-np.abs(A))), out)


def _dtanh_z(Z, out=None):
    out = np.multiply(Z, Z, out=out)
    return np.subtract(1, out, out=out)


def _d2tanh_z(Z, out=None):
    out = _dtanh_z(Z, out)
    out *= Z
    out *= -2
    return out


def _dtanh(A, out=None):
    T = np.tanh(A, out=out)
    return _dtanh_z(T, T)


def _d2tanh(A, out=None):
    return _d2tanh_z(np.tanh(A), out)


def _identity(A, out=None):
    return A if out is None else _into(A, out)


def _ones(A, out=None):
    if out is None:
        return np.ones_like(A)
    out.fill(1)
    return out


def _zeros(A, out=None):
    if out is None:
        return np.zeros_like(A)
    out.fill(0)
    return out


def _relu(A, out=None):
    return np.maximum(A, 0, out=out)


def _step(A, out=None):
    return (A > 0).astype(A.dtype) if out is None else np.greater(A, 0, out=out)


LEAKY_SLOPE = 0.01


def _leaky(A, out=None):
    return _into(np.where(A > 0, A, A * LEAKY_SLOPE), out)


def _dleaky(A, out=None):
    return _into(np.where(A > 0, 1, LEAKY_SLOPE).astype(A.dtype), out)


def _sign(A, out=None):
    return np.sign(A, out=out)


def _minus_sin(A, out=None):
    out = np.sin(A, out=out)
    return np.negative(out, out=out)


ACTIVATIONS = {
    a.name: a
    for a in [
        Activation("identity", _identity, _ones, _zeros, odd=True, writes_out=True),
        Activation(
            "tanh",
            np.tanh,
            _dtanh,
            _d2tanh,
            odd=True,
            df_from_output=_dtanh_z,
            d2f_from_output=_d2tanh_z,
            writes_out=True,
        ),
        Activation(
            "sigmoid",
            _sigmoid,
            _dsigmoid,
            _d2sigmoid,
            df_from_output=_dsigmoid_z,
            d2f_from_output=_d2sigmoid_z,
            writes_out=True,
        ),
        Activation("relu", _relu, _step, _zeros, smooth=False, writes_out=True),
        Activation("leaky_relu", _leaky, _dleaky, _zeros, smooth=False, writes_out=True),
        Activation("softplus", _softplus, _sigmoid, _dsigmoid, writes_out=True),
        Activation("sin", np.sin, np.cos, _minus_sin, odd=True, writes_out=True),
        Activation("sign", _sign, _zeros, _zeros, smooth=False, odd=True, writes_out=True),
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
    raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
