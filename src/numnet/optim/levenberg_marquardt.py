"""Levenberg–Marquardt with CG and Nielsen's damping rule: method "levenberg-marquardt"."""

from typing import NamedTuple

import numpy as np

from ._checks import check_cg_options, check_positive
from .base import Iterate, Method
from .newton import CG, Damping, accepted_state, gain_ratio_step, gauss_newton, newton_init, newton_restore

__all__ = ["LevenbergMarquardtOptions", "levenberg_marquardt"]


class LevenbergMarquardtOptions(NamedTuple):
    """Levenberg–Marquardt: CG on (G + μI) p = −g with μ adapted by the gain ratio.

    **Options**

    mu0 : float, optional
        Initial damping μ₀; by default τ · gᵀG g / gᵀg at the start.
    tau : float, default=1e-3
        Scale of the default μ₀ (small: start close to Gauss-Newton).
    max_mu : float, default=1e16
        Give up (``NoProgress``) when μ exceeds this.
    max_cg : int, default=50
        Maximum Gauss-Newton products per iteration.
    forcing_power, max_forcing : float, default=0.5, 0.5
        CG relative tolerance min(max_forcing, ‖g‖^forcing_power).

    Notes
    -----
    Note 004, outer-product ("Levenberg–Marquardt") approximation of the
    Hessian, G = Jᵀ ∇²E J (+ λ∇²R), via ``lin.gnvp`` of one linearization
    per iteration. The step solves (G + μI) p = −g by CG; the gain ratio
    ρ = (f(x) − f(x + p)) / (−gᵀp − ½ pᵀG p) accepts the step when ρ > 0
    and updates μ by Nielsen's rule (Madsen, Nielsen & Tingleff, *Methods
    for Non-Linear Least Squares Problems*, 2004, Algorithm 3.16; Nocedal &
    Wright §10.3): μ ← μ max(⅓, 1 − (2ρ − 1)³), ν ← 2 on success, μ ← μν,
    ν ← 2ν on failure. A trial with a NaN or ±inf value or gradient is a
    failure. Large μ gives short gradient steps, small μ Gauss-Newton steps.
    The step is :func:`~numnet.optim.newton.gain_ratio_step` with the region
    :class:`~numnet.optim.newton.Damping` (μ, ν in the state).
    """

    mu0: float | None = None
    tau: float = 1e-3
    max_mu: float = 1e16
    max_cg: int = 50
    forcing_power: float = 0.5
    max_forcing: float = 0.5

    def check(self):
        check_cg_options(self.max_cg, self.forcing_power, self.max_forcing)
        check_positive(self.tau, "tau")
        check_positive(self.max_mu, "max_mu")
        if self.mu0 is not None:
            check_positive(self.mu0, "mu0")


def _initial_mu(lin, g, tau):
    """μ₀ = τ · gᵀG g / gᵀg, a Rayleigh quotient standing in for max diag(G) (one product)."""
    gg = float(np.dot(g, g))
    scale = float(np.dot(g, lin.gnvp(g))) / gg if gg > 0 else 1.0
    return tau * (scale if np.isfinite(scale) and scale > 0 else 1.0)


def _init(problem, x, f, g, opts):
    state = newton_init(problem, x, f, g)
    mu = _initial_mu(state.lin, g, opts.tau) if opts.mu0 is None else opts.mu0
    return state._replace(region=Damping(mu, 2.0, opts.max_mu))


def _step(problem, state, opts):
    solver = CG(gauss_newton, opts.max_cg, opts.forcing_power, opts.max_forcing)
    lin, sol, region = gain_ratio_step(problem, state, solver)
    state = accepted_state(lin, region)
    return state, Iterate(state.x, state.f, state.g, step=float(np.linalg.norm(sol.p)), inner=sol.n_iter)


levenberg_marquardt = Method("levenberg-marquardt", LevenbergMarquardtOptions, _init, _step,
                             restore=newton_restore)
