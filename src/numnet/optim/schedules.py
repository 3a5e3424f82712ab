"""Step-size rules as small callables ``k -> t_k`` (k = 0, 1, 2, … counts steps).

Everywhere a method takes a ``learning_rate`` it accepts a float (constant
step) or such a callable; :func:`as_schedule` turns either into a callable.
Fixed-step methods (``gd``, ``subgradient``) also take a named step *rule*
whose factor multiplies the learning rate, see :func:`step_rule`.

Notes 002 (subgradient descent) lists the rules: constant α_k = α;
square summable but not summable, Σα_k² < ∞ and Σα_k = ∞, "usually a large
constant that drops slowly after a long while, e.g. 100/(100+k)"; and the
nonsummable diminishing rule α_k → 0, Σα_k = ∞ (e.g. a/√(b+k)).
"""

import math
import warnings

import numpy as np

from .._validation import check_positive

__all__ = [
    "constant",
    "square_summable",
    "inverse_sqrt",
    "as_schedule",
    "step_rule",
    "scaled",
    "STEP_RULES",
    "diminishing",
]


def _check_k(k):
    if k < 0:
        raise ValueError(f"k must be a non-negative step count, got {k!r}")
    return k


def constant(t):
    """The constant rule ``k -> t`` (notes 002: α_k = α)."""
    t = check_positive(t, "t")

    def rule(k):
        _check_k(k)
        return t

    return rule


def square_summable(a=100.0, b=100.0):
    """The square-summable, non-summable rule ``k -> a / (b + k)`` (``step_rule``'s "square-summable").

    Notes 002: Σα_k² < ∞, Σα_k = ∞, e.g. ``100 / (100 + k)`` (the defaults):
    α_0 = a/b, halved after b steps.
    """
    a, b = check_positive(a, "a"), check_positive(b, "b")

    def rule(k):
        return a / (b + _check_k(k))

    return rule


def inverse_sqrt(a=10.0, b=100.0):
    """The nonsummable diminishing rule ``k -> a / sqrt(b + k)`` (Σα_k = Σα_k² = ∞; ``step_rule``'s "diminishing")."""
    a, b = check_positive(a, "a"), check_positive(b, "b")

    def rule(k):
        return a / math.sqrt(b + _check_k(k))

    return rule


def as_schedule(learning_rate, name="learning_rate"):
    """A float (constant step) or a callable ``k -> t_k`` as a callable."""
    if callable(learning_rate):
        return learning_rate
    if isinstance(learning_rate, (int, float, np.floating, np.integer)):
        return constant(check_positive(learning_rate, name))
    raise TypeError(
        f"{name} must be a float or a callable k -> step, got {type(learning_rate).__name__}"
    )


def scaled(schedule, factor):
    """The product rule ``k -> schedule(k) * factor(k)`` of two callables."""
    return lambda k: float(schedule(k)) * float(factor(k))


#: Step rules normalized to 1 at k = 0, as functions of the decay length b.
STEP_RULES = {
    "constant": lambda b: constant(1.0),
    "square-summable": lambda b: square_summable(b, b),
    "diminishing": lambda b: inverse_sqrt(math.sqrt(b), b),
}


def step_rule(learning_rate, rule="constant", decay=100.0):
    """α_k = learning_rate(k) · r(k) with the named rule r normalized to r(0) = 1.

    Parameters
    ----------
    learning_rate : float or callable
        Base step (or schedule).
    rule : {"constant", "square-summable", "diminishing"}, default="constant"
        ``"constant"``: r = 1; ``"square-summable"``: r = b/(b+k) (notes 002's
        100/(100+k) for b = 100); ``"diminishing"``: r = √(b/(b+k)).
    decay : float, default=100.0
        The b above: the number of steps over which the step halves
        (square-summable) or drops by 1/√2 (diminishing).
    """
    if rule not in STEP_RULES:
        raise ValueError(f"rule must be one of {sorted(STEP_RULES)}, got {rule!r}")
    return scaled(as_schedule(learning_rate), STEP_RULES[rule](check_positive(decay, "decay")))


def diminishing(a=100.0, b=100.0):
    """Deprecated alias of :func:`square_summable` (the rule a/(b + k) is square-summable; the
    "diminishing" step rule of :func:`step_rule` is :func:`inverse_sqrt`)."""
    warnings.warn(
        "numnet.optim.schedules.diminishing is deprecated: it is the square-summable rule a/(b + k), "
        "use schedules.square_summable (the nonsummable diminishing rule is schedules.inverse_sqrt)",
        DeprecationWarning,
        stacklevel=2,
    )
    return square_summable(a, b)
