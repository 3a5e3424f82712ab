"""Natural-gradient steps preconditioned by damped KFAC, damping by the gain ratio: method "kfac"."""

from typing import NamedTuple

import numpy as np

from ..curvature import check_kfac_network
from ..curvature import kfac as kfac_operator
from ..curvature.factors import KINDS, PREDICTIVE_LOSSES
from ..curvature.kfac import BIAS_MODES
from ._checks import check_bool, check_choice, check_int, check_positive, check_whole_objective
from .base import Iterate, Method
from .krylov import CGResult
from .newton import Damping, gain_ratio_step, newton_restore

__all__ = ["KFACOptions", "KFACState", "kfac"]


class KFACOptions(NamedTuple):
    """KFAC: steps p = −α (K + μI)⁻¹ g with K the Kronecker-factored Gauss-Newton, μ adapted by the gain ratio.

    **Options**

    kind : {"type-2", "mc", "empirical"}, default="type-2"
        The Kronecker factors' G from the exact loss Hessian, from
        ``mc_samples`` targets drawn from the model, or from the observed
        gradients (see :func:`numnet.curvature.kfac`).
    mc_samples : int, default=1
        Draws per sample for kind="mc".
    seed : int, default=0
        Seed of the draws (kind="mc"); iteration k draws with (seed, k).
    bias : {"joint", "separate"}, default="joint"
        One Kronecker block per layer for [W; bᵀ], or W and b apart.
    mu0 : float, optional
        Initial damping μ₀; by default τ · gᵀG g / gᵀg at the start.
    tau : float, default=1e-3
        Scale of the default μ₀.
    max_mu : float, default=1e16
        Give up (``NoProgress``) when μ exceeds this.
    min_mu : float, default=1e-8
        Floor of μ after each update: K is singular along directions the
        data never excite (e.g. a softmax's shift), and (K + μI)⁻¹ must stay
        bounded there.
    rescale : bool, default=True
        Scale the step by α = −gᵀp / pᵀ(G + μI)p, the minimizer of the
        damped Gauss-Newton model along p (one Gauss-Newton product); when
        False, α = 1.

    Notes
    -----
    Martens & Grosse (2015), *Optimizing neural networks with
    Kronecker-factored approximate curvature*, §6: the natural-gradient
    step with the Fisher / Gauss-Newton matrix replaced by its KFAC
    approximation K = ⊕_layers A ⊗ G, inverted exactly in the eigenbasis of
    the factors, (K + μI)⁻¹ = (Q_A ⊗ Q_G) diag(1/(λ_A λ_Gᵀ + μ)) (Q_A ⊗ Q_G)ᵀ
    (:meth:`~numnet.curvature.KroneckerOperator.inverse`), so a step costs
    one forward pass, k backward passes for the factors (k outputs,
    type-2) and one Gauss-Newton product per trial; no CG. μ is
    Levenberg–Marquardt damping: the gain ratio
    ρ = (f(x) − f(x + p)) / (−gᵀp − ½ pᵀG p), measured against the exact
    Gauss-Newton model, accepts the step when ρ > 0 and updates μ by
    Nielsen's rule (:class:`~numnet.optim.newton.Damping`, as in
    "levenberg-marquardt"). For networks of Dense, Residual, Conv2d and
    Conv1d layers (TypeError naming any other layer with parameters,
    before any work). The factors' backward passes are not counted in
    ``nhvp``; the Gauss-Newton products are.
    """

    kind: str = "type-2"
    mc_samples: int = 1
    seed: int = 0
    bias: str = "joint"
    mu0: float | None = None
    tau: float = 1e-3
    max_mu: float = 1e16
    min_mu: float = 1e-8
    rescale: bool = True

    def check(self):
        check_choice(self.kind, "kind", KINDS)
        check_int(self.mc_samples, "mc_samples")
        check_int(self.seed, "seed", minimum=0)
        check_choice(self.bias, "bias", BIAS_MODES)
        if self.mu0 is not None:
            check_positive(self.mu0, "mu0")
        check_positive(self.tau, "tau")
        check_positive(self.max_mu, "max_mu")
        check_positive(self.min_mu, "min_mu")
        check_bool(self.rescale, "rescale")


class KFACState(NamedTuple):
    """x, f = J(x), g = ∇J(x), the linearization at x (derived), the damping, and the step count (MC seeds)."""

    x: np.ndarray
    f: float
    g: np.ndarray
    lin: object = None
    region: object = None
    k: int = 0
    DERIVED = ("lin",)


class _KFACSolver(NamedTuple):
    """Answers the Newton driver's ``solve(lin, g, damping)`` with the damped KFAC inverse (factors fixed)."""

    K: object
    rescale: bool

    def solve(self, lin, g, damping=0.0, radius=None):
        p = -(self.K.inverse(damping) @ g)
        Ap = lin.gnvp(p) + damping * p
        if self.rescale:
            curvature = float(p @ Ap)
            alpha = -float(g @ p) / curvature if curvature > 0 else 1.0
            p, Ap = alpha * p, alpha * Ap
        return CGResult(p, Ap, 1, "converged")


def _check_problem(problem, opts):
    check_whole_objective(problem, "kfac")
    net, loss = _network(problem)
    check_kfac_network(net)
    if opts.kind == "mc" and not isinstance(loss, PREDICTIVE_LOSSES):
        raise TypeError(
            f"kfac with kind='mc' needs a loss with a predictive distribution "
            f"({', '.join(c.__name__ for c in PREDICTIVE_LOSSES)}), got {loss!r}"
        )


def _network(problem):
    obj = getattr(problem, "objective", None)
    net, loss = getattr(obj, "net", None), getattr(obj, "loss", None)
    if net is None or loss is None:
        raise TypeError(
            f"kfac needs an Objective on a network of Dense and convolution layers, "
            f"got {type(obj).__name__}"
        )
    return net, loss


def _initial_mu(lin, g, tau):
    """μ₀ = τ · gᵀG g / gᵀg (levenberg-marquardt's start), a Rayleigh quotient of G (one product)."""
    gg = float(np.dot(g, g))
    scale = float(np.dot(g, lin.gnvp(g))) / gg if gg > 0 else 1.0
    return tau * (scale if np.isfinite(scale) and scale > 0 else 1.0)


def _init(problem, x, f, g, opts):
    lin = problem.at(x)
    mu = _initial_mu(lin, g, opts.tau) if opts.mu0 is None else opts.mu0
    return KFACState(x, f, g, lin, Damping(max(mu, opts.min_mu), 2.0, opts.max_mu), 0)


def _step(problem, state, opts):
    seed = np.random.default_rng([opts.seed, state.k])
    K = kfac_operator(
        state.lin, kind=opts.kind, mc_samples=opts.mc_samples, seed=seed, bias=opts.bias
    )
    lin, sol, region = gain_ratio_step(problem, state, _KFACSolver(K, opts.rescale))
    region = region._replace(mu=max(region.mu, opts.min_mu))
    state = KFACState(lin.theta, float(lin.value), lin.grad, lin, region, state.k + 1)
    return state, Iterate(
        state.x, state.f, state.g, step=float(np.linalg.norm(sol.p)), inner=sol.n_iter
    )


kfac = Method(
    "kfac",
    KFACOptions,
    _init,
    _step,
    restore=newton_restore,
    check_problem=_check_problem,
    needs_network=True,
)
