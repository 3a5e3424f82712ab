"""Curvature in output space, as factors: B_n = c Σ_r u_rn u_rnᵀ for every sample n.

Gauss–Newton, the Fisher matrices and KFAC all have the form
M = Σ_n J_nᵀ B_n J_n with J_n = ∂F_n/∂θ (k × p) and a small positive
semi-definite B_n (k × k) per sample; they differ only in B_n. Writing B_n
through factors u_rn (rows of cotangents, one set r at a time) lets one
backward pass per set r give products, diagonals, dense matrices and
Kronecker factors alike. Every function here returns :class:`OutputFactors`.

The predictive distributions (for the Monte-Carlo and exact Fisher) are
those whose negative log-likelihood is the loss: squared error ½‖F − y‖² ↔
y ~ N(F, I); softmax cross-entropy ↔ y ~ Categorical(softmax(F)); binary
cross-entropy ↔ y_j ~ Bernoulli(σ(F_j)); binomial ln(1 + e^(−2yF)) ↔
P(y_j = 1) = σ(2F_j), y_j ∈ {−1, 1}.
"""

from typing import NamedTuple

import numpy as np

from .._validation import as_rng, check_int
from ..losses import Binomial, BinaryCrossEntropy, LeastSquares, SoftmaxCrossEntropy, softmax
from .outer import loss_hessian_blocks

__all__ = [
    "OutputFactors",
    "KINDS",
    "hessian_factors",
    "empirical_factors",
    "mc_factors",
    "fisher_factors",
    "sample_targets",
    "curvature_factors",
    "PREDICTIVE_LOSSES",
]

#: The curvature kinds: exact loss Hessian (Gauss–Newton, "type-2"), Monte-Carlo Fisher, empirical Fisher.
KINDS = ("type-2", "mc", "empirical")

#: Losses with a predictive distribution (Monte-Carlo and exact Fisher).
PREDICTIVE_LOSSES = (LeastSquares, SoftmaxCrossEntropy, BinaryCrossEntropy, Binomial)


class OutputFactors(NamedTuple):
    """B_n = scale · Σ_r U[r, n] U[r, n]ᵀ: cotangent sets U (r, n_samples, n_outputs) and a scale."""

    U: np.ndarray
    scale: float


def hessian_factors(loss, F, Y):
    """Factors of the loss Hessian ∇²_{F_n} E (the Gauss–Newton matrix, "type-2").

    Returns
    -------
    OutputFactors
        U[c, n] = √λ_nc q_nc from the eigendecomposition n ∇²_{F_n}E = Q_n Λ_n Q_nᵀ
        (negative rounding eigenvalues clipped), scale 1/n, so that
        Σ_c U[c, n] U[c, n]ᵀ = ∇²ℓ_n, the per-sample loss Hessian.
    """
    n = F.shape[0]
    lam, Q = np.linalg.eigh(loss_hessian_blocks(loss, F, Y) * F.dtype.type(n))
    U = np.sqrt(np.maximum(lam, 0))[:, None, :] * Q  # (n, k, r): column r scaled
    return OutputFactors(np.ascontiguousarray(U.transpose(2, 0, 1)), 1.0 / n)


def empirical_factors(gF):
    """Factors of the empirical Fisher: U[0, n] = ∇_{F_n} ℓ_n = n · gF_n, scale 1/n."""
    n = gF.shape[0]
    return OutputFactors((gF * gF.dtype.type(n))[None], 1.0 / n)


def sample_targets(loss, F, mc_samples=1, seed=0):
    """Targets drawn from the model's predictive distribution, ``(mc_samples, n_samples, n_outputs)``.

    Parameters
    ----------
    loss : Loss
        One of :data:`PREDICTIVE_LOSSES`; anything else raises ``TypeError``.
    F : ndarray of shape (n_samples, n_outputs)
        Network outputs (logits for the classification losses).
    mc_samples : int, default=1
        M ≥ 1 draws per sample.
    seed : int or np.random.Generator, default=0

    Returns
    -------
    Y : ndarray of shape (M, n_samples, n_outputs), F's dtype
        Squared error: F + ε, ε ~ N(0, I); cross-entropy: one-hot rows of
        classes drawn from softmax(F); binary cross-entropy: 0/1 with
        P(1) = σ(F); binomial: ±1 with P(1) = σ(2F).
    """
    mc_samples, rng = check_int(mc_samples, "mc_samples"), as_rng(seed)
    shape = (mc_samples, *F.shape)
    if isinstance(loss, LeastSquares):
        return F + rng.standard_normal(shape).astype(F.dtype)
    if isinstance(loss, SoftmaxCrossEntropy):
        return _categorical(softmax(F.astype(np.float64)), mc_samples, rng).astype(F.dtype)
    if isinstance(loss, BinaryCrossEntropy):
        return (rng.random(shape) < loss.link(F)).astype(F.dtype)
    if isinstance(loss, Binomial):
        return np.where(rng.random(shape) < loss.link(F), 1.0, -1.0).astype(F.dtype)
    raise TypeError(
        f"loss must be one of {[c.__name__ for c in PREDICTIVE_LOSSES]} for a predictive "
        f"distribution (Monte-Carlo or exact Fisher), got {loss!r}"
    )


def _categorical(P, mc_samples, rng):
    """One-hot draws (M, n, k) of classes with probabilities P (n, k), by inverting the CDF."""
    cdf = np.cumsum(P, axis=1)
    u = rng.random((mc_samples, P.shape[0], 1)) * cdf[:, -1:]
    labels = np.minimum((u > cdf[None]).sum(axis=2), P.shape[1] - 1)
    return np.eye(P.shape[1])[labels]


def mc_factors(loss, F, mc_samples=1, seed=0, targets=None):
    """Factors of the Monte-Carlo Fisher: U[m, n] = ∇_{F_n} ℓ(F_n, ỹ_mn), scale 1/(n M).

    Parameters
    ----------
    loss : Loss
    F : ndarray of shape (n_samples, n_outputs)
    mc_samples : int, default=1
        M ≥ 1 sampled targets per sample (ignored when ``targets`` is given).
    seed : int or np.random.Generator, default=0
    targets : sequence of M target arrays, optional
        The sampled targets ỹ themselves (each in any form ``loss.targets``
        accepts, with n_samples rows), e.g. to reproduce another library's
        draws; by default :func:`sample_targets`.

    Returns
    -------
    OutputFactors
        With E_ỹ[u uᵀ] = the exact Fisher block, so the MC Fisher is unbiased.
    """
    n, k = F.shape
    mc_samples = check_int(mc_samples, "mc_samples")
    if targets is None:
        Ys = sample_targets(loss, F, mc_samples, seed)
    else:
        Ys = _checked_targets(loss, targets, n, k, F.dtype)
    U = np.stack([loss.grad(F, Y) for Y in Ys]) * F.dtype.type(n)
    return OutputFactors(U, 1.0 / (n * len(Ys)))


def _checked_targets(loss, targets, n, k, dtype):
    if len(targets) == 0:
        raise ValueError(
            "targets must be a non-empty sequence of target arrays, one per Monte-Carlo sample"
        )
    Ys = [loss.targets(Y, k, dtype) for Y in targets]
    for m, Y in enumerate(Ys):
        if Y.shape[0] != n:
            raise ValueError(f"targets[{m}] must have {n} rows (n_samples), got {Y.shape[0]}")
    return Ys


def fisher_factors(loss, F):
    """Factors of the exact Fisher E_{ỹ ~ p(·|F_n)}[∇ℓ ∇ℓᵀ], in closed form.

    Returns
    -------
    OutputFactors
        Squared error: E[(F − ỹ)(F − ỹ)ᵀ] = Cov ε = I, U[c, n] = e_c. Cross-entropy:
        Σ_c p_c (p − e_c)(p − e_c)ᵀ over the k classes, U[c, n] = √p_nc (p_n − e_c).
        Binary cross-entropy: independent outputs, E[(σ − ỹ)²] = σ(1 − σ) on the
        diagonal, U[c, n] = √(σ_nc(1 − σ_nc)) e_c. Binomial: ∇ℓ = −2ỹσ(−2ỹF),
        E[∇ℓ²] = 4s(1 − s), s = σ(2F), U[c, n] = 2√(s(1 − s)) e_c. Scale 1/n.
    """
    n, k = F.shape
    eye = np.eye(k, dtype=F.dtype)
    if isinstance(loss, LeastSquares):
        return OutputFactors(np.broadcast_to(eye[:, None, :], (k, n, k)).copy(), 1.0 / n)
    if isinstance(loss, SoftmaxCrossEntropy):
        P = softmax(F)
        U = np.sqrt(P).T[:, :, None] * (P[None] - eye[:, None, :])
        return OutputFactors(U, 1.0 / n)
    if isinstance(loss, (BinaryCrossEntropy, Binomial)):
        s = loss.link(F)
        w = np.sqrt(s * (1 - s)) * (2 if isinstance(loss, Binomial) else 1)
        return OutputFactors(w.T[:, :, None] * eye[:, None, :], 1.0 / n)
    sample_targets(loss, F)  # raises the TypeError naming the loss


def curvature_factors(lin, kind="type-2", *, mc_samples=1, seed=0, targets=None):
    """The factors of ``kind`` in :data:`KINDS` at a linearization ``lin = obj.at(theta)``."""
    obj = lin.objective
    check_int(mc_samples, "mc_samples")
    if kind == "type-2":
        return hessian_factors(obj.loss, lin.F, obj.Y)
    if kind == "mc":
        return mc_factors(obj.loss, lin.F, mc_samples, seed, targets)
    if kind == "empirical":
        return empirical_factors(lin.gF)
    raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
