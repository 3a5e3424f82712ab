"""Trust-region Newton with Steihaug-CG: method "trust-ncg"."""

from typing import NamedTuple

import numpy as np

from ._checks import check_cg_options, check_non_negative, check_positive
from .base import Iterate, Method
from .newton import (
    CG,
    TrustRegion,
    accepted_state,
    gain_ratio_step,
    hessian,
    newton_init,
    newton_restore,
)

__all__ = ["TrustNCGOptions", "trust_ncg"]


class TrustNCGOptions(NamedTuple):
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
    ``inner`` the number of CG products. The step is
    :func:`~numnet.optim.newton.gain_ratio_step` with the region
    :class:`~numnet.optim.newton.TrustRegion` (Δ in the state).
    """

    initial_radius: float = 1.0
    max_radius: float = 1000.0
    eta: float = 0.15
    max_cg: int = 50
    forcing_power: float = 0.5
    max_forcing: float = 0.5
    min_radius: float = 1e-12

    def check(self):
        check_positive(self.initial_radius, "initial_radius")
        check_positive(self.max_radius, "max_radius")
        check_positive(self.min_radius, "min_radius")
        if self.initial_radius > self.max_radius:
            raise ValueError(
                f"initial_radius={self.initial_radius!r} must not exceed "
                f"max_radius={self.max_radius!r}"
            )
        if not 0 <= check_non_negative(self.eta, "eta") < 0.25:
            raise ValueError(f"eta must be in [0, 0.25), got {self.eta!r}")
        check_cg_options(self.max_cg, self.forcing_power, self.max_forcing)


def _init(problem, x, f, g, opts):
    region = TrustRegion(float(opts.initial_radius), opts.max_radius, opts.eta, opts.min_radius)
    return newton_init(problem, x, f, g, region)


def _step(problem, state, opts):
    solver = CG(hessian, opts.max_cg, opts.forcing_power, opts.max_forcing)
    lin, sol, region = gain_ratio_step(problem, state, solver)
    state = accepted_state(lin, region)
    return state, Iterate(
        state.x, state.f, state.g, step=float(np.linalg.norm(sol.p)), inner=sol.n_iter
    )


trust_ncg = Method("trust-ncg", TrustNCGOptions, _init, _step, restore=newton_restore)
