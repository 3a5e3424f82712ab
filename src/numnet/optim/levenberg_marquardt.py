"""Levenberg–Marquardt with CG and Nielsen's damping rule: method "levenberg-marquardt"."""

import numpy as np

from .base import Iterate, NoProgress, register
from .gauss_newton import damped
from .krylov import forcing_term, truncated_cg
from .newton_cg import check_cg_options, check_positive
from .trust_ncg import gain_ratio, try_point

__all__ = ["levenberg_marquardt"]


def _initial_mu(lin, g, tau):
    """μ₀ = τ · gᵀG g / gᵀg, a Rayleigh quotient standing in for max diag(G) (one product)."""
    gg = float(np.dot(g, g))
    scale = float(np.dot(g, lin.gnvp(g))) / gg if gg > 0 else 1.0
    return tau * (scale if np.isfinite(scale) and scale > 0 else 1.0)


def _gn_decrease(g, sol, mu):
    """Decrease −(gᵀp + ½ pᵀG p) predicted by the undamped Gauss-Newton model."""
    Gp = sol.Ap - mu * sol.p
    return -float(np.dot(g, sol.p) + 0.5 * np.dot(sol.p, Gp))


def _update_mu(mu, nu, rho):
    """Nielsen's rule: after success μ ·= max(⅓, 1 − (2ρ − 1)³), ν = 2; after failure μ ·= ν, ν ·= 2."""
    if rho > 0:
        return mu * max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3), 2.0
    return mu * nu, 2.0 * nu


@register("levenberg-marquardt")
def levenberg_marquardt(problem, x, f, g, *, mu0=None, tau=1e-3, max_mu=1e16, max_cg=50,
                        forcing_power=0.5, max_forcing=0.5):
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
    """
    check_cg_options(max_cg, forcing_power, max_forcing)
    check_positive(tau, "tau")
    check_positive(max_mu, "max_mu")
    lin, nu = problem.at(x), 2.0
    mu = _initial_mu(lin, g, tau) if mu0 is None else check_positive(mu0, "mu0")
    while True:
        rtol = forcing_term(np.linalg.norm(g), forcing_power, max_forcing)
        sol = truncated_cg(damped(lin.gnvp, mu), g, rtol=rtol, max_iter=max_cg)
        trial = try_point(problem, x + sol.p)
        rho = gain_ratio(f, trial, _gn_decrease(g, sol, mu))
        mu, nu = _update_mu(mu, nu, rho)
        if rho > 0:
            lin, x = trial, trial.theta
            f, g = float(lin.value), lin.grad
            yield Iterate(x, f, g, step=float(np.linalg.norm(sol.p)), inner=sol.n_iter)
        elif mu > max_mu:
            raise NoProgress(f"damping μ exceeded max_mu={max_mu:g}")
