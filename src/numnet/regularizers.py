"""Regularizers λR(θ) on the flat parameter vector: value, gradient, Hessian-vector product.

Notes 000: min E(…) + λR(W, K, b); notes 003: Frobenius norm / weight decay.
"""

import numpy as np

from ._validation import check_non_negative

__all__ = ["Tikhonov", "GeneralizedTikhonov", "L1Penalty", "get_regularizer"]


def _check_lam(lam):
    return check_non_negative(lam, "lam")


class _Masked:
    """λ and the boolean mask M of the regularized entries (all when None), shared by Tikhonov and L1."""

    def __init__(self, lam=1e-4, *, mask=None):
        self.lam = _check_lam(lam)
        self.mask = None if mask is None else np.asarray(mask, dtype=bool)

    def __repr__(self):
        return f"{type(self).__name__}(lam={self.lam})"

    def check(self, n_params):
        """Raise ValueError unless the mask fits ``n_params`` parameters."""
        if self.mask is not None and self.mask.shape != (n_params,):
            raise ValueError(f"mask must have shape ({n_params},), got {self.mask.shape}")

    def _m(self, theta):
        return theta if self.mask is None else theta * self.mask


class Tikhonov(_Masked):
    """Weight decay λR(θ) = ½λ‖θ_M‖², M the regularized entries (``mask``, all when None).

    ∇ = λ θ ⊙ M, ∇² v = λ v ⊙ M. Leave biases out with ``mask=~net.bias_mask()``.
    """

    smooth = True

    def value(self, theta):
        t = self._m(theta)
        return 0.5 * self.lam * float(np.vdot(t, t))

    def grad(self, theta):
        return self.lam * self._m(theta)

    def hvp(self, theta, v):
        return self.lam * self._m(v)

    def diagonal(self, n_params):
        """The Hessian's diagonal λ M, shape (n_params,): ∇²(λR) = diag(λ M) (float64)."""
        return self.lam * (np.ones(n_params) if self.mask is None else self.mask)


class GeneralizedTikhonov:
    """Generalized Tikhonov λR(θ) = ½λ‖Lθ‖² with a linear operator L (k × n_params).

    ∇ = λ Lᵀ L θ, ∇² v = λ Lᵀ L v. L may be a dense or sparse matrix or a
    ``scipy.sparse.linalg.LinearOperator`` (e.g. a finite-difference operator).
    """

    smooth = True

    def __init__(self, lam, L):
        from scipy.sparse.linalg import aslinearoperator

        self.lam, self.L = _check_lam(lam), aslinearoperator(L)

    def __repr__(self):
        return f"GeneralizedTikhonov(lam={self.lam}, L={self.L.shape})"

    def check(self, n_params):
        if self.L.shape[1] != n_params:
            raise ValueError(f"L must have {n_params} columns, got shape {self.L.shape}")

    def value(self, theta):
        r = self.L.matvec(theta)
        return 0.5 * self.lam * float(np.vdot(r, r))

    def grad(self, theta):
        return (self.lam * self.L.rmatvec(self.L.matvec(theta))).astype(theta.dtype, copy=False)

    def hvp(self, theta, v):
        return self.grad(v)


class L1Penalty(_Masked):
    """Sparsity λR(θ) = λ‖θ_M‖₁ with subgradient λ sign(θ) ⊙ M and proximal operator.

    prox_{tλ‖·‖₁}(θ) = sign(θ) max(|θ| − tλ, 0) (soft thresholding) on the
    regularized entries. The generalized Hessian is 0.
    """

    smooth = False

    def value(self, theta):
        return self.lam * float(np.abs(self._m(theta)).sum())

    def grad(self, theta):
        return self.lam * np.sign(self._m(theta))

    def hvp(self, theta, v):
        return np.zeros_like(v)

    def prox(self, theta, step):
        """Soft thresholding with threshold step·λ on the regularized entries."""
        shrunk = np.sign(theta) * np.maximum(np.abs(theta) - step * self.lam, 0)
        return shrunk if self.mask is None else np.where(self.mask, shrunk, theta)


def get_regularizer(regularizer):
    """None, a regularizer object, or a float λ meaning ``Tikhonov(λ)``."""
    if regularizer is None or hasattr(regularizer, "value"):
        return regularizer
    if isinstance(regularizer, (int, float)) and not isinstance(regularizer, bool):
        return Tikhonov(regularizer)
    raise TypeError(
        f"regularizer must be None, a float or a regularizer object, got {regularizer!r}"
    )
