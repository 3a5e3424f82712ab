"""Composable first-order update rules over flat arrays (optax-style, pure).

A :class:`GradientTransformation` is a pair of pure functions:
``state = init(params)`` and ``updates, state = update(grads, state)``.
``update`` never mutates its inputs; its state is a ``NamedTuple`` of
arrays and counters. Transformations compose left to right with
:func:`chain`, and a step is ``params + updates`` (:func:`apply_updates`).
SGD with momentum is ``chain(trace(momentum), scale_by_learning_rate(lr))``
and Adam is ``chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(lr))``
(:func:`sgd_transform`, :func:`adam_transform`; the optimizer methods built
on them are ``minimize(..., method="sgd")`` and ``method="adam"``).

Example
-------
>>> import numpy as np
>>> tx = adam_transform(0.1)
>>> x = np.array([1.0, -2.0]); state = tx.init(x)
>>> u, state = tx.update(2 * x, state)      # gradient of ‖x‖²
>>> np.round(apply_updates(x, u), 3)
array([ 0.9, -1.9])
"""

import warnings
from typing import Callable, NamedTuple

import numpy as np

from .schedules import as_schedule

__all__ = [
    "GradientTransformation",
    "chain",
    "scale",
    "scale_by_schedule",
    "trace",
    "scale_by_adam",
    "scale_by_learning_rate",
    "sgd_transform",
    "adam_transform",
    "apply_updates",
    "EmptyState",
    "ScheduleState",
    "TraceState",
    "AdamState",
    "sgd",
    "adam",
]


class GradientTransformation(NamedTuple):
    """``init(params) -> state`` and ``update(updates, state) -> (updates, state)``."""

    init: Callable
    update: Callable


class EmptyState(NamedTuple):
    """State of a stateless transformation."""


class ScheduleState(NamedTuple):
    """Step counter k of a scheduled transformation."""

    count: int


class TraceState(NamedTuple):
    """Momentum buffer m."""

    trace: np.ndarray


class AdamState(NamedTuple):
    """Step counter and first/second moment estimates."""

    count: int
    mu: np.ndarray
    nu: np.ndarray


def chain(*transforms):
    """Apply transformations in order; the state is the tuple of their states."""

    def init(params):
        return tuple(t.init(params) for t in transforms)

    def update(updates, state):
        new_state = []
        for t, s in zip(transforms, state):
            updates, s = t.update(updates, s)
            new_state.append(s)
        return updates, tuple(new_state)

    return GradientTransformation(init, update)


def scale(step):
    """``u -> step * u``."""

    def update(updates, state):
        return step * updates, state

    return GradientTransformation(lambda params: EmptyState(), update)


def scale_by_schedule(schedule):
    """``u -> schedule(k) * u`` at step k = 0, 1, …"""

    def update(updates, state):
        return float(schedule(state.count)) * updates, ScheduleState(state.count + 1)

    return GradientTransformation(lambda params: ScheduleState(0), update)


def trace(decay, nesterov=False):
    """Heavy-ball momentum ``m = u + decay * m``; output m, or ``u + decay * m`` (Nesterov).

    Notes
    -----
    Polyak's heavy ball x_{k+1} = x_k − α m_k with m_k = g_k + μ m_{k−1}
    (μ = ``decay``); the Nesterov variant steps along g_k + μ m_k
    (Sutskever et al. 2013 form, as in PyTorch's SGD).
    """
    if not 0 <= decay < 1:
        raise ValueError(f"decay must be in [0, 1), got {decay!r}")

    def update(updates, state):
        m = updates + decay * state.trace
        return (updates + decay * m if nesterov else m), TraceState(m)

    return GradientTransformation(lambda params: TraceState(np.zeros_like(params)), update)


def scale_by_adam(b1=0.9, b2=0.999, eps=1e-8):
    """Adam's rescaling of the gradient (Kingma & Ba 2015, Algorithm 1).

    Notes
    -----
    At step k = 1, 2, …: ``mu = b1*mu + (1-b1)*g``, ``nu = b2*nu + (1-b2)*g**2``,
    ``mu_hat = mu / (1 - b1**k)``, ``nu_hat = nu / (1 - b2**k)``, and the output
    is ``mu_hat / (sqrt(nu_hat) + eps)`` (the step is then scaled by −α).
    """
    for name, b in (("b1", b1), ("b2", b2)):
        if not 0 <= b < 1:
            raise ValueError(f"{name} must be in [0, 1), got {b!r}")
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps!r}")

    def init(params):
        return AdamState(0, np.zeros_like(params), np.zeros_like(params))

    def update(g, state):
        k = state.count + 1
        mu = b1 * state.mu + (1 - b1) * g
        nu = b2 * state.nu + (1 - b2) * (g * g)
        mu_hat, nu_hat = mu / (1 - b1**k), nu / (1 - b2**k)
        return mu_hat / (np.sqrt(nu_hat) + eps), AdamState(k, mu, nu)

    return GradientTransformation(init, update)


def scale_by_learning_rate(learning_rate):
    """``u -> -t_k * u`` for a float or a schedule ``k -> t_k`` (a descent step)."""
    if callable(learning_rate):
        return scale_by_schedule(lambda k: -learning_rate(k))
    return scale(-float(as_schedule(learning_rate)(0)))


def sgd_transform(learning_rate, momentum=0.0, nesterov=False):
    """SGD's update rule: ``chain(trace(momentum, nesterov), scale_by_learning_rate(learning_rate))``."""
    if momentum == 0:
        return chain(scale_by_learning_rate(learning_rate))
    return chain(trace(momentum, nesterov), scale_by_learning_rate(learning_rate))


def adam_transform(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """Adam's update rule: ``chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(learning_rate))``."""
    return chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(learning_rate))


def apply_updates(params, updates):
    """``params + updates`` (a new array)."""
    return params + updates


def sgd(learning_rate, momentum=0.0, nesterov=False):
    """Deprecated alias of :func:`sgd_transform` (``sgd`` is also the name of an optimizer method)."""
    warnings.warn(
        "numnet.optim.transforms.sgd is deprecated; use transforms.sgd_transform "
        "(the method is minimize(..., method='sgd'))",
        DeprecationWarning,
        stacklevel=2,
    )
    return sgd_transform(learning_rate, momentum, nesterov)


def adam(learning_rate=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    """Deprecated alias of :func:`adam_transform` (``adam`` is also the name of an optimizer method)."""
    warnings.warn(
        "numnet.optim.transforms.adam is deprecated; use transforms.adam_transform "
        "(the method is minimize(..., method='adam'))",
        DeprecationWarning,
        stacklevel=2,
    )
    return adam_transform(learning_rate, b1, b2, eps)
