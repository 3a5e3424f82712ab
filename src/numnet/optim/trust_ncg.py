"""Trust-region Newton with Steihaug-CG: method "trust-ncg"."""

import numpy as np

from .base import Iterate, NoProgress, register
from .krylov import forcing_term, model_decrease, steihaug_cg
from .newton_cg import check_cg_options, check_positive

__all__ = ["gain_ratio", "trust_ncg", "try_point"]


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


def _check(initial_radius, max_radius, eta, min_radius):
    check_positive(initial_radius, "initial_radius")
    check_positive(max_radius, "max_radius")
    check_positive(min_radius, "min_radius")
    if initial_radius > max_radius:
        raise ValueError(f"initial_radius={initial_radius!r} must not exceed max_radius={max_radius!r}")
    if not 0 <= eta < 0.25:
        raise ValueError(f"eta must be in [0, 0.25), got {eta!r}")


def _new_radius(radius, rho, step_norm, on_boundary, max_radius):
    """N&W Algorithm 4.1: shrink when ρ < ¼, expand when ρ > ¾ at the boundary."""
    if rho < 0.25:
        return 0.25 * min(radius, step_norm)
    if rho > 0.75 and on_boundary:
        return min(2.0 * radius, max_radius)
    return radius


@register("trust-ncg")
def trust_ncg(problem, x, f, g, *, initial_radius=1.0, max_radius=1000.0, eta=0.15, max_cg=50,
              forcing_power=0.5, max_forcing=0.5, min_radius=1e-12):
    """Trust-region Newton-CG: Steihaug-CG on the exact Hessian, ratio test, radius update.

    **Options**

    initial_radius : float, default=1.0
        Δ₀.
    max_radius : float, default=1000.0
        Upper bound on Δ.
    eta : float, default=0.15
        Accept the step when ρ = actual/predicted decrease > eta, 0 ≤ eta < ¼.
    max_cg : int, default=50
        Maximum Hessian-vector products per iteration.
    forcing_power, max_forcing : float, default=0.5, 0.5
        CG stops inside the region when ‖H p + g‖ ≤ min(max_forcing,
        ‖g‖^forcing_power) ‖g‖ (superlinear local convergence).
    min_radius : float, default=1e-12
        Give up (``NoProgress``) when Δ falls below this.

    Notes
    -----
    Nocedal & Wright, Algorithm 4.1 (trust region) with Algorithm 7.2
    (CG-Steihaug) as the subproblem solver: p ≈ argmin gᵀp + ½ pᵀHp,
    ‖p‖ ≤ Δ, using ``lin.hvp`` of one linearization per iteration (the
    R-operator of note 004). ρ = (f(x) − f(x + p)) / (−m(p)); Δ ← ¼ min(Δ, ‖p‖)
    if ρ < ¼ (N&W shrink ¼Δ, capped by ‖p‖ so that a rejected interior
    step is not tried again), Δ ← min(2Δ, Δ_max) if ρ > ¾ and ‖p‖ = Δ. A
    trial whose value or gradient is NaN or ±inf has ρ = −∞: it is
    rejected and the region shrinks. ``step`` in the history is ‖p‖,
    ``inner`` the number of CG products.
    """
    _check(initial_radius, max_radius, eta, min_radius)
    check_cg_options(max_cg, forcing_power, max_forcing)
    lin, radius = problem.at(x), float(initial_radius)
    while True:
        rtol = forcing_term(np.linalg.norm(g), forcing_power, max_forcing)
        sol = steihaug_cg(lin.hvp, g, radius, rtol=rtol, max_iter=max_cg)
        trial = try_point(problem, x + sol.p)
        rho, step = gain_ratio(f, trial, model_decrease(g, sol)), float(np.linalg.norm(sol.p))
        radius = _new_radius(radius, rho, step, sol.status == "boundary", max_radius)
        if rho > eta:
            lin, x = trial, trial.theta
            f, g = float(lin.value), lin.grad
            yield Iterate(x, f, g, step=step, inner=sol.n_iter)
        elif radius < min_radius:
            raise NoProgress(f"trust radius fell below min_radius={min_radius:g}")
