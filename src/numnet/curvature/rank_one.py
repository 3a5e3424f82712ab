"""Inverse Hessian approximations by symmetric rank-one updates (note 004, "Inverse Hessian")."""

import numpy as np

from .._linalg import sr1_update as _sr1_update
from .._validation import check_non_negative, check_positive

__all__ = ["inverse_outer_product", "sherman_morrison_update", "sr1_update"]


def sherman_morrison_update(Minv, g):
    """(M + g gᵀ)⁻¹ from M⁻¹: M⁻¹ − (M⁻¹g)(gᵀM⁻¹) / (1 + gᵀM⁻¹g), for symmetric M⁻¹.

    Returns a new array; ``Minv`` is not modified.
    """
    u = Minv @ g
    return Minv - np.outer(u, u) / (1 + g @ u)


def inverse_outer_product(grads, alpha):
    """Inverse of αI + Σ_n g_n g_nᵀ by sequential Sherman–Morrison updates.

    Parameters
    ----------
    grads : ndarray of shape (n_rows, p)
        The rows g_n. For the Gauss–Newton matrix of an objective pass
        ``outer_product_factor(obj, theta)`` (for least squares: J_n/√n, the
        notes' ∇y_n scaled for the mean loss).
    alpha : float
        α > 0, the initial H_0 = αI (e.g. the Tikhonov λ, making the result
        (G + λI)⁻¹).

    Returns
    -------
    Hinv : ndarray of shape (p, p)

    Notes
    -----
    Note 004, "Inverse Hessian": with H_0 = αI and H_{k+1} = H_k + g_{k+1} g_{k+1}ᵀ,
    the identity (M + v vᵀ)⁻¹ = M⁻¹ − (M⁻¹v)(vᵀM⁻¹)/(1 + vᵀM⁻¹v) gives
    H_{k+1}⁻¹ = H_k⁻¹ − (H_k⁻¹ g)(gᵀ H_k⁻¹)/(1 + gᵀ H_k⁻¹ g), starting from
    H_0⁻¹ = I/α. Each update costs O(p²): O(n p²) in all, no factorization.
    The denominators are ≥ 1, so the recursion is stable.
    """
    grads = np.asarray(grads)
    if grads.ndim != 2 or grads.dtype.kind != "f":
        raise ValueError(
            f"grads must be a 2-D float array (n_rows, p), got shape {grads.shape}, dtype {grads.dtype}"
        )
    alpha = check_positive(alpha, "alpha")
    Hinv = np.eye(grads.shape[1], dtype=grads.dtype) / grads.dtype.type(alpha)
    for g in grads:
        Hinv = sherman_morrison_update(Hinv, g)
    return Hinv


def sr1_update(Hinv, s, y, r=1e-8):
    """Symmetric rank-one (SR1) update of an inverse-Hessian approximation.

    Parameters
    ----------
    Hinv : ndarray of shape (p, p)
        Current approximation H of ∇²J⁻¹ (symmetric).
    s, y : ndarray of shape (p,)
        Step s = θ_{k+1} − θ_k and gradient change y = ∇J(θ_{k+1}) − ∇J(θ_k).
    r : float, default=1e-8
        Skip threshold.

    Returns
    -------
    Hinv_new : ndarray of shape (p, p)
        H + (s − H y)(s − H y)ᵀ / ((s − H y)ᵀ y), which satisfies the secant
        equation H_new y = s; or ``Hinv`` itself (the same object, unchanged)
        when the update is skipped.

    Notes
    -----
    Note 004, "Quasi-Newton method" (SR1). The notes' sequential inverse is
    the special case of rank-one terms that are known in advance
    (:func:`inverse_outer_product`); SR1 instead picks the rank-one term
    that makes H_new y = s. Skip rule (Nocedal & Wright, eq. 6.26, written
    for the inverse): with u = s − H y, the update is skipped when
    |yᵀu| ≤ r ‖y‖ ‖u‖ (the denominator would blow the update up), which
    includes u = 0 (H already satisfies the secant equation). The formula
    and the rule are :func:`numnet._linalg.sr1_update`, shared with
    :class:`~numnet.optim.quasi_newton.SR1Inverse`.
    """
    Hinv, s, y = np.asarray(Hinv), np.asarray(s), np.asarray(y)
    p = Hinv.shape[0]
    if Hinv.shape != (p, p) or s.shape != (p,) or y.shape != (p,):
        raise ValueError(
            f"Hinv must be (p, p) and s, y (p,); got {Hinv.shape}, {s.shape}, {y.shape}"
        )
    r = check_non_negative(r, "r")
    new = _sr1_update(Hinv, s, y, r)
    return Hinv if new is None else new
