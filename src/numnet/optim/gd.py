"""Gradient descent ``"gd"`` with a line search or a step-size rule."""

from typing import NamedTuple

import warnings

import numpy as np

from ._checks import check_choice, check_line_search, check_positive
from .base import Iterate, Method, NoProgress
from .linesearch import LINE_SEARCHES, get_line_search
from .schedules import STEP_RULES, step_rule

__all__ = ["GDOptions", "gd", "try_step", "FixedStepState", "fixed_step", "safe_step"]


class GDOptions(NamedTuple):
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
    rejected and the step multiplier halved for the rest of the run). The
    state is a :class:`SearchState` (x, f, g, next trial step) or a
    :class:`FixedStepState` (x, g, multiplier, step count).
    """

    step: str = "armijo"
    learning_rate: float = 1.0
    decay: float = 100.0
    c1: float = 1e-4
    c2: float = 0.9
    max_evals: int = 30

    def check(self):
        check_choice(self.step, "step", LINE_SEARCHES + tuple(STEP_RULES))
        if self.step in LINE_SEARCHES:
            check_positive(self.learning_rate, "learning_rate")
            check_line_search(self.step, self.c1, self.c2, self.max_evals, name="step")
        else:
            step_rule(self.learning_rate, self.step, self.decay)


class SearchState(NamedTuple):
    """Line-search gradient descent: x, f, g and the first trial step t of the next search."""

    x: np.ndarray
    f: float
    g: np.ndarray
    t: float


class FixedStepState(NamedTuple):
    """A fixed step rule: x, its (sub)gradient g, the step multiplier m (halved on a non-finite step), k."""

    x: np.ndarray
    g: np.ndarray
    mult: float = 1.0
    k: int = 0


def _finite(f, g):
    return bool(np.isfinite(f) and np.isfinite(g).all())


def try_step(problem, propose, t, mult, max_halvings=30):
    """Try ``x_new = propose(t * mult)``, halving ``mult`` while x_new, f or ∇f is non-finite.

    The fixed-step methods' way to evaluate a trial point safely (the
    Newton-type methods' is :func:`~numnet.optim.newton.try_point`, which
    linearizes and leaves the step length to their line search or trust
    region). Returns ``(x_new, f, g, mult)``; the halved multiplier is
    returned so the caller keeps it for later steps. Raises
    :class:`NoProgress` after ``max_halvings`` non-finite trials.
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


def fixed_step(problem, state, rate):
    """x_{k+1} = x_k − α_k g_k with α_k = rate(k), the multiplier halved for good when non-finite."""
    t, x, g = float(rate(state.k)), state.x, state.g
    x, f, g, mult = try_step(problem, lambda a: x - a * g, t, state.mult)
    return FixedStepState(x, g, mult, state.k + 1), Iterate(x, f, g, step=t * mult)


def _searched(problem, state, opts):
    """Steepest descent p = −g with a line search; the next trial starts at 2 t_k."""
    search = get_line_search(opts.step, c1=opts.c1, c2=opts.c2, max_evals=opts.max_evals)
    t, lin = search(problem, state.x, state.f, state.g, -state.g, state.t)
    x, f, g = lin.theta, float(lin.value), lin.grad
    return SearchState(x, f, g, t * 2.0), Iterate(x, f, g, step=t)


def _init(problem, x, f, g, opts):
    if opts.step in LINE_SEARCHES:
        return SearchState(x, f, g, float(opts.learning_rate))
    return FixedStepState(x, g)


def _step(problem, state, opts):
    if opts.step in LINE_SEARCHES:
        return _searched(problem, state, opts)
    return fixed_step(problem, state, step_rule(opts.learning_rate, opts.step, opts.decay))


gd = Method("gd", GDOptions, _init, _step)


def safe_step(problem, propose, t, mult, max_halvings=30):
    """Deprecated name of :func:`try_step`."""
    warnings.warn(
        "numnet.optim.gd.safe_step is deprecated; use numnet.optim.gd.try_step",
        DeprecationWarning,
        stacklevel=2,
    )
    return try_step(problem, propose, t, mult, max_halvings)
