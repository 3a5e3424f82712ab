"""Conjugate gradients for Newton-type steps: truncated CG and Steihaug-CG.

Both solve the Newton system A p = −g with only products ``matvec(v) = A v``
(a Hessian or Gauss-Newton product ``lin.hvp`` / ``lin.gnvp``), stop early
once the residual is small relative to ‖g‖ (the forcing term of an inexact
Newton method), and watch for directions of non-positive curvature, which a
Newton model cannot use. Each returns a :class:`CGResult` that also carries
``A p``, accumulated along the way, so the caller can evaluate the quadratic
model m(p) = gᵀp + ½ pᵀA p without another product.
"""

from typing import NamedTuple

import numpy as np

from .._validation import check_positive

__all__ = ["CGResult", "forcing_term", "model_decrease", "steihaug_cg", "truncated_cg"]


class CGResult(NamedTuple):
    """Outcome of a CG solve.

    Attributes
    ----------
    p : ndarray
        The step.
    Ap : ndarray
        The product A p (accumulated, no extra matvec).
    n_iter : int
        Number of products with A.
    status : str
        "converged" (‖A p + g‖ ≤ rtol ‖g‖), "negative_curvature",
        "boundary" (Steihaug: the step reached the trust-region radius) or
        "max_iter".
    """

    p: np.ndarray
    Ap: np.ndarray
    n_iter: int
    status: str


def forcing_term(grad_norm, power=0.5, cap=0.5):
    """Relative CG tolerance η = min(cap, ‖g‖^power) (N&W (7.3); power 0.5: superlinear)."""
    return min(cap, float(grad_norm) ** power)


def model_decrease(g, sol):
    """Predicted decrease −m(p) = −(gᵀp + ½ pᵀA p) of the quadratic model at ``sol.p``."""
    return -float(np.dot(g, sol.p) + 0.5 * np.dot(sol.p, sol.Ap))


def _check_cg(rtol, max_iter):
    if not (np.isfinite(rtol) and rtol >= 0):
        raise ValueError(f"rtol must be a non-negative number, got {rtol!r}")
    if not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive integer, got {max_iter!r}")


class _CG:
    """State of a CG run on A p = −g from p = 0: residual r = A p + g, direction d."""

    def __init__(self, g):
        self.p, self.Ap = np.zeros_like(g), np.zeros_like(g)
        self.r, self.d = g.copy(), -g
        self.rr = float(np.dot(g, g))

    def step(self, Ad, alpha):
        """Move p along d by alpha; update the residual and the next conjugate direction."""
        self.p += alpha * self.d
        self.Ap += alpha * Ad
        self.r += alpha * Ad
        rr, self.rr = self.rr, float(np.dot(self.r, self.r))
        self.d = -self.r + (self.rr / rr) * self.d

    def result(self, n_iter, status):
        return CGResult(self.p, self.Ap, n_iter, status)


def truncated_cg(matvec, g, *, rtol=0.1, max_iter=50):
    """Approximately solve A p = −g by CG, stopping at negative curvature.

    Parameters
    ----------
    matvec : callable
        ``matvec(v) = A v`` for a symmetric A.
    g : ndarray of shape (n,)
        Right-hand side (the gradient).
    rtol : float, default=0.1
        Stop when ‖A p + g‖ ≤ rtol ‖g‖ (the forcing term η).
    max_iter : int, default=50
        Maximum number of products with A.

    Returns
    -------
    CGResult

    Notes
    -----
    Nocedal & Wright, Algorithm 7.1 (line-search Newton-CG), inner loop:
    r₀ = g, d₀ = −g; α = rᵀr / dᵀA d, p ← p + α d, r ← r + α A d,
    d ← −r + (r₊ᵀr₊ / rᵀr) d. When dᵀA d ≤ 0 (or is not finite) the
    direction has non-positive curvature: at the first iteration the
    steepest-descent direction p = −g is returned, later the current
    iterate p (which is a descent direction, gᵀp < 0).
    """
    _check_cg(rtol, max_iter)
    cg = _CG(g)
    tol = rtol * np.sqrt(cg.rr)
    if cg.rr == 0:
        return cg.result(0, "converged")
    for j in range(max_iter):
        Ad = matvec(cg.d)
        dAd = float(np.dot(cg.d, Ad))
        if not dAd > 0:
            return (
                CGResult(-g, Ad, j + 1, "negative_curvature")
                if j == 0
                else cg.result(j + 1, "negative_curvature")
            )
        cg.step(Ad, cg.rr / dAd)
        if np.sqrt(cg.rr) <= tol:
            return cg.result(j + 1, "converged")
    return cg.result(max_iter, "max_iter")


def _to_boundary(cg, Ad, dAd, radius):
    """The root τ of ‖p + τ d‖ = radius with the lower model value (N&W Alg. 7.2)."""
    p, d = cg.p, cg.d
    a, b, c = float(np.dot(d, d)), 2 * float(np.dot(p, d)), float(np.dot(p, p)) - radius**2
    disc = float(np.sqrt(max(b * b - 4 * a * c, 0.0)))
    rd = float(np.dot(cg.r, d))
    taus = [(-b - disc) / (2 * a), (-b + disc) / (2 * a)]
    tau = min(taus, key=lambda t: t * rd + 0.5 * t * t * dAd)
    return CGResult(p + tau * d, cg.Ap + tau * Ad, 0, "boundary")


def steihaug_cg(matvec, g, radius, *, rtol=0.1, max_iter=50):
    """Approximately minimize m(p) = gᵀp + ½ pᵀA p subject to ‖p‖ ≤ radius.

    Parameters
    ----------
    matvec : callable
        ``matvec(v) = A v`` for a symmetric (possibly indefinite) A.
    g : ndarray of shape (n,)
    radius : float
        Trust-region radius Δ > 0.
    rtol : float, default=0.1
        Stop inside the region when ‖A p + g‖ ≤ rtol ‖g‖.
    max_iter : int, default=50
        Maximum number of products with A.

    Returns
    -------
    CGResult
        ``status`` is "boundary" when the step was cut at ‖p‖ = Δ (after
        negative curvature or leaving the region).

    Notes
    -----
    Nocedal & Wright, Algorithm 7.2 (CG-Steihaug): the CG recurrence of
    :func:`truncated_cg` from p₀ = 0; if dᵀA d ≤ 0, or if the next iterate
    leaves the region, return p + τ d with ‖p + τ d‖ = Δ, choosing the root τ
    of ‖p + τ d‖² = Δ² whose model value m(p) + τ rᵀd + ½ τ² dᵀA d is lower.
    """
    _check_cg(rtol, max_iter)
    check_positive(radius, "radius")
    cg = _CG(g)
    tol = rtol * np.sqrt(cg.rr)
    if cg.rr == 0:
        return cg.result(0, "converged")
    for j in range(max_iter):
        Ad = matvec(cg.d)
        dAd = float(np.dot(cg.d, Ad))
        alpha = cg.rr / dAd if dAd > 0 else np.inf
        if not dAd > 0 or np.linalg.norm(cg.p + alpha * cg.d) >= radius:
            return _to_boundary(cg, Ad, dAd if np.isfinite(dAd) else 0.0, radius)._replace(
                n_iter=j + 1
            )
        cg.step(Ad, alpha)
        if np.sqrt(cg.rr) <= tol:
            return cg.result(j + 1, "converged")
    return cg.result(max_iter, "max_iter")
