"""Gradient descent ``"gd"`` with a line search or a step-size rule."""

import numpy as np

from .base import Iterate, NoProgress, register
from .linesearch import LINE_SEARCHES, get_line_search
from .schedules import STEP_RULES, step_rule

__all__ = ["gd", "safe_step", "fixed_steps"]


def _finite(f, g):
    return bool(np.isfinite(f) and np.isfinite(g).all())


def safe_step(problem, propose, t, mult, max_halvings=30):
    """Evaluate ``x_new = propose(t * mult)``, halving ``mult`` while f or ∇f is non-finite.

    Returns ``(x_new, f, g, mult)``; the halved multiplier is returned so
    the caller keeps it for later steps. Raises :class:`NoProgress` after
    ``max_halvings`` non-finite trials.
    """
    for _ in range(max_halvings + 1):
        x_new = propose(t * mult)
        if np.isfinite(x_new).all():
            with np.errstate(over="ignore", invalid="ignore"):
                f, g = problem.value_and_grad(x_new)
            if _finite(f, g):
                return x_new, float(f), g, mult
        mult *= 0.5
    raise NoProgress(f"every step up to {t * mult:.3g} gave a non-finite objective or gradient")


def _searched(problem, x, f, g, search, t0):
    """Steepest descent p = −g with a line search; the next trial starts at 2 t_k."""
    t = t0
    while True:
        t, lin = search(problem, x, f, g, -g, t)
        x, f, g = lin.theta, float(lin.value), lin.grad
        yield Iterate(x, f, g, step=t)
        t *= 2.0


def fixed_steps(problem, x, g, rate):
    """x_{k+1} = x_k − α_k g_k with α_k = rate(k), halved for good when non-finite."""
    mult, k = 1.0, 0
    while True:
        t = float(rate(k))
        x, f, g, mult = safe_step(problem, lambda a, x=x, g=g: x - a * g, t, mult)
        yield Iterate(x, f, g, step=t * mult)
        k += 1


@register("gd")
def gd(problem, x, f, g, *, step="armijo", learning_rate=1.0, decay=100.0, c1=1e-4, c2=0.9,
       max_evals=30):
    """Gradient descent x_{k+1} = x_k − t_k ∇J(x_k).

    **Options**

    step : {"armijo", "wolfe", "constant", "diminishing", "square-summable"}, default="armijo"
        How t_k is chosen: a backtracking Armijo or strong-Wolfe line search
        (:mod:`numnet.optim.linesearch`), or a fixed rule
        (:func:`numnet.optim.schedules.step_rule`).
    learning_rate : float or callable, default=1.0
        Line searches: the first trial step (later trials start at twice the
        previous accepted step). Fixed rules: the base step α (or a schedule
        ``k -> α_k``) that the rule's factor multiplies.
    decay : float, default=100.0
        Decay length b of the "diminishing" and "square-summable" rules.
    c1, c2 : float, default=1e-4, 0.9
        Sufficient-decrease and curvature constants (c2: "wolfe" only).
    max_evals : int, default=30
        Trial points per line search.

    Notes
    -----
    Notes 004, "gradient descent method": w⁽ᵏ⁺¹⁾ = w⁽ᵏ⁾ − t⁽ᵏ⁾ ∇E(w⁽ᵏ⁾), the
    general descent method with Δw = −∇E; notes 001 (delta rule) and 002
    (step-size rules). Line searches: Nocedal & Wright, Algorithms 3.1 and
    3.5/3.6. With a fixed rule the objective may increase (no safeguard
    except this one: a step giving a non-finite value or gradient is
    rejected and the step multiplier halved for the rest of the run).
    """
    if step in LINE_SEARCHES:
        search = get_line_search(step, c1=c1, c2=c2, max_evals=max_evals)
        return (yield from _searched(problem, x, f, g, search, float(learning_rate)))
    if step not in STEP_RULES:
        raise ValueError(f"step must be one of {LINE_SEARCHES + tuple(STEP_RULES)}, got {step!r}")
    return (yield from fixed_steps(problem, x, g, step_rule(learning_rate, step, decay)))
