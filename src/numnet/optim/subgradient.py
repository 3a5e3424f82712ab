"""Subgradient descent ``"subgradient"``, with an optional proximal L1 step."""

import numpy as np

from .base import Iterate, register
from .gd import fixed_steps, safe_step
from .schedules import step_rule

__all__ = ["subgradient"]


def _l1_regularizer(problem):
    """The objective's regularizer if it has a proximal operator, else a TypeError."""
    reg = getattr(problem.objective, "regularizer", None)
    if reg is None or not hasattr(reg, "prox"):
        raise TypeError(f"prox=True needs an objective whose regularizer has prox (e.g. L1Penalty), got {reg!r}")
    return reg


def _proximal(problem, x, g, rate, reg):
    """x_{k+1} = prox_{α_k λ‖·‖₁}(x_k − α_k ∇S(x_k)), ∇S = g − ∇(λR) the smooth part."""
    mult, k = 1.0, 0
    while True:
        t, gs = float(rate(k)), g - reg.grad(x)
        x_old = x
        x, f, g, mult = safe_step(problem, lambda a: reg.prox(x_old - a * gs, a), t, mult)
        mapping = (x_old - x) / (t * mult)
        yield Iterate(x, f, g, step=t * mult, grad_norm=float(np.linalg.norm(mapping)))
        k += 1


@register("subgradient")
def subgradient(problem, x, f, g, *, learning_rate=1.0, step="square-summable", decay=100.0,
                prox=False):
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
        yielded gradient norm is then the gradient mapping
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
    multiplier halved for the rest of the run.
    """
    rate = step_rule(learning_rate, step, decay)
    if not isinstance(prox, bool):
        raise TypeError(f"prox must be a bool, got {prox!r}")
    if prox:
        return (yield from _proximal(problem, x, g, rate, _l1_regularizer(problem)))
    return (yield from fixed_steps(problem, x, g, rate))


subgradient.nonsmooth = True
