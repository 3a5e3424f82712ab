"""The one Newton-steps driver: a curvature, a linear solver, and one of two acceptance rules.

Every second-order method here ("newton-cg", "gauss-newton",
"block-gauss-newton", "levenberg-marquardt", "trust-ncg", and "varpro" with
outer="gauss-newton") takes steps p solving (C + μI) p = −g for a
curvature C at the current linearization ``lin``, and accepts them by

- a line search (:func:`line_search_step`): Armijo backtracking from t = 1
  (N&W Algorithm 3.1) that never accepts a non-finite value or gradient; or
- the gain ratio (:func:`gain_ratio_step`): ρ = actual / predicted decrease,
  the step accepted when ρ exceeds the region's threshold and the region —
  Levenberg–Marquardt damping μ (:class:`Damping`) or a trust radius Δ
  (:class:`TrustRegion`) — updated from ρ.

The curvature is a function ``lin -> product``: :func:`hessian` (``lin.hvp``,
the R-operator), :func:`gauss_newton` (``lin.gnvp``), or one returning
:class:`Blocks` (a block-diagonal part, one solve per block).

Solver protocol: ``solver.solve(lin, g, damping=0.0, radius=None)`` returns
a :class:`~numnet.optim.krylov.CGResult`-like ``(p, Ap, n_iter, status)``
with ``Ap`` the curvature (+ damping·I) times p. :class:`CG` is truncated CG
(Steihaug-CG when ``radius`` is given) to the forcing tolerance
η = min(max_forcing, ‖g‖^forcing_power); :class:`~numnet.optim.dense.Direct`
answers the same call by factorizing a dense Gauss-Newton matrix. A solver
that works on its own kind of linearization also defines
``wrap(problem, lin, grad)`` (make one from ``problem.at(x)`` with a known
gradient), ``point(problem, x)`` (one at a trial point, None when not
finite; default :func:`try_point`) and ``usable(lin)`` (may a trial with
ρ high enough be accepted; default: yes, :func:`try_point` has checked). A
solver may also define ``accelerate(problem, lin, sol)``: the trial step
for a solution (e.g. with a geodesic correction), None to reject it.
"""

from typing import Callable, NamedTuple

import numpy as np

from .base import NoProgress, robust_norm
from .krylov import CGResult, forcing_term, model_decrease, steihaug_cg, truncated_cg
from .linesearch import armijo

__all__ = [
    "NewtonState",
    "CG",
    "Blocks",
    "Damping",
    "TrustRegion",
    "hessian",
    "gauss_newton",
    "damped",
    "restrict",
    "descent_step",
    "try_point",
    "gain_ratio",
    "newton_init",
    "newton_restore",
    "line_search_step",
    "gain_ratio_step",
    "accepted_state",
]


class NewtonState(NamedTuple):
    """x, f = J(x), g = ∇J(x), the linearization at x (derived), and the region (gain-ratio methods)."""

    x: np.ndarray
    f: float
    g: np.ndarray
    lin: object = None
    region: object = None
    DERIVED = ("lin",)


def hessian(lin):
    """The exact Hessian product ``lin.hvp`` (R-operator, note 004)."""
    return lin.hvp


def gauss_newton(lin):
    """The Gauss-Newton product ``lin.gnvp`` = Jᵀ ∇²E J v (+ λ∇²R v)."""
    return lin.gnvp


class Blocks(NamedTuple):
    """A block-diagonal curvature: ``parts = ((slice, product), ...)``; each product acts on full vectors."""

    parts: tuple


def damped(product, damping):
    """The product v ↦ product(v) + damping · v (the identity when damping is 0)."""
    if damping == 0:
        return product
    return lambda v: product(v) + damping * v


def restrict(product, block, n):
    """The block P A Pᵀ of an operator A given by ``product``, for the slice ``block`` of length-n vectors."""

    def matvec(v):
        full = np.zeros(n, dtype=v.dtype)
        full[block] = v
        return product(full)[block]

    return matvec


class CG(NamedTuple):
    """Truncated CG on (C + damping·I) p = −g, or Steihaug-CG in ‖p‖ ≤ radius, C = curvature(lin)."""

    curvature: Callable
    max_cg: int = 50
    forcing_power: float = 0.5
    max_forcing: float = 0.5

    def solve(self, lin, g, damping=0.0, radius=None):
        rtol = forcing_term(robust_norm(g), self.forcing_power, self.max_forcing)
        C = self.curvature(lin)
        if isinstance(C, Blocks):
            return _solve_blocks(C, g, damping, rtol, self.max_cg)
        if radius is not None:
            return steihaug_cg(damped(C, damping), g, radius, rtol=rtol, max_iter=self.max_cg)
        return truncated_cg(damped(C, damping), g, rtol=rtol, max_iter=self.max_cg)


def _solve_blocks(C, g, damping, rtol, max_cg):
    """One truncated CG per diagonal block (coupling ignored), all to the same tolerance."""
    p, Ap, inner, status = np.empty_like(g), np.empty_like(g), 0, "converged"
    for block, product in C.parts:
        sol = truncated_cg(
            damped(restrict(product, block, g.size), damping), g[block], rtol=rtol, max_iter=max_cg
        )
        p[block], Ap[block], inner = sol.p, sol.Ap, inner + sol.n_iter
        status = sol.status if status == "converged" else status
    return CGResult(p, Ap, inner, status)


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


def try_point(problem, x):
    """Linearize at a trial point; None when x, its value or its gradient is not finite.

    Computing the gradient here costs one backward pass that an accepted
    step needs anyway (the next iteration starts from it).
    """
    if not np.isfinite(x).all():
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        lin = problem.at(x)
        ok = np.isfinite(lin.value) and np.isfinite(lin.grad).all()
    return lin if ok else None


def gain_ratio(f, trial, predicted):
    """ρ = actual / predicted decrease, −inf for a rejected (None) trial or a non-positive prediction.

    Both decreases get δ = 10 ε max(1, |f|) added (Conn, Gould & Toint,
    Trust-Region Methods, §17.4.2) so that steps whose decrease is at the
    level of rounding near a minimizer are judged by the model, not by noise.
    """
    if trial is None or not predicted > 0:
        return -np.inf
    delta = 10 * np.finfo(trial.theta.dtype).eps * max(1.0, abs(f))
    return (f - float(trial.value) + delta) / (predicted + delta)


class Damping(NamedTuple):
    """Levenberg–Marquardt damping μ with Nielsen's factor ν; gives up when μ exceeds ``max_mu``.

    The step solves (G + μI) p = −g; the predicted decrease is that of the
    undamped Gauss-Newton model, −(gᵀp + ½ pᵀG p) with G p = (A p) − μ p.
    Nielsen's rule (Madsen, Nielsen & Tingleff 2004, Algorithm 3.16): after
    success (ρ > 0) μ ← μ max(⅓, 1 − (2ρ − 1)³), ν ← 2; after failure
    μ ← μν, ν ← 2ν.
    """

    mu: float
    nu: float = 2.0
    max_mu: float = 1e16

    def solve(self, solver, lin, g):
        return solver.solve(lin, g, damping=self.mu)

    def predicted(self, g, sol):
        Gp = sol.Ap - self.mu * sol.p
        return -float(np.dot(g, sol.p) + 0.5 * np.dot(sol.p, Gp))

    def accepts(self, rho):
        return rho > 0

    def update(self, rho, sol):
        if rho > 0:
            return self._replace(mu=self.mu * max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3), nu=2.0)
        return self._replace(mu=self.mu * self.nu, nu=2.0 * self.nu)

    def check(self):
        if self.mu > self.max_mu:
            raise NoProgress(f"damping μ exceeded max_mu={self.max_mu:g}")


class TrustRegion(NamedTuple):
    """Trust radius Δ (N&W Algorithm 4.1): accept when ρ > eta; give up when Δ < ``min_radius``.

    Δ ← ¼ min(Δ, ‖p‖) if ρ < ¼ (N&W shrink ¼Δ, capped by ‖p‖ so that a
    rejected interior step is not tried again), Δ ← min(2Δ, Δ_max) if ρ > ¾
    and the step reached the boundary; the predicted decrease is the model's
    −(gᵀp + ½ pᵀH p).
    """

    radius: float
    max_radius: float = 1000.0
    eta: float = 0.15
    min_radius: float = 1e-12

    def solve(self, solver, lin, g):
        return solver.solve(lin, g, radius=self.radius)

    def predicted(self, g, sol):
        return model_decrease(g, sol)

    def accepts(self, rho):
        return rho > self.eta

    def update(self, rho, sol):
        step = float(np.linalg.norm(sol.p))
        if rho < 0.25:
            return self._replace(radius=0.25 * min(self.radius, step))
        if rho > 0.75 and sol.status == "boundary":
            return self._replace(radius=min(2.0 * self.radius, self.max_radius))
        return self

    def check(self):
        if self.radius < self.min_radius:
            raise NoProgress(f"trust radius fell below min_radius={self.min_radius:g}")


def newton_init(problem, x, f, g, region=None, solver=None):
    """The first state: one linearization at x (a forward pass), in the form ``solver`` works on."""
    return NewtonState(x, f, g, _wrap(solver, problem, problem.at(x), g), region)


def newton_restore(problem, state, opts, solver=None):
    """Rebuild the linearization of a state read from a checkpoint (not counted again)."""
    return state._replace(lin=_wrap(solver, problem, problem.restore(state.x), state.g))


def _wrap(solver, problem, lin, grad):
    wrap = getattr(solver, "wrap", None)
    return lin if wrap is None else wrap(problem, lin, grad)


def accepted_state(lin, region=None):
    """The state at an accepted linearization: x, f, ∇f read from it."""
    return NewtonState(lin.theta, float(lin.value), lin.grad, lin, region)


def line_search_step(problem, state, solver, *, damping=0.0, c1=1e-4, max_backtracks=30):
    """Solve (C + damping·I) p = −g, then Armijo from t = 1: returns (accepted linearization, t, products)."""
    sol = solver.solve(state.lin, state.g, damping=damping)
    t, lin = descent_step(
        problem, state.x, state.f, state.g, sol.p, c1=c1, max_backtracks=max_backtracks
    )
    return _wrap(solver, problem, lin, lin.grad), t, sol.n_iter


def gain_ratio_step(problem, state, solver):
    """Trial steps x + p until ``state.region`` accepts one: returns (linearization, solution, region).

    Each trial solves with the region's damping or radius, evaluates
    ρ = :func:`gain_ratio` of the actual and the region's predicted decrease
    (a non-finite trial has ρ = −∞, also one the solver finds unusable when
    ρ would accept it), updates the region from ρ, and — when rejected —
    lets the region raise ``NoProgress`` if it is exhausted.
    """
    region, hooks = state.region, _Hooks.of(solver)
    while True:
        sol = region.solve(solver, state.lin, state.g)
        step = hooks.accelerate(problem, state.lin, sol)
        trial = None if step is None else hooks.point(problem, state.x + step)
        rho = gain_ratio(state.f, trial, region.predicted(state.g, sol))
        if region.accepts(rho) and not hooks.usable(trial):
            rho = -np.inf
        accepted, region = region.accepts(rho), region.update(rho, sol)
        if accepted:
            return trial, (sol if step is sol.p else sol._replace(p=step)), region
        region.check()


class _Hooks(NamedTuple):
    """A solver's optional ``accelerate``, ``point`` and ``usable``, or their defaults."""

    accelerate: Callable
    point: Callable
    usable: Callable

    @classmethod
    def of(cls, solver):
        return cls(
            getattr(solver, "accelerate", lambda problem, lin, sol: sol.p),
            getattr(solver, "point", try_point),
            getattr(solver, "usable", lambda lin: True),
        )
