"""Truncated (line-search) Newton-CG: method "newton-cg"."""

from typing import NamedTuple

from ._checks import check_cg_options, check_int, check_open_unit
from .base import Iterate, Method
from .newton import CG, accepted_state, hessian, line_search_step, newton_init, newton_restore

__all__ = ["NewtonCGOptions", "newton_cg"]


class NewtonCGOptions(NamedTuple):
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
    ``inner`` in the history is the number of CG products. The step is
    :func:`~numnet.optim.newton.line_search_step` with the curvature
    :func:`~numnet.optim.newton.hessian`; the state is a
    :class:`~numnet.optim.newton.NewtonState`.
    """

    max_cg: int = 50
    forcing_power: float = 0.5
    max_forcing: float = 0.5
    c1: float = 1e-4
    max_backtracks: int = 30

    def check(self):
        check_cg_options(self.max_cg, self.forcing_power, self.max_forcing)
        check_open_unit(self.c1, "c1")
        check_int(self.max_backtracks, "max_backtracks", minimum=0)


def _init(problem, x, f, g, opts):
    return newton_init(problem, x, f, g)


def _step(problem, state, opts):
    solver = CG(hessian, opts.max_cg, opts.forcing_power, opts.max_forcing)
    lin, t, inner = line_search_step(
        problem, state, solver, c1=opts.c1, max_backtracks=opts.max_backtracks
    )
    state = accepted_state(lin)
    return state, Iterate(state.x, state.f, state.g, step=t, inner=inner)


newton_cg = Method("newton-cg", NewtonCGOptions, _init, _step, restore=newton_restore)
