"""Dense linear-algebra kernels shared by the solvers (private): one place for each formula.

Users: :mod:`numnet.optim.output_layer` (variable projection's inner
solve), :mod:`numnet.random_features` (ELM output weights),
:mod:`numnet.curvature.rank_one` and :mod:`numnet.optim.quasi_newton`
(SR1).

Two symmetric solves and two ridge least-squares solves remain, on purpose:

- :func:`psd_solver` factors H + δI once (δ = √ε · max diag H) for many
  right-hand sides; it serves Newton steps on a convex loss whose Hessian
  has a known null space (the softmax shift), orthogonal to every gradient,
  so the shift changes no step component that matters.
  :func:`spd_solve` solves the ELM normal equations unshifted and falls
  back to the minimum-norm eigen-solution when G is numerically singular,
  so that ``solver="normal"`` matches ``solver="lstsq"``.
- :func:`ridge_lstsq` (any diagonal penalty, rows scaled by 1/√n, NumPy's
  ``lstsq``) and :func:`ridge_lstsq_intercept` (one ridge α on the weights,
  none on the intercept, SciPy's ``lstsq``) solve the same kind of problem,
  but with different scaling and LAPACK cutoffs: merging them changes the
  rounding of one caller (by up to 1.6e-7 relative in float32, measured),
  so each keeps its arithmetic.
"""

import contextlib

import numpy as np
import scipy.linalg

__all__ = ["psd_solver", "spd_solve", "ridge_lstsq", "ridge_lstsq_intercept", "sr1_update"]


def psd_solver(H):
    """A solver x = solve(b) of H x = b for positive semi-definite H: Cholesky of H + δI, δ = √ε · max diag H.

    The shift only moves the null space of H (e.g. the softmax shift of the
    output columns), to which a gradient is orthogonal; lstsq if Cholesky fails.
    """
    delta = np.sqrt(np.finfo(H.dtype).eps) * max(float(np.max(np.diag(H))), np.finfo(H.dtype).tiny)
    try:
        factor = scipy.linalg.cho_factor(H + delta * np.eye(H.shape[0], dtype=H.dtype))
    except np.linalg.LinAlgError:
        return lambda b: np.linalg.lstsq(H, b, rcond=None)[0]
    return lambda b: scipy.linalg.cho_solve(factor, b)


def spd_solve(G, B):
    """Cholesky solve of G X = B, or the minimum-norm eigen-solution when G is (nearly) singular.

    Cholesky is trusted when its smallest pivot r_min satisfies
    r_min² > m ε r_max² (m = order of G); otherwise, and when G is not
    positive definite, X = V_+ Λ_+⁻¹ V_+ᵀ B over the eigenvalues λ > m ε λ_max.
    """
    eps_m = G.shape[0] * np.finfo(np.float64).eps
    with contextlib.suppress(np.linalg.LinAlgError):  # not positive definite: eigen-solution below
        c, low = scipy.linalg.cho_factor(G, check_finite=False)
        r = np.abs(np.diag(c))
        if r.min() ** 2 > eps_m * r.max() ** 2:
            return scipy.linalg.cho_solve((c, low), B, check_finite=False)
    lam, V = scipy.linalg.eigh(G, check_finite=False)
    keep = lam > eps_m * max(lam.max(), 0.0)
    return V[:, keep] @ ((V[:, keep].T @ B) / lam[keep, None])


def ridge_lstsq(A, B, d):
    """argmin_w (1/2n)‖A w − B‖² + ½ Σ d_i w_i² by lstsq on the stacked system (rows scaled by 1/√n).

    Solves [A/√n; diag(√d)] w ≈ [B/√n; 0] with ``np.linalg.lstsq`` (rows of
    zero d left out).
    """
    n = A.shape[0]
    keep = d > 0
    M = np.vstack([A / np.sqrt(n), np.diag(np.sqrt(d))[keep]])
    rhs = np.vstack([B / np.sqrt(n), np.zeros((int(keep.sum()), B.shape[1]), B.dtype)])
    return np.linalg.lstsq(M, rhs, rcond=None)[0]


def ridge_lstsq_intercept(Z, Y, alpha, fit_intercept):
    """argmin (1/2n)‖Z W + 1 cᵀ − Y‖² + (α/2)‖W‖²: SVD least squares on [Z 1; √(nα) I 0] W̃ = [Y; 0].

    ``scipy.linalg.lstsq`` (minimum norm); W̃ = [W; cᵀ], without the
    intercept row when ``fit_intercept`` is False.
    """
    n, m = Z.shape
    A = np.hstack([Z, np.ones((n, 1), Z.dtype)]) if fit_intercept else Z
    if alpha > 0:
        reg = np.zeros((m, A.shape[1]), Z.dtype)
        reg[:, :m] = np.sqrt(n * alpha) * np.eye(m, dtype=Z.dtype)
        A, Y = np.vstack([A, reg]), np.vstack([Y, np.zeros((m, Y.shape[1]), Y.dtype)])
    return scipy.linalg.lstsq(A, Y, check_finite=False)[0]


def sr1_update(H, s, y, r):
    """Symmetric rank-one update H + u uᵀ / (yᵀu), u = s − H y, or None when the skip rule refuses (s, y).

    Skip rule (Nocedal & Wright eq. 6.26, written for the inverse): refuse
    when ``not |yᵀu| > r ‖y‖ ‖u‖``, i.e. when |yᵀu| ≤ r‖y‖‖u‖ or it is NaN.
    The non-strict inequality also refuses u = 0 (H already satisfies the
    secant equation H y = s) and, with r = 0, a zero denominator.
    """
    u = s - H @ y
    denom = float(y @ u)
    if not abs(denom) > r * np.linalg.norm(y) * np.linalg.norm(u):
        return None
    return H + np.outer(u, u) / denom
