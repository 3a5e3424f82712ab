"""Levenberg–Marquardt with Nielsen's damping rule, dense or CG solves: method "levenberg-marquardt"."""

from typing import NamedTuple

import numpy as np

from ._checks import check_bool, check_cg_options, check_positive
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
from .newton import Damping, accepted_state, gain_ratio_step

__all__ = ["LevenbergMarquardtOptions", "levenberg_marquardt"]


class LevenbergMarquardtOptions(NamedTuple):
    """Levenberg–Marquardt: solve (G + μD) p = −g with μ adapted by the gain ratio.

    **Options**

    mu0 : float, optional
        Initial damping μ₀; by default τ · gᵀG g / gᵀg at the start (τ with
        ``scaling="marquardt"``, where D^-½ G D^-½ has a unit diagonal).
    tau : float, default=1e-3
        Scale of the default μ₀ (small: start close to Gauss-Newton).
    max_mu : float, default=1e16
        Give up (``NoProgress``) when μ exceeds this.
    solver : {"auto", "dense", "cg"}, default="auto"
        "dense" forms G (p × p) once per iteration and factorizes it
        (:mod:`numnet.optim.dense`: Cholesky per μ, one eigendecomposition
        serving a run of rejected steps); "cg" solves matrix-free by
        truncated CG; "auto" is "dense" when p · n_outputs ≤
        ``dense_max_params`` and the objective has a dense form (an
        Objective, or a FunctionObjective with ``jac``), else "cg". The history's
        ``solver`` entry and the result's message say which ran.
    dense_max_params : int, default=1000
        Largest p · n_outputs (the network's outputs; 1 for a
        FunctionObjective) for which "auto" picks the dense path: forming
        G costs n·n_outputs·p², a CG product about n·p (measured, see
        :mod:`numnet.optim.linear_solver`).
    scaling : {"identity", "marquardt"}, default="identity"
        D: I (Levenberg), or Marquardt's diag(G) (dense path only), which
        makes the steps invariant to a rescaling of the parameters.
    geodesic : bool, default=True
        Geodesic acceleration (:mod:`numnet.optim.geodesic`): each trial
        step v becomes v + ½a, a from the second directional derivative
        of the outputs (one more forward pass and one more solve with the
        same factorization). Only used on the dense path.
    max_cg : int, default=50
        Maximum Gauss-Newton products per iteration (CG path).
    forcing_power, max_forcing : float, default=0.5, 0.5
        CG relative tolerance min(max_forcing, ‖g‖^forcing_power).

    Notes
    -----
    Note 004, outer-product ("Levenberg–Marquardt") approximation of the
    Hessian, G = Jᵀ ∇²E J (+ λ∇²R), of one linearization per iteration.
    The step solves (G + μD) p = −g, by CG on ``lin.gnvp`` or by a
    factorization of the formed G; the gain ratio
    ρ = (f(x) − f(x + p)) / (−gᵀp − ½ pᵀG p) accepts the step when ρ > 0
    and updates μ by Nielsen's rule (Madsen, Nielsen & Tingleff, *Methods
    for Non-Linear Least Squares Problems*, 2004, Algorithm 3.16; Nocedal &
    Wright §10.3): μ ← μ max(⅓, 1 − (2ρ − 1)³), ν ← 2 on success, μ ← μν,
    ν ← 2ν on failure. A trial with a NaN or ±inf value or gradient is a
    failure. Large μ gives short gradient steps, small μ Gauss-Newton steps.
    The step is :func:`~numnet.optim.newton.gain_ratio_step` with the region
    :class:`~numnet.optim.newton.Damping` (μ, ν in the state); with
    ``geodesic`` the trial step is v + ½a (Transtrum & Sethna 2012) and
    the gain ratio compares the actual decrease with the one predicted for v.
    The default ``dense_max_params`` is measured: see
    :mod:`numnet.optim.linear_solver`.
    """

    mu0: float | None = None
    tau: float = 1e-3
    max_mu: float = 1e16
    solver: str = "auto"
    dense_max_params: int = DENSE_MAX_PARAMS
    scaling: str = "identity"
    geodesic: bool = True
    max_cg: int = 50
    forcing_power: float = 0.5
    max_forcing: float = 0.5

    def check(self):
        check_solver_options(self.solver, self.dense_max_params, self.scaling)
        check_bool(self.geodesic, "geodesic")
        check_cg_options(self.max_cg, self.forcing_power, self.max_forcing)
        check_positive(self.tau, "tau")
        check_positive(self.max_mu, "max_mu")
        if self.mu0 is not None:
            check_positive(self.mu0, "mu0")


def _initial_mu(lin, g, tau, scaling="identity"):
    """μ₀ = τ · gᵀG g / gᵀg, a Rayleigh quotient standing in for max diag(G) (one product); τ when scaled."""
    if scaling != "identity":
        return tau
    gg = float(np.dot(g, g))
    scale = float(np.dot(g, lin.gnvp(g))) / gg if gg > 0 else 1.0
    return tau * (scale if np.isfinite(scale) and scale > 0 else 1.0)


def _init(problem, x, f, g, opts):
    state = init_state(problem, x, f, g, opts)
    mu = _initial_mu(state.lin, g, opts.tau, opts.scaling) if opts.mu0 is None else opts.mu0
    return state._replace(region=Damping(mu, 2.0, opts.max_mu))


def _step(problem, state, opts):
    solver = gauss_newton_solver(problem, state.x.size, opts)
    lin, sol, region = gain_ratio_step(problem, state, solver)
    state = accepted_state(lin, region)
    return state, Iterate(
        state.x,
        state.f,
        state.g,
        step=float(np.linalg.norm(sol.p)),
        inner=sol.n_iter,
        info={"solver": solver_name(solver)},
    )


levenberg_marquardt = Method(
    "levenberg-marquardt",
    LevenbergMarquardtOptions,
    _init,
    _step,
    restore=restore_state,
    check_problem=check_problem,
    describe=describe_solver,
)
