"""Gauss-Newton-CG with a line search: method "gauss-newton"."""

import numpy as np

from .base import Iterate, register
from .krylov import forcing_term, truncated_cg
from .newton_cg import check_cg_options, descent_step

__all__ = ["damped", "gauss_newton"]


def damped(product, damping):
    """The product v ↦ product(v) + damping · v (the identity when damping is 0)."""
    if damping == 0:
        return product
    return lambda v: product(v) + damping * v


@register("gauss-newton")
def gauss_newton(problem, x, f, g, *, damping=0.0, max_cg=50, forcing_power=0.5, max_forcing=0.5,
                 c1=1e-4, max_backtracks=30):
    """Gauss-Newton: CG on (G + damping·I) p = −g, then an Armijo line search.

    **Options**

    damping : float, default=0.0
        Constant shift added to the Gauss-Newton matrix (≥ 0); a small
        value regularizes a rank-deficient G.
    max_cg : int, default=50
        Maximum Gauss-Newton products per iteration.
    forcing_power, max_forcing : float, default=0.5, 0.5
        CG stops when its relative residual is below
        min(max_forcing, ‖g‖^forcing_power).
    c1 : float, default=1e-4
        Armijo sufficient-decrease constant.
    max_backtracks : int, default=30
        Step halvings allowed per line search.

    Notes
    -----
    Notes 000, "Gauss-Newton method": the Hessian of E(F(θ)) is
    Jᵀ ∇²E J + Σ ∇²F_ij ∇E_ij; the second term can be indefinite and is
    small near a good fit, so it is dropped, leaving the positive
    semi-definite G = Jᵀ ∇²E J (+ λ∇²R) (note 004, outer-product
    approximation). ``lin.gnvp`` composes G v from one ``jvp`` and one
    ``vjp`` of a single linearization per iteration; CG
    (:func:`~numnet.optim.krylov.truncated_cg`) solves G p = −g inexactly;
    Nocedal & Wright §10.3 (Gauss-Newton with a line search), Armijo from
    t = 1 (Algorithm 3.1), rejecting non-finite values and gradients.
    """
    check_cg_options(max_cg, forcing_power, max_forcing)
    if not (np.isfinite(damping) and damping >= 0):
        raise ValueError(f"damping must be a non-negative number, got {damping!r}")
    lin = problem.at(x)
    while True:
        eta = forcing_term(np.linalg.norm(g), forcing_power, max_forcing)
        sol = truncated_cg(damped(lin.gnvp, damping), g, rtol=eta, max_iter=max_cg)
        t, lin = descent_step(problem, x, f, g, sol.p, c1=c1, max_backtracks=max_backtracks)
        x, f, g = lin.theta, float(lin.value), lin.grad
        yield Iterate(x, f, g, step=t, inner=sol.n_iter)
