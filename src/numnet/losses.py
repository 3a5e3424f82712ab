"""Losses E(F, Y): value, gradient and Hessian-vector product w.r.t. the network output F.

Every loss is a mean over samples (the notes' 1/N), so step sizes do not
depend on n. ``F`` has shape (n_samples, n_outputs); targets are validated and
converted once by :meth:`Loss.targets` (labels, one-hot or probabilities).
Losses that are not twice differentiable (L1, hinge) return the generalized
Hessian that is zero almost everywhere; they say so with ``smooth = False``.
Sigmoid and softmax outputs are fused into their losses: F are logits and
:meth:`Loss.link` maps them to probabilities.

Values are computed in forms that keep full relative accuracy for any finite
logits: log-sum-exp with each row's maximum subtracted *before* the target
term (so equal logits 1e16 give ln k, not a rounding of 1e16 + ln k − 1e16),
softplus terms that never cancel, and a mean that is finite whenever it is
representable (the sum is rescaled when it overflows).
"""

import numpy as np

from ._validation import check_positive
from .activations import ACTIVATIONS

__all__ = [
    "Loss",
    "LeastSquares",
    "L1",
    "Huber",
    "Hinge",
    "Binomial",
    "BinaryCrossEntropy",
    "SoftmaxCrossEntropy",
    "LOSSES",
    "get_loss",
]

_sigmoid = ACTIVATIONS["sigmoid"].f
_softplus = ACTIVATIONS["softplus"].f


def _mean(terms):
    """Σ terms / n_rows as a float, finite whenever the mean is (the sum is rescaled if it overflows)."""
    n = terms.shape[0]
    with np.errstate(over="ignore"):
        total = float(terms.sum())
    return total / n if np.isfinite(total) else float((terms / n).sum())


class Loss:
    """Base class: a loss needs ``value``, ``grad`` and ``hvp`` (and may refine ``targets``)."""

    name = "loss"
    smooth = True

    def __repr__(self):
        return f"{type(self).__name__}()"

    def targets(self, Y, n_outputs, dtype=np.float64):
        """Validate targets and return them as a float array of shape (n_samples, n_outputs)."""
        Y = np.asarray(Y)
        if Y.ndim == 1 and n_outputs == 1:
            Y = Y[:, None]
        if Y.ndim != 2 or Y.shape[1] != n_outputs:
            raise ValueError(
                f"Y must have shape (n_samples, {n_outputs}) for {self!r}, got {Y.shape}"
            )
        if Y.dtype.kind not in "biuf":
            raise TypeError(f"Y must be numeric for {self!r}, got dtype {Y.dtype}")
        Y = Y.astype(dtype, copy=False)
        if not np.isfinite(Y).all():
            raise ValueError("Y contains NaN or inf")
        return Y

    def value_and_grad(self, F, Y):
        return self.value(F, Y), self.grad(F, Y)

    def link(self, F):
        """Map outputs to predictions (probabilities for the fused classification losses)."""
        return F


class LeastSquares(Loss):
    """E = (1/n) Σ ½‖F_i − Y_i‖² (notes 000/004); ∇E = (F − Y)/n; ∇²E dF = dF/n."""

    name = "squared_error"

    def value(self, F, Y):
        R = F - Y
        return 0.5 * float(np.vdot(R, R)) / F.shape[0]

    def grad(self, F, Y):
        return (F - Y) / F.shape[0]

    def hvp(self, F, Y, dF):
        return dF / F.shape[0]


class L1(Loss):
    """E = (1/n) Σ |F − Y| (notes 002); subgradient sign(F − Y)/n; generalized Hessian 0."""

    name = "absolute_error"
    smooth = False

    def value(self, F, Y):
        return float(np.abs(F - Y).sum()) / F.shape[0]

    def grad(self, F, Y):
        return np.sign(F - Y) / F.shape[0]

    def hvp(self, F, Y, dF):
        return np.zeros_like(dF)


class Huber(Loss):
    """Huber loss with threshold δ (notes 002), in its continuous form.

    ρ(r) = ½ r² for |r| ≤ δ and δ(|r| − δ/2) otherwise; E = (1/n) Σ ρ(F − Y),
    ∇E = clip(r, −δ, δ)/n, ∇²E dF = 1{|r| ≤ δ} ⊙ dF / n. (The notes write δ|r|
    for the outer branch; subtracting δ²/2 makes ρ continuous and changes no
    gradient.)
    """

    name = "huber"
    smooth = False  # C¹ only: ∇²E jumps where |r| crosses δ

    def __init__(self, delta=1.0):
        self.delta = check_positive(delta, "delta")

    def __repr__(self):
        return f"Huber(delta={self.delta})"

    def value(self, F, Y):
        a, d = np.abs(F - Y), self.delta
        return float(np.where(a <= d, 0.5 * a * a, d * (a - 0.5 * d)).sum()) / F.shape[0]

    def grad(self, F, Y):
        return np.clip(F - Y, -self.delta, self.delta) / F.shape[0]

    def hvp(self, F, Y, dF):
        return np.where(np.abs(F - Y) <= self.delta, dF, 0) / F.shape[0]


def _check_pm1(Y, loss):
    if not np.isin(Y, (-1, 1)).all():
        raise ValueError(f"Y must contain only -1 and 1 for {loss!r}")
    return Y


class Hinge(Loss):
    """E = (1/n) Σ max(1 − y F, 0), y ∈ {−1, 1} (notes 002); subgradient −y 1{yF < 1}/n; Hessian 0."""

    name = "hinge"
    smooth = False

    def targets(self, Y, n_outputs, dtype=np.float64):
        return _check_pm1(super().targets(Y, n_outputs, dtype), self)

    def value(self, F, Y):
        return float(np.maximum(1 - Y * F, 0).sum()) / F.shape[0]

    def grad(self, F, Y):
        return np.where(Y * F < 1, -Y, 0).astype(F.dtype) / F.shape[0]

    def hvp(self, F, Y, dF):
        return np.zeros_like(dF)

    def link(self, F):
        return np.sign(F)


class Binomial(Loss):
    """Binomial log-likelihood E = (1/n) Σ ln(1 + exp(−2 y F)), y ∈ {−1, 1} (notes 002).

    ∇E = −2y σ(−2yF)/n and ∇²E dF = 4 σ(2yF) σ(−2yF) dF / n; P(y = 1) = σ(2F).
    """

    name = "binomial"

    def targets(self, Y, n_outputs, dtype=np.float64):
        return _check_pm1(super().targets(Y, n_outputs, dtype), self)

    def value(self, F, Y):
        return _mean(_softplus(-2 * Y * F))

    def grad(self, F, Y):
        return -2 * Y * _sigmoid(-2 * Y * F) / F.shape[0]

    def hvp(self, F, Y, dF):
        S = _sigmoid(2 * Y * F)
        return 4 * S * (1 - S) * dF / F.shape[0]

    def link(self, F):
        return _sigmoid(2 * F)


class BinaryCrossEntropy(Loss):
    """Cross-entropy of a sigmoid output on logits F (notes 002/004), t ∈ [0, 1].

    E = −(1/n) Σ t ln σ(F) + (1 − t) ln(1 − σ(F)) = (1/n) Σ softplus(F) − tF;
    ∇E = (σ(F) − t)/n; ∇²E dF = σ(F)(1 − σ(F)) dF / n. The value is computed
    as (1/n) Σ (1 − t) softplus(F) + t softplus(−F), the same sum of
    non-negative terms without the cancellation of softplus(F) − tF.
    """

    name = "binary_cross_entropy"

    def targets(self, Y, n_outputs, dtype=np.float64):
        Y = super().targets(Y, n_outputs, dtype)
        if ((Y < 0) | (Y > 1)).any():
            raise ValueError(f"Y must lie in [0, 1] (labels 0/1 or probabilities) for {self!r}")
        return Y

    def value(self, F, Y):
        return _mean((1 - Y) * _softplus(F) + Y * _softplus(-F))

    def grad(self, F, Y):
        return (_sigmoid(F) - Y) / F.shape[0]

    def hvp(self, F, Y, dF):
        S = _sigmoid(F)
        return S * (1 - S) * dF / F.shape[0]

    def link(self, F):
        return _sigmoid(F)


def _shifted_logsumexp(F):
    """``(m, D, E, L)``: row maxima m (n, 1), D = F − m, E = exp(D) and L = ln Σ_k E.

    With j_i the column of the maximum, E_ij = 1 and L_i = log1p(Σ_{k≠j_i} E_ik):
    full relative accuracy even when one logit dominates and L_i is tiny.
    """
    rows, j = np.arange(F.shape[0]), F.argmax(axis=1)
    m = F[rows, j][:, None]
    D = F - m
    E = np.exp(D)
    E[rows, j] = 0
    L = np.log1p(E.sum(axis=1))
    E[rows, j] = 1
    return m, D, E, L


def _cross_entropy(m, D, L, Y):
    """Mean over rows of L_i − Σ_k T_ik D_ik + m_i (1 − Σ_k T_ik) (see :func:`_shifted_logsumexp`)."""
    rows = L - np.einsum("ik,ik->i", Y, D)
    slack = 1 - Y.sum(axis=1)
    if slack.any():
        rows += m[:, 0] * slack
    return _mean(rows)


def softmax(F):
    """Row-wise softmax, stable: exp(F − max F) / Σ exp(F − max F)."""
    E = np.exp(F - F.max(axis=1, keepdims=True))
    E /= E.sum(axis=1, keepdims=True)
    return E


class SoftmaxCrossEntropy(Loss):
    """Softmax cross-entropy on logits F (notes 002/003/004).

    E = (1/n) Σ_i [logsumexp(F_i) − Σ_k T_ik F_ik] for target rows T_i that
    sum to 1; ∇E = (P − T)/n with P = softmax(F); and the Hessian of each
    row is diag(p) − p pᵀ, so ∇²E dF = (P ⊙ dF − P ⊙ (P ⊙ dF) 1 1ᵀ)/n.
    Targets may be integer labels 0 … n_outputs−1, one-hot rows, or class
    probabilities (the notes' inverse-crime data).

    The value of row i is computed with m_i = max_k F_ik subtracted first:
    ln Σ_k exp(F_ik − m_i) − Σ_k T_ik (F_ik − m_i) + m_i (1 − Σ_k T_ik), the
    last term zero for labels and one-hot rows, so the large m_i never meets
    the small logsumexp in one rounding; the logarithm is a ``log1p`` of
    the terms other than the maximum (exact for a confident row).
    """

    name = "cross_entropy"

    def targets(self, Y, n_outputs, dtype=np.float64):
        Y = np.asarray(Y)
        if Y.ndim == 1:
            if Y.dtype.kind not in "biuf" or (Y.dtype.kind == "f" and (Y != np.round(Y)).any()):
                raise ValueError("Y given as 1-D must hold integer class labels")
            if Y.size and (Y.min() < 0 or Y.max() >= n_outputs):
                raise ValueError(
                    f"Y labels must lie in 0..{n_outputs - 1}, got {Y.min()}..{Y.max()}"
                )
            T = np.zeros((Y.shape[0], n_outputs), dtype=dtype)
            T[np.arange(Y.shape[0]), Y.astype(np.intp)] = 1
            return T
        T = super().targets(Y, n_outputs, dtype)
        if (T < 0).any() or not np.allclose(T.sum(axis=1), 1, atol=1e-6):
            raise ValueError("Y rows must be probabilities (non-negative, summing to 1)")
        return T

    def value(self, F, Y):
        m, D, _, L = _shifted_logsumexp(F)
        return _cross_entropy(m, D, L, Y)

    def grad(self, F, Y):
        G = softmax(F)
        G -= Y
        G /= F.shape[0]
        return G

    def value_and_grad(self, F, Y):
        """Both from one pass of exponentials: D = F − m, E = exp(D), P = E / Σ_k E."""
        m, D, E, L = _shifted_logsumexp(F)
        value = _cross_entropy(m, D, L, Y)
        s = E.sum(axis=1, keepdims=True)
        E /= s
        E -= Y
        E /= F.shape[0]
        return value, E

    def hvp(self, F, Y, dF):
        P = softmax(F)
        PdF = P * dF
        PdF -= P * PdF.sum(axis=1, keepdims=True)
        PdF /= F.shape[0]
        return PdF

    def link(self, F):
        return softmax(F)


LOSSES = {
    cls.name: cls
    for cls in [LeastSquares, L1, Huber, Hinge, Binomial, BinaryCrossEntropy, SoftmaxCrossEntropy]
}


def get_loss(loss):
    """Return a :class:`Loss` instance from a name in :data:`LOSSES` or pass one through."""
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str) and loss in LOSSES:
        return LOSSES[loss]()
    raise ValueError(f"loss must be one of {sorted(LOSSES)} or a Loss, got {loss!r}")
