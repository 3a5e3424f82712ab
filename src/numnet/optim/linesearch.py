"""Line searches along a descent direction: backtracking Armijo and strong Wolfe.

Both take the current point ``x`` with its value ``f`` and gradient ``g``, a
direction ``p`` and return ``(t, lin)``: the accepted step length and
``lin = problem.at(x + t p)``, the linearization at the accepted point, so
the caller reuses its value (and gradient) instead of evaluating again.

A trial point whose value (or, for Wolfe, gradient) is NaN or ±inf is never
accepted: it counts as "too long" and the step shrinks. Both raise
:class:`~numnet.optim.base.NoProgress` when ``p`` is not a descent direction
(gᵀp ≥ 0) or when no acceptable step is found in the evaluation budget.
"""

import numpy as np

from .base import NoProgress

__all__ = ["armijo", "wolfe", "get_line_search", "LINE_SEARCHES", "NOISE"]

#: Values within NOISE · eps · |f| of f count as equal (approximate Armijo test).
NOISE = 10.0


class _Point:
    """φ(t) = f(x + t p) at one trial step, with φ'(t) = ∇f(x + t p)ᵀp on demand."""

    def __init__(self, problem, x, p, t):
        self.t, self.lin, self.p, self.known_dphi = float(t), None, p, None
        self.phi = np.inf
        xt = x + self.t * p
        if np.isfinite(xt).all():
            with np.errstate(over="ignore", invalid="ignore"):
                self.lin = problem.at(xt)
            self.phi = float(self.lin.value) if np.isfinite(self.lin.value) else np.inf

    @property
    def dphi(self):
        """φ'(t), evaluating the gradient once; NaN where it is not finite."""
        if self.known_dphi is None:
            self.known_dphi = np.nan
            if self.lin is not None and np.isfinite(self.phi):
                with np.errstate(over="ignore", invalid="ignore"):
                    g = self.lin.grad
                self.known_dphi = float(np.dot(g, self.p)) if np.isfinite(g).all() else np.nan
        return self.known_dphi

    def flat(self, f, noise):
        """φ(t) equals φ(0) up to rounding: values cannot tell the points apart."""
        return abs(self.phi - f) <= noise

    def sufficient(self, f, slope, c1, noise):
        """Armijo φ(t) ≤ φ(0) + c1 t φ'(0), or in the rounding band its derivative form."""
        return self.phi <= f + c1 * self.t * slope or (
            self.flat(f, noise) and self.dphi <= (2 * c1 - 1) * slope
        )


def _noise(f, x):
    """Rounding level of objective values: ``NOISE * eps(dtype) * |f|``."""
    return NOISE * float(np.finfo(x.dtype).eps) * abs(f)


def _slope(g, p):
    slope = float(np.dot(g, p))
    if not slope < 0:
        raise NoProgress(f"p is not a descent direction (gᵀp = {slope:.3g} ≥ 0)")
    return slope


def _check(t0, c1, c2=None):
    if not (np.isfinite(t0) and t0 > 0):
        raise ValueError(f"t0 must be a positive finite number, got {t0!r}")
    if c2 is None and not 0 < c1 < 1:
        raise ValueError(f"c1 must be in (0, 1), got {c1!r}")
    if c2 is not None and not 0 < c1 < c2 < 1:
        raise ValueError(f"need 0 < c1 < c2 < 1, got c1={c1!r}, c2={c2!r}")


def armijo(problem, x, f, g, p, *, t0=1.0, c1=1e-4, shrink=0.5, max_backtracks=30):
    """Backtracking line search for the sufficient-decrease (Armijo) condition.

    Parameters
    ----------
    problem : Problem
        Counted objective (:class:`~numnet.optim.problem.Problem`).
    x, f, g : ndarray, float, ndarray
        Current point, value and gradient.
    p : ndarray
        Search direction; must satisfy gᵀp < 0.
    t0 : float, default=1.0
        First trial step.
    c1 : float, default=1e-4
        Sufficient-decrease constant, 0 < c1 < 1.
    shrink : float, default=0.5
        Factor applied to t after each rejected trial, 0 < shrink < 1.
    max_backtracks : int, default=30
        Rejected trials allowed before giving up.

    Returns
    -------
    t : float
    lin : linearization at x + t p (``lin.value`` known, ``lin.grad`` lazy).

    Notes
    -----
    Nocedal & Wright, Algorithm 3.1 (backtracking); notes 004, descent
    method w⁽ᵏ⁺¹⁾ = w⁽ᵏ⁾ + t⁽ᵏ⁾ Δw⁽ᵏ⁾. Accept the first t = t0·shrinkʲ with
    ``f(x + t p) <= f + c1 * t * (g @ p)``; a non-finite f(x + t p) fails
    the test. Near a minimizer the decrease c1 t gᵀp falls below the
    rounding of f; a trial whose value is within ``NOISE * eps * |f|`` of f
    then passes if its slope does, ``∇f(x+tp) @ p <= (2*c1 - 1) * (g @ p)``
    (the Armijo condition for the quadratic interpolant; Hager & Zhang's
    approximate Wolfe condition, 2005).
    """
    _check(t0, c1)
    if not 0 < shrink < 1:
        raise ValueError(f"shrink must be in (0, 1), got {shrink!r}")
    slope, t, noise = _slope(g, p), float(t0), _noise(f, x)
    for _ in range(max_backtracks + 1):
        trial = _Point(problem, x, p, t)
        if trial.sufficient(f, slope, c1, noise):
            return t, trial.lin
        t *= shrink
    raise NoProgress(f"Armijo backtracking found no sufficient decrease in {max_backtracks} steps")


def wolfe(problem, x, f, g, p, *, t0=1.0, c1=1e-4, c2=0.9, max_evals=30):
    """Line search for the strong Wolfe conditions by bracketing and zoom.

    Parameters
    ----------
    problem, x, f, g, p
        As in :func:`armijo`.
    t0 : float, default=1.0
        First trial step.
    c1, c2 : float, default=1e-4, 0.9
        Sufficient-decrease and curvature constants, 0 < c1 < c2 < 1.
    max_evals : int, default=30
        Trial points (value, and gradient where needed) allowed.

    Returns
    -------
    t : float
    lin : linearization at x + t p, with ``lin.grad`` evaluated.

    Notes
    -----
    Nocedal & Wright, Algorithm 3.5 (bracketing: grow t by 2 until the
    interval [t_lo, t_hi] contains a strong-Wolfe point) and Algorithm 3.6
    (zoom: shrink the bracket by safeguarded cubic interpolation (N&W 3.59)
    when both end slopes are known, quadratic otherwise, bisection when the
    interpolant leaves the middle 80% of the bracket). With
    φ(t) = f(x + t p) and φ'(t) = ∇f(x + t p)ᵀp the conditions are
    ``phi(t) <= f + c1 * t * phi'(0)`` and ``abs(phi'(t)) <= c2 * abs(phi'(0))``.
    A non-finite φ(t) or φ'(t) counts as a failed sufficient decrease (the
    step is too long). Sufficient decrease is tested as in :func:`armijo`,
    including its approximate form where φ(t) is within rounding of φ(0). If the
    budget runs out inside zoom after some point with sufficient decrease was seen, that point is returned (Armijo only;
    quasi-Newton memories skip its update if the curvature yᵀs ≤ 0 fails).
    """
    _check(t0, c1, c2)
    slope = _slope(g, p)
    search = _Wolfe(problem, x, p, f, slope, c1, c2, max_evals)
    best = search.bracket(float(t0))
    return best.t, _with_grad(best.lin)


def _with_grad(lin):
    lin.grad  # noqa: B018  (evaluate the lazy gradient once)
    return lin


class _Origin:
    """φ at t = 0: the current point, never returned as a step."""

    def __init__(self, f, slope):
        self.t, self.phi, self.dphi, self.known_dphi, self.lin = 0.0, f, slope, slope, None


class _Wolfe:
    """State of one strong-Wolfe search (N&W Algorithms 3.5 and 3.6)."""

    def __init__(self, problem, x, p, f, slope, c1, c2, max_evals):
        self.problem, self.x, self.p, self.origin = problem, x, p, _Origin(f, slope)
        self.noise = _noise(f, x)
        self.c1, self.c2, self.evals, self.max_evals = c1, c2, 0, max_evals

    def trial(self, t):
        if self.evals >= self.max_evals:
            raise NoProgress(f"strong Wolfe search found no step in {self.max_evals} evaluations")
        self.evals += 1
        return _Point(self.problem, self.x, self.p, t)

    def too_long(self, pt, lo):
        """Sufficient decrease fails, φ rose above the low end, or φ' is non-finite."""
        o = self.origin
        return (
            not pt.sufficient(o.phi, o.dphi, self.c1, self.noise)
            or (lo.t > 0 and pt.phi >= lo.phi and not pt.flat(o.phi, self.noise))
            or not np.isfinite(pt.dphi)
        )

    def curvature_ok(self, pt):
        return abs(pt.dphi) <= -self.c2 * self.origin.dphi

    def bracket(self, t):
        prev = self.origin
        while True:
            pt = self.trial(t)
            if self.too_long(pt, prev):
                return self.zoom(prev, pt)
            if self.curvature_ok(pt):
                return pt
            if pt.dphi >= 0:
                return self.zoom(pt, prev)
            prev, t = pt, 2.0 * t

    def zoom(self, lo, hi):
        try:
            return self._zoom(lo, hi)
        except NoProgress:
            if lo.t > 0:
                return lo
            raise

    def _zoom(self, lo, hi):
        while True:
            pt = self.trial(_interpolate(lo, hi))
            if self.too_long(pt, lo):
                hi = pt
                continue
            if self.curvature_ok(pt):
                return pt
            if pt.dphi * (hi.t - pt.t) >= 0:
                hi = lo
            lo = pt


def _interpolate(lo, hi):
    """Safeguarded minimizer of the cubic (or quadratic) through the bracket ends."""
    a, b = sorted((lo.t, hi.t))
    if b - a <= 1e-12 * max(1.0, b):
        raise NoProgress("strong Wolfe bracket collapsed")
    if not np.isfinite(hi.phi):
        return 0.5 * (a + b)
    with np.errstate(all="ignore"):
        t = _cubic(lo, hi) if hi.known_dphi is not None else _quadratic(lo, hi)
    margin = 0.1 * (b - a)
    return float(t) if np.isfinite(t) and a + margin <= t <= b - margin else 0.5 * (a + b)


def _cubic(lo, hi):
    """N&W (3.59): minimizer of the cubic matching φ and φ' at both ends."""
    d1 = lo.dphi + hi.dphi - 3 * (lo.phi - hi.phi) / (lo.t - hi.t)
    d2 = np.sign(hi.t - lo.t) * np.sqrt(d1 * d1 - lo.dphi * hi.dphi)
    return hi.t - (hi.t - lo.t) * (hi.dphi + d2 - d1) / (hi.dphi - lo.dphi + 2 * d2)


def _quadratic(lo, hi):
    """Minimizer of the quadratic matching φ(lo), φ'(lo) and φ(hi)."""
    dt = hi.t - lo.t
    return lo.t - lo.dphi * dt * dt / (2 * (hi.phi - lo.phi - lo.dphi * dt))


#: Names accepted by the ``line_search`` option of the methods.
LINE_SEARCHES = ("armijo", "wolfe")


def get_line_search(name, *, c1=1e-4, c2=0.9, max_evals=30):
    """``search(problem, x, f, g, p, t0) -> (t, lin)`` for ``line_search=name``.

    ``max_evals`` bounds the trial points of either search (Armijo:
    ``max_backtracks = max_evals - 1``); ``c2`` is only used by ``"wolfe"``.
    """
    if name == "armijo":
        return lambda problem, x, f, g, p, t0: armijo(
            problem, x, f, g, p, t0=t0, c1=c1, max_backtracks=max_evals - 1
        )
    if name == "wolfe":
        return lambda problem, x, f, g, p, t0: wolfe(
            problem, x, f, g, p, t0=t0, c1=c1, c2=c2, max_evals=max_evals
        )
    raise ValueError(f"line_search must be one of {LINE_SEARCHES}, got {name!r}")
