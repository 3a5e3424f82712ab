"""Truncated (line-search) Newton-CG: method "newton-cg"."""

import numpy as np

from .base import Iterate, NoProgress, register
from .krylov import forcing_term, truncated_cg
from .linesearch import armijo

__all__ = ["check_cg_options", "check_positive", "descent_step", "newton_cg"]


def check_positive(value, name, *, integer=False):
    """Raise ValueError naming ``name`` unless value is a positive finite number (int when asked)."""
    if integer and (not isinstance(value, (int, np.integer)) or isinstance(value, bool)):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def check_cg_options(max_cg, forcing_power, max_forcing):
    """Validate the options shared by every CG-based method."""
    check_positive(max_cg, "max_cg", integer=True)
    check_positive(forcing_power, "forcing_power")
    if not 0 < max_forcing < 1:
        raise ValueError(f"max_forcing must be in (0, 1), got {max_forcing!r}")


def descent_step(problem, x, f, g, p, *, c1=1e-4, max_backtracks=30):
    """Armijo backtracking from t = 1 whose accepted point also has a finite gradient.

    Returns ``(t, lin)`` like :func:`~numnet.optim.linesearch.armijo`; a point
    with finite value but non-finite gradient is rejected and the search
    continues from half its step. Raises ``NoProgress`` when none is found.
    """
    t0 = 1.0
    for _ in range(max_backtracks + 1):
        t, lin = armijo(problem, x, f, g, p, t0=t0, c1=c1, max_backtracks=max_backtracks)
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(lin.grad).all():
                return t, lin
        t0 = 0.5 * t
    raise NoProgress("every step with sufficient decrease had a non-finite gradient")


@register("newton-cg")
def newton_cg(problem, x, f, g, *, max_cg=50, forcing_power=0.5, max_forcing=0.5, c1=1e-4,
              max_backtracks=30):
    """Truncated Newton: CG on the exact Hessian, then an Armijo line search.

    **Options**

    max_cg : int, default=50
        Maximum Hessian-vector products per iteration.
    forcing_power, max_forcing : float, default=0.5, 0.5
        CG stops when ‖H p + g‖ ≤ η ‖g‖ with the forcing term
        η = min(max_forcing, ‖g‖^forcing_power): 0.5 gives superlinear,
        1.0 quadratic local convergence.
    c1 : float, default=1e-4
        Armijo sufficient-decrease constant.
    max_backtracks : int, default=30
        Step halvings allowed per line search.

    Notes
    -----
    Nocedal & Wright, Algorithm 7.1 (line-search Newton-CG); note 004,
    Newton's method Δw = −(∇²E)⁻¹ ∇E, w ← w + t Δw. One linearization
    ``lin = problem.at(x)`` per iteration; CG (:func:`~numnet.optim.krylov.truncated_cg`)
    uses only ``lin.hvp`` (the R-operator, note 004), so no forward pass is
    repeated. Negative curvature at the first CG iteration gives p = −g,
    later the current CG iterate. The line search starts at t = 1 (the
    Newton step) and never accepts a non-finite value or gradient.
    ``inner`` in the history is the number of CG products.
    """
    check_cg_options(max_cg, forcing_power, max_forcing)
    lin = problem.at(x)
    while True:
        eta = forcing_term(np.linalg.norm(g), forcing_power, max_forcing)
        sol = truncated_cg(lin.hvp, g, rtol=eta, max_iter=max_cg)
        t, lin = descent_step(problem, x, f, g, sol.p, c1=c1, max_backtracks=max_backtracks)
        x, f, g = lin.theta, float(lin.value), lin.grad
        yield Iterate(x, f, g, step=t, inner=sol.n_iter)
