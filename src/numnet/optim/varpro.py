"""Variable projection: eliminate the linear output layer; method "varpro"."""

from functools import cached_property
from typing import NamedTuple

import numpy as np

from ._checks import (
    check_cg_options,
    check_choice,
    check_int,
    check_non_negative,
    check_open_unit,
    check_whole_objective,
)
from .base import Iterate, Method
from .linesearch import get_line_search
from .newton import CG, NewtonState, gauss_newton, line_search_step
from .output_layer import (
    DENSE_LIMIT,
    OutputLayerSolver,
    output_hessian,
    project_output_layer,
    psd_factor,
)
from .quasi_newton import LBFGS, QuasiNewtonState, quasi_newton_step

__all__ = [
    "VarproOptions",
    "VarproState",
    "varpro",
    "OutputLayerSolver",
    "output_hessian",
    "project_output_layer",
    "psd_factor",
    "DENSE_LIMIT",
]

OUTER = ("gauss-newton", "lbfgs")
CURVATURES = ("block", "schur")


class VarproOptions(NamedTuple):
    """Variable projection: optimize the hidden parameters, solve for the output layer exactly.

    **Options**

    outer : {"gauss-newton", "lbfgs"}, default="gauss-newton"
        Method on the reduced problem Φ(θ_h).
    curvature : {"block", "schur"}, default="block"
        Reduced Gauss-Newton matrix (only used when outer="gauss-newton"):
        "block" the hidden block G_hh of the Gauss-Newton matrix G at
        (θ_h, w*); "schur" its Schur complement G_hh − G_hw G_ww⁻¹ G_wh,
        which accounts for w* following θ_h (two G products per CG
        iteration plus a dense solve with G_ww; output layers of at most
        :data:`DENSE_LIMIT` parameters).
    inner_reg : float, default=0.0
        Extra ridge ½·inner_reg·‖W_out‖² on the output weights, added to Φ
        (the objective's own Tikhonov is always included); 0 keeps Φ(θ_h)
        = min_w J(θ_h, w) exactly.
    max_inner : int, default=20
        Newton iterations of the inner solve (losses other than least squares).
    inner_gtol : float, default=1e-10
        Gradient tolerance of the inner Newton solve.
    max_cg, forcing_power, max_forcing, c1, max_backtracks
        As for "gauss-newton"; only used when outer="gauss-newton".
    memory : int, default=10
        L-BFGS pairs; only used when outer="lbfgs".

    Notes
    -----
    Golub & Pereyra, *Separable nonlinear least squares: the variable
    projection method and its applications* (Inverse Problems, 2003);
    notes 000 (block structure of the single-layer problem). With
    θ = (θ_h, w), w the output layer's (W, b) and F = Z(θ_h) W + b, the
    reduced objective is Φ(θ_h) = J(θ_h, w*(θ_h)), w*(θ_h) = argmin_w J(θ_h, w),
    a convex problem in w solved exactly (:class:`OutputLayerSolver`).
    By the chain rule,

        ∇Φ(θ_h) = ∂J/∂θ_h(θ_h, w*) + (∂w*/∂θ_h)ᵀ ∂J/∂w(θ_h, w*) = ∂J/∂θ_h(θ_h, w*),

    because ∂J/∂w = 0 at the minimizer w*: the variable-projection gradient
    is the ordinary backpropagation gradient's hidden block at (θ_h, w*);
    dw*/dθ_h is never formed. Outer "gauss-newton" solves S p = −∇Φ by CG
    with an Armijo search on Φ, where S is either the hidden block
    P_h G P_hᵀ of the Gauss-Newton matrix at (θ_h, w*) (coupling through w*
    ignored, as notes 000 ignores the coupling of the blocks), or its Schur
    complement S = G_hh − G_hw G_ww⁻¹ G_wh: differentiating the inner
    optimality condition gives dw*/dθ_h ≈ −G_ww⁻¹ G_wh, and S is the
    Gauss-Newton matrix of the reduced problem built from the total
    Jacobian J_h + J_w dw*/dθ_h (Kaufman's variant for least squares,
    where S = J_hᵀ (I − P_w) J_h with P_w the projector onto range J_w).
    S v = P_h G [v; −z] with z = G_ww⁻¹ P_w G [v; 0], because the output
    rows of G [v; −z] vanish. "lbfgs" runs L-BFGS on Φ. Every trial point
    costs one inner solve and one linearization. The first iterate is the
    projection of the start (θ_h, w*(θ_h)); every iterate is the full θ,
    J(θ) and ∇J(θ). The state (:class:`VarproState`) is θ, the warm start
    w and the outer method's state (a
    :class:`~numnet.optim.newton.NewtonState` on Φ, stepped by
    :func:`~numnet.optim.newton.line_search_step`, or a
    :class:`~numnet.optim.quasi_newton.QuasiNewtonState`).
    """

    outer: str = "gauss-newton"
    curvature: str = "block"
    inner_reg: float = 0.0
    max_inner: int = 20
    inner_gtol: float = 1e-10
    max_cg: int = 50
    forcing_power: float = 0.5
    max_forcing: float = 0.5
    c1: float = 1e-4
    max_backtracks: int = 30
    memory: int = 10

    def check(self):
        check_choice(self.outer, "outer", OUTER)
        check_choice(self.curvature, "curvature", CURVATURES)
        check_non_negative(self.inner_reg, "inner_reg")
        check_int(self.max_inner, "max_inner")
        check_non_negative(self.inner_gtol, "inner_gtol")
        check_cg_options(self.max_cg, self.forcing_power, self.max_forcing)
        check_open_unit(self.c1, "c1")
        check_int(self.max_backtracks, "max_backtracks", minimum=0)
        check_int(self.memory, "memory")


class VarproState(NamedTuple):
    """θ (the last iterate), w (warm start of the inner solve), and the outer method's state (None: not projected)."""

    theta: np.ndarray
    w: np.ndarray
    outer: object = None


class _ReducedLinearization:
    """Φ at θ_h: value, gradient ∂J/∂θ_h at w*, and reduced Gauss-Newton products (block or Schur)."""

    def __init__(self, full, n_h, penalty, solver=None):
        self.full, self.n_h, self.solver = full, n_h, solver
        self.theta, self.w = full.theta[:n_h], full.theta[n_h:]
        self.value = float(full.value) + penalty

    @property
    def grad(self):
        return self.full.grad[: self.n_h]

    @cached_property
    def _solve_ww(self):
        return self.solver.output_solver(self.full.F, self.solver.with_ones(self.full.cache[-1].X))

    def gnvp(self, v):
        """G_hh v ("block"), or the Schur complement (G_hh − G_hw G_ww⁻¹ G_wh) v = P_h G [v; −z] ("schur")."""
        pad = np.zeros(self.full.theta.size, dtype=v.dtype)
        pad[: self.n_h] = v
        Gv = self.full.gnvp(pad)
        if self.solver is None:
            return Gv[: self.n_h]
        pad[self.n_h :] = -self._solve_ww(Gv[self.n_h :])
        return self.full.gnvp(pad)[: self.n_h]


class _Reduced:
    """The reduced problem θ_h ↦ Φ(θ_h) = min_w J(θ_h, w) (+ ½·inner_reg·‖W‖²) for the line searches."""

    def __init__(self, problem, solver, w0, schur=False):
        self.problem, self.solver, self.w, self.schur = problem, solver, w0, schur
        self.n_h = problem.objective.net.slices[-1].start
        self.W_mask = ~solver.out.bias_mask()
        self.trials = {}

    def at(self, theta_h):
        """Φ at θ_h: the inner solve w*(θ_h) (warm-started), then one linearization at (θ_h, w*)."""
        Z = self.solver.features(theta_h)
        w = self.solver.solve(Z, self.w) if np.isfinite(Z).all() else self.w
        lin = self.linearize(self.problem.at(np.concatenate([theta_h, w])))
        self.trials[id(lin.theta)] = lin
        return lin

    def linearize(self, full):
        """Φ's linearization from the full one at θ = (θ_h, w), with the penalty ½·inner_reg·‖W‖²."""
        W = full.theta[self.n_h :][self.W_mask]
        return _ReducedLinearization(
            full,
            self.n_h,
            0.5 * self.solver.inner_reg * float(np.dot(W, W)),
            self.solver if self.schur else None,
        )

    def accepted(self, theta_h):
        """The linearization of an accepted trial point; warm start from its w, forget the rest."""
        lin = self.trials[id(theta_h)]
        self.trials, self.w = {}, lin.w.copy()
        return lin


def _solver(problem, opts):
    solver = OutputLayerSolver(
        problem.objective,
        inner_reg=opts.inner_reg,
        max_inner=opts.max_inner,
        inner_gtol=opts.inner_gtol,
        counts=problem.counts,
    )
    if opts.curvature == "schur" and solver.out.n_params > DENSE_LIMIT:
        raise ValueError(
            f"curvature='schur' needs an output layer of at most {DENSE_LIMIT} parameters, "
            f"got {solver.out.n_params}"
        )
    return solver


def _check_problem(problem, opts):
    check_whole_objective(problem, "varpro")
    _solver(problem, opts)


def _reduced(problem, state, opts):
    return _Reduced(problem, _solver(problem, opts), state.w, schur=opts.curvature == "schur")


def _outer_state(lin, outer):
    """The outer method's state at the reduced linearization ``lin`` (memory carried over for L-BFGS)."""
    if isinstance(outer, QuasiNewtonState):
        return outer._replace(x=lin.theta, f=lin.value, g=lin.grad)
    return NewtonState(lin.theta, lin.value, lin.grad, lin)


def _iterate(reduced, lin, outer, t, inner):
    state = VarproState(lin.full.theta, reduced.w, outer)
    return state, Iterate(lin.full.theta, float(lin.full.value), lin.full.grad, step=t, inner=inner)


def _project(problem, state, opts):
    """The first iterate: (θ_h, w*(θ_h)) from the start."""
    reduced = _reduced(problem, state, opts)
    lin = reduced.accepted(reduced.at(state.theta[: reduced.n_h]).theta)
    empty = QuasiNewtonState(None, None, None) if opts.outer == "lbfgs" else None
    return _iterate(reduced, lin, _outer_state(lin, empty), 0.0, 0)


def _gauss_newton_step(problem, state, opts):
    """Gauss-Newton on Φ with the reduced Gauss-Newton products of ``lin.gnvp``, Armijo on Φ."""
    reduced = _reduced(problem, state, opts)
    solver = CG(gauss_newton, opts.max_cg, opts.forcing_power, opts.max_forcing)
    trial, t, inner = line_search_step(
        reduced, state.outer, solver, c1=opts.c1, max_backtracks=opts.max_backtracks
    )
    lin = reduced.accepted(trial.theta)
    return _iterate(reduced, lin, _outer_state(lin, None), t, inner)


def _lbfgs_step(problem, state, opts):
    """L-BFGS on Φ (:class:`~numnet.optim.quasi_newton.LBFGS`, strong Wolfe line search)."""
    reduced = _reduced(problem, state, opts)
    memory = LBFGS(opts.memory).restore(state.outer.memory)
    outer, it = quasi_newton_step(reduced, state.outer, memory, get_line_search("wolfe"))
    lin = reduced.accepted(it.x)
    return _iterate(reduced, lin, outer, it.step, 0)


def _init(problem, x, f, g, opts):
    n_h = problem.objective.net.slices[-1].start
    return VarproState(x, x[n_h:].copy())


def _step(problem, state, opts):
    if state.outer is None:
        return _project(problem, state, opts)
    if opts.outer == "gauss-newton":
        return _gauss_newton_step(problem, state, opts)
    return _lbfgs_step(problem, state, opts)


def _restore(problem, state, opts):
    """Rebuild the reduced linearization at θ of a state read from a checkpoint (Gauss-Newton outer)."""
    if not isinstance(state.outer, NewtonState):
        return state
    reduced = _reduced(problem, state, opts)
    lin = reduced.linearize(problem.restore(state.theta))
    return state._replace(outer=state.outer._replace(lin=lin))


varpro = Method(
    "varpro",
    VarproOptions,
    _init,
    _step,
    restore=_restore,
    check_problem=_check_problem,
    needs_network=True,
)
