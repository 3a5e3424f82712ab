"""Gauss-Newton with a line search, dense or CG solves: method "gauss-newton"."""

from typing import NamedTuple

from ._checks import check_cg_options, check_int, check_non_negative, check_open_unit
from .base import Iterate, Method
from .linear_solver import (
    DENSE_MAX_PARAMS,
    check_problem,
    check_solver_options,
    describe_solver,
    gauss_newton_solver,
    init_state,
    restore_state,
    solver_name,
)
from .dense import Direct
from .newton import accepted_state, line_search_step

__all__ = ["GaussNewtonOptions", "gauss_newton"]


class GaussNewtonOptions(NamedTuple):
    """Gauss-Newton: solve (G + damping·D) p = −g, then an Armijo line search.

    **Options**

    damping : float, default=0.0
        Constant shift added to the Gauss-Newton matrix (≥ 0); a small
        value regularizes a rank-deficient G.
    solver : {"auto", "dense", "cg"}, default="auto"
        "dense" forms G (p × p) once per iteration and factorizes it
        (:mod:`numnet.optim.dense`); "cg" solves matrix-free by truncated
        CG; "auto" is "dense" when p · n_outputs ≤ ``dense_max_params``
        and the objective has a dense form (an Objective, or a
        FunctionObjective with ``jac``), else "cg". The history's ``solver`` entry and the
        result's message say which ran.
    dense_max_params : int, default=1000
        Largest p · n_outputs (the network's outputs; 1 for a
        FunctionObjective) for which "auto" picks the dense path: forming
        G costs n·n_outputs·p², a CG product about n·p (measured, see
        :mod:`numnet.optim.linear_solver`).
    scaling : {"identity", "marquardt"}, default="identity"
        D in the damping term: I, or Marquardt's diag(G) (dense path only;
        only used when damping > 0).
    max_cg : int, default=50
        Maximum Gauss-Newton products per iteration (CG path).
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
    approximation). On the CG path ``lin.gnvp`` composes G v from one
    ``jvp`` and one ``vjp`` of a single linearization per iteration and CG
    (:func:`~numnet.optim.krylov.truncated_cg`) solves G p = −g inexactly;
    on the dense path G is formed from the per-sample Jacobians and the
    system solved by Cholesky, or — when G + damping·D is (nearly)
    singular — by its eigendecomposition with the minimum-norm solution
    (the Gauss-Newton step of the linear least-squares problem
    min ‖R p + r‖). Nocedal & Wright §10.3 (Gauss-Newton with a line
    search), Armijo from t = 1 (Algorithm 3.1), rejecting non-finite values
    and gradients. On the CG path the step is
    :func:`~numnet.optim.newton.line_search_step`; on the dense path a
    rejected exact step is followed by stages that try both the halved
    step and the step with G's eigenvalues floored at a growing fraction
    of the largest (N&W §3.4; :meth:`~numnet.optim.dense.Direct.search`),
    so that a near-singular G — softmax's shift invariance, an RNN — does
    not stall the run. The history's ``floor`` entry (dense path) is the
    relative floor ρ of the accepted step, 0 for the exact or a halved one.
    """

    damping: float = 0.0
    solver: str = "auto"
    dense_max_params: int = DENSE_MAX_PARAMS
    scaling: str = "identity"
    max_cg: int = 50
    forcing_power: float = 0.5
    max_forcing: float = 0.5
    c1: float = 1e-4
    max_backtracks: int = 30

    def check(self):
        check_non_negative(self.damping, "damping")
        check_solver_options(self.solver, self.dense_max_params, self.scaling)
        check_cg_options(self.max_cg, self.forcing_power, self.max_forcing)
        check_open_unit(self.c1, "c1")
        check_int(self.max_backtracks, "max_backtracks", minimum=0)


def _init(problem, x, f, g, opts):
    return init_state(problem, x, f, g, opts)


def _step(problem, state, opts):
    solver = gauss_newton_solver(problem, state.x.size, opts)
    info = {"solver": solver_name(solver)}
    if isinstance(solver, Direct):
        lin, info["floor"], t = solver.search(
            problem, state, damping=opts.damping, c1=opts.c1, max_backtracks=opts.max_backtracks
        )
        inner = 0
    else:
        lin, t, inner = line_search_step(
            problem,
            state,
            solver,
            damping=opts.damping,
            c1=opts.c1,
            max_backtracks=opts.max_backtracks,
        )
    state = accepted_state(lin)
    return state, Iterate(state.x, state.f, state.g, step=t, inner=inner, info=info)


gauss_newton = Method(
    "gauss-newton",
    GaussNewtonOptions,
    _init,
    _step,
    restore=restore_state,
    check_problem=check_problem,
    describe=describe_solver,
)
