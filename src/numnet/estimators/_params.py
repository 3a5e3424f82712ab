"""Declarative hyper-parameter constraints, checked at the top of ``fit``.

Each estimator has a class attribute ``_constraints``: a dict mapping every
``__init__`` parameter to one constraint below. :func:`check_params` checks
them all with scikit-learn's public :func:`sklearn.utils.check_scalar` (numbers)
or by membership (options), raising ``TypeError`` or ``ValueError`` that name
the parameter. ``__init__`` itself never validates (scikit-learn convention).
"""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_scalar

__all__ = [
    "Interval",
    "Options",
    "Boolean",
    "NoneOr",
    "Sizes",
    "RandomState",
    "Function",
    "check_params",
]


class Interval:
    """A real (or integer, ``integer=True``) number in [low, high], ends per ``closed``."""

    def __init__(self, low=None, high=None, *, closed="both", integer=False):
        self.low, self.high, self.closed, self.integer = low, high, closed, integer

    def check(self, value, name):
        if isinstance(value, (bool, np.bool_)):
            raise TypeError(
                f"{name} must be {'an int' if self.integer else 'a real number'}, got {value!r}"
            )
        check_scalar(
            value,
            name,
            Integral if self.integer else Real,
            min_val=self.low,
            max_val=self.high,
            include_boundaries=self.closed,
        )
        if not self.integer and not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")


class Options:
    """One of a fixed set of strings; ``values`` may be a callable returning the set."""

    def __init__(self, values):
        self.values = values

    def check(self, value, name):
        allowed = sorted(self.values() if callable(self.values) else self.values)
        if not isinstance(value, str) or value not in allowed:
            raise ValueError(f"{name} must be one of {allowed}, got {value!r}")


class Boolean:
    """True or False (``verbose`` also accepts a non-negative int)."""

    def __init__(self, allow_int=False):
        self.allow_int = allow_int

    def check(self, value, name):
        if isinstance(value, (bool, np.bool_)):
            return
        if self.allow_int and isinstance(value, Integral) and value >= 0:
            return
        raise TypeError(f"{name} must be a bool, got {value!r}")


class NoneOr:
    """None, or a value satisfying ``inner``."""

    def __init__(self, inner):
        self.inner = inner

    def check(self, value, name):
        if value is not None:
            self.inner.check(value, name)


class Sizes:
    """A non-empty tuple/list of positive ints (or one positive int)."""

    def check(self, value, name):
        sizes = (value,) if isinstance(value, Integral) and not isinstance(value, bool) else value
        if not isinstance(sizes, (tuple, list)) or len(sizes) == 0:
            raise TypeError(
                f"{name} must be a positive int or a non-empty tuple of positive ints, got {value!r}"
            )
        for i, size in enumerate(sizes):
            Interval(1, None, integer=True).check(size, f"{name}[{i}]")


class RandomState:
    """None, an int seed in [0, 2**32), or a ``np.random.RandomState``."""

    def check(self, value, name):
        if value is None or isinstance(value, np.random.RandomState):
            return
        Interval(0, 2**32 - 1, integer=True).check(value, name)


class Function:
    """A callable (e.g. a data augmentation ``augment(X, rng) -> X``)."""

    def check(self, value, name):
        if not callable(value):
            raise TypeError(f"{name} must be a callable, got {value!r}")


def check_params(estimator):
    """Check every parameter of ``estimator`` against its class's ``_constraints`` table."""
    params = estimator.get_params(deep=False)
    for name, constraint in type(estimator)._constraints.items():
        constraint.check(params[name], name)
