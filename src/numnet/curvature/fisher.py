"""Fisher matrices: empirical, Monte-Carlo and exact, as operators or dense matrices.

With the loss a negative log-likelihood ℓ_n = −ln p(y_n | F_n), the Fisher
matrix is the expected outer product of the gradients under the model's own
predictive distribution, F = (1/n) Σ_n E_{ỹ ~ p(·|F_n)}[∇ℓ(ỹ) ∇ℓ(ỹ)ᵀ]; the
*empirical* Fisher puts the observed targets in place of the expectation.
Every one is Σ_n J_nᵀ B_n J_n with a different B_n (see
:mod:`numnet.curvature.factors`), and for the losses with a canonical link
(squared error, softmax and binary cross-entropy, binomial) the exact
Fisher *is* the Gauss–Newton matrix: E[∇ℓ ∇ℓᵀ] = ∇²_F ℓ.

The regularizer is not part of a Fisher matrix (it is no likelihood term):
add λ∇²R, or a damping, yourself.
"""

from .._validation import check_int
from ._common import linearize
from .factors import empirical_factors, fisher_factors, mc_factors
from .ggn import factor_matrix, factor_operator

__all__ = ["empirical_fisher", "mc_fisher", "fisher"]


def _result(lin, factors, dense, chunk_size):
    if not isinstance(dense, bool):
        raise TypeError(f"dense must be True or False, got {dense!r}")
    return (
        factor_matrix(lin, factors, chunk_size=chunk_size)
        if dense
        else factor_operator(lin, factors)
    )


def empirical_fisher(obj, theta=None, *, dense=False, chunk_size=None):
    """Empirical Fisher (1/n) Σ_n ∇ℓ_n ∇ℓ_nᵀ, the mean outer product of per-sample gradients.

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    dense : bool, default=False
        Return the (p, p) matrix instead of a ``LinearOperator``.
    chunk_size : int, optional
        Samples per backward pass when ``dense`` (memory O(chunk_size · p)).

    Returns
    -------
    LinearOperator or ndarray of shape (p, p)

    Notes
    -----
    Note 004's outer-product form with the gradients themselves:
    ∇ℓ_n = J_nᵀ u_n, u_n = ∇_{F_n}ℓ_n = n gF_n, so a product is
    (1/n) Jᵀ (u ⊙ ⟨u, J v⟩_rows): one ``jvp`` and one ``vjp``, never the n
    gradients; the dense matrix is GᵀG / n with G the per-sample gradients
    (:func:`~numnet.curvature.per_sample.per_sample_gradients`).
    curvlinops: ``EFLinearOperator``.
    """
    lin = linearize(obj, theta)
    return _result(lin, empirical_factors(lin.gF), dense, chunk_size)


def mc_fisher(obj, theta=None, *, mc_samples=1, seed=0, targets=None, dense=False, chunk_size=None):
    """Monte-Carlo Fisher (1/(nM)) Σ_n Σ_m ∇ℓ(F_n, ỹ_nm) ∇ℓ(F_n, ỹ_nm)ᵀ, ỹ drawn from the model.

    Parameters
    ----------
    obj : Objective or Linearization
        Its loss must have a predictive distribution (squared error, softmax
        or binary cross-entropy, binomial); others raise ``TypeError``.
    theta : ndarray of shape (p,), optional
    mc_samples : int, default=1
        M ≥ 1 targets drawn per sample.
    seed : int or np.random.Generator, default=0
        The same seed gives the same draws, so the operator is deterministic.
    targets : sequence of M target arrays, optional
        Use these sampled targets instead of drawing (e.g. another library's draws).
    dense : bool, default=False
    chunk_size : int, optional

    Returns
    -------
    LinearOperator or ndarray of shape (p, p)
        An unbiased estimate of :func:`fisher`, with variance O(1/M).

    Notes
    -----
    B_n = (1/M) Σ_m u_nm u_nmᵀ with u_nm = ∇_{F_n} ℓ(F_n, ỹ_nm) computed by
    the loss's own gradient at the drawn targets
    (:func:`~numnet.curvature.factors.sample_targets`). curvlinops:
    ``FisherMCLinearOperator``; BackPACK: ``DiagGGNMC`` for the diagonal.
    """
    lin = linearize(obj, theta)
    check_int(mc_samples, "mc_samples")
    factors = mc_factors(lin.objective.loss, lin.F, mc_samples, seed, targets)
    return _result(lin, factors, dense, chunk_size)


def fisher(obj, theta=None, *, dense=False, chunk_size=None):
    """The exact Fisher matrix Σ_n J_nᵀ E_ỹ[∇_F ℓ ∇_F ℓᵀ] J_n / n, the expectation in closed form.

    Parameters
    ----------
    obj : Objective or Linearization
        Its loss must have a predictive distribution (see :func:`mc_fisher`).
    theta : ndarray of shape (p,), optional
    dense : bool, default=False
    chunk_size : int, optional

    Returns
    -------
    LinearOperator or ndarray of shape (p, p)

    Notes
    -----
    The expectation per sample (:func:`~numnet.curvature.factors.fisher_factors`):
    the identity for squared error (ỹ ~ N(F, I)); Σ_c p_c (p − e_c)(p − e_c)ᵀ
    = diag(p) − p pᵀ for softmax cross-entropy, summing over the k classes;
    σ(1 − σ) and 4s(1 − s) on the diagonal for the binary losses. Each
    equals the loss Hessian ∇²_F ℓ (canonical links), so this matrix equals
    the Gauss–Newton matrix of an unregularized objective, though computed
    from the distribution, not from ``loss.hvp``.
    """
    lin = linearize(obj, theta)
    return _result(lin, fisher_factors(lin.objective.loss, lin.F), dense, chunk_size)
