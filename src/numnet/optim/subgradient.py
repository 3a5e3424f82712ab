"""Subgradient descent ``"subgradient"``, with an optional proximal L1 step."""

from typing import NamedTuple

from ._checks import check_bool, check_choice
from .base import Iterate, Method, robust_norm
from .gd import FixedStepState, fixed_step, try_step
from .schedules import STEP_RULES, step_rule

__all__ = ["SubgradientOptions", "subgradient"]


class SubgradientOptions(NamedTuple):
    """Subgradient descent x_{k+1} = x_k − α_k g_k, g_k ∈ ∂J(x_k).

    **Options**

    learning_rate : float or callable, default=1.0
        Base step α (or a schedule ``k -> α_k``) that the step rule multiplies.
    step : {"square-summable", "diminishing", "constant"}, default="square-summable"
        Step rule (:func:`numnet.optim.schedules.step_rule`); the default
        with ``learning_rate=1`` and ``decay=100`` is the notes' 100/(100+k).
    decay : float, default=100.0
        Decay length b of the rule.
    prox : bool, default=False
        Proximal subgradient step for an objective whose regularizer has a
        ``prox`` (``L1Penalty``): a (sub)gradient step on the loss only, then
        soft thresholding, x_{k+1} = prox_{α_k λ‖·‖₁}(x_k − α_k ∇E(x_k)). The
        reported gradient norm is then the gradient mapping
        ‖x_k − x_{k+1}‖ / α_k, which vanishes exactly at minimizers.

    Notes
    -----
    Notes 002, "subgradient descent": x⁽ᵏ⁺¹⁾ = x⁽ᵏ⁾ − α_k g⁽ᵏ⁾ with g a
    subgradient (f(y) ≥ f(x) + gᵀ(y − x)); the gradient that numnet returns
    for relu, hinge, absolute-error or L1 objectives is such a subgradient
    (relu'(0) = 0, sign(0) = 0). Steps are not descent steps: J may go up,
    and :func:`~numnet.optim.minimize` returns the best iterate seen, which
    is what the convergence theory bounds (f_best − f* ≤ (R² + G²Σα_k²)/(2Σα_k)).
    A step with a non-finite value or subgradient is rejected and the step
    multiplier halved for the rest of the run. The state is a
    :class:`~numnet.optim.gd.FixedStepState`.
    """

    learning_rate: float = 1.0
    step: str = "square-summable"
    decay: float = 100.0
    prox: bool = False

    def check(self):
        check_choice(self.step, "step", tuple(STEP_RULES))
        step_rule(self.learning_rate, self.step, self.decay)
        check_bool(self.prox, "prox")


def _l1_regularizer(problem):
    """The objective's regularizer if it has a proximal operator, else a TypeError."""
    reg = getattr(problem.objective, "regularizer", None)
    if reg is None or not hasattr(reg, "prox"):
        raise TypeError(
            f"prox=True needs an objective whose regularizer has prox (e.g. L1Penalty), got {reg!r}"
        )
    return reg


def _check_problem(problem, opts):
    if opts.prox:
        _l1_regularizer(problem)


def _proximal(problem, state, rate, reg):
    """x_{k+1} = prox_{α_k λ‖·‖₁}(x_k − α_k ∇S(x_k)), ∇S = g − ∇(λR) the smooth part."""
    x_old, t = state.x, float(rate(state.k))
    gs = state.g - reg.grad(x_old)
    x, f, g, mult = try_step(problem, lambda a: reg.prox(x_old - a * gs, a), t, state.mult)
    mapping = (x_old - x) / (t * mult)
    return FixedStepState(x, g, mult, state.k + 1), Iterate(
        x, f, g, step=t * mult, grad_norm=robust_norm(mapping)
    )


def _init(problem, x, f, g, opts):
    return FixedStepState(x, g)


def _step(problem, state, opts):
    rate = step_rule(opts.learning_rate, opts.step, opts.decay)
    if opts.prox:
        return _proximal(problem, state, rate, _l1_regularizer(problem))
    return fixed_step(problem, state, rate)


subgradient = Method(
    "subgradient", SubgradientOptions, _init, _step, check_problem=_check_problem, nonsmooth=True
)
