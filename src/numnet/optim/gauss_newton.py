"""Gauss-Newton-CG with a line search: method "gauss-newton"."""

from typing import NamedTuple

from ._checks import check_cg_options, check_int, check_non_negative, check_open_unit
from .base import Iterate, Method
from .newton import CG, accepted_state, gauss_newton as gn_product, line_search_step, newton_init, newton_restore

__all__ = ["GaussNewtonOptions", "gauss_newton"]


class GaussNewtonOptions(NamedTuple):
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
    t = 1 (Algorithm 3.1), rejecting non-finite values and gradients. The
    step is :func:`~numnet.optim.newton.line_search_step` with the curvature
    :func:`~numnet.optim.newton.gauss_newton`.
    """

    damping: float = 0.0
    max_cg: int = 50
    forcing_power: float = 0.5
    max_forcing: float = 0.5
    c1: float = 1e-4
    max_backtracks: int = 30

    def check(self):
        check_non_negative(self.damping, "damping")
        check_cg_options(self.max_cg, self.forcing_power, self.max_forcing)
        check_open_unit(self.c1, "c1")
        check_int(self.max_backtracks, "max_backtracks", minimum=0)


def _init(problem, x, f, g, opts):
    return newton_init(problem, x, f, g)


def _step(problem, state, opts):
    solver = CG(gn_product, opts.max_cg, opts.forcing_power, opts.max_forcing)
    lin, t, inner = line_search_step(problem, state, solver, damping=opts.damping, c1=opts.c1,
                                     max_backtracks=opts.max_backtracks)
    state = accepted_state(lin)
    return state, Iterate(state.x, state.f, state.g, step=t, inner=inner)


gauss_newton = Method("gauss-newton", GaussNewtonOptions, _init, _step, restore=newton_restore)
