"""The fitted attributes a numnet estimator may hold: a declarative schema, checked on load and before save.

Each estimator class lists the fitted attributes :mod:`numnet.io` may restore
in ``_fitted_attributes``; :data:`FITTED` gives every such name its type and
range, and :data:`OPTIONAL` the few a fitted estimator need not have. So the
schema of a class is ``{name: FITTED[name] for name in cls._fitted_attributes}``,
every name required unless optional:

- ``theta_``: a 1-D float32/float64 array, finite, of the network's ``n_params``;
- ``n_features_in_``, ``n_outputs_``: int ≥ 1; ``n_iter_``: int ≥ 0 (a bool is not an int);
- ``classes_`` (classifiers): a 1-D bool, int, float or str array of at least
  2 sorted unique labels, as many as the outputs need (2 for one output);
- ``beta_`` (regressors): a float > 0, +inf allowed (a perfect fit), NaN not;
- ``loss_`` (MLP*, Network*): a finite float; ``loss_curve_``: a non-empty
  list of finite floats;
- ``solver_`` (ELM*): "lstsq", "normal" or "newton-cg";
- optional: ``feature_names_in_``, ``n_features_in_`` strings;
  ``validation_scores_`` and ``best_validation_score_`` (early stopping),
  together: a non-empty list of finite floats and its maximum;
  ``optimizer_state_`` (MLP*, Network*; absent when the solver's state
  cannot be checkpointed or no iteration ran): a 1-D ``uint8`` array
  holding a checkpoint that :func:`numnet.optim.checkpoint.read_checkpoint`
  reads (with its hardened reader) of ``theta_``'s size and dtype, with the
  estimator's part (:mod:`numnet.estimators._warm`).

:func:`check_fitted` raises ``ValueError`` (or ``TypeError`` for a wrong
type) naming the attribute; :func:`numnet.io.load` turns both into
``ValueError``.
"""

from numbers import Integral, Real

import numpy as np

from .._validation import check_theta

__all__ = ["FITTED", "OPTIONAL", "check_fitted"]


class Count:
    """An int ≥ ``low`` (a bool is not an int here)."""

    def __init__(self, low):
        self.low = low

    def check(self, value, name):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral):
            raise TypeError(f"{name} must be an int, got {value!r}")
        if value < self.low:
            raise ValueError(f"{name} must be >= {self.low}, got {value!r}")


class Number:
    """A real number (not a bool), finite, or > 0 with +inf allowed when ``positive``."""

    def __init__(self, positive=False):
        self.positive = positive

    def check(self, value, name):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real):
            raise TypeError(f"{name} must be a float, got {value!r}")
        if self.positive and not value > 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")
        if not self.positive and not np.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")


class Numbers:
    """A non-empty list of finite real numbers."""

    def check(self, value, name):
        if not isinstance(value, list) or not value:
            raise TypeError(
                f"{name} must be a non-empty list of floats, got {type(value).__name__}"
            )
        for i, item in enumerate(value):
            Number().check(item, f"{name}[{i}]")


class Choice:
    """One of a few strings."""

    def __init__(self, *values):
        self.values = values

    def check(self, value, name):
        if not isinstance(value, str) or value not in self.values:
            raise ValueError(f"{name} must be one of {list(self.values)}, got {value!r}")


class OptimizerState:
    """A 1-D ``uint8`` array: the bytes of a checkpoint, read with ``theta_`` in :func:`check_fitted`."""

    def check(self, value, name):
        if not isinstance(value, np.ndarray) or value.dtype != np.uint8 or value.ndim != 1:
            raise TypeError(
                f"{name} must be a 1-D uint8 array (the bytes of a checkpoint), got {_describe(value)}"
            )


class Vector:
    """A 1-D ndarray whose dtype kind is in ``kinds`` (and, with ``labels``, ≥ 2 sorted unique entries)."""

    def __init__(self, kinds, labels=False):
        self.kinds, self.labels = kinds, labels

    def check(self, value, name):
        if (
            not isinstance(value, np.ndarray)
            or value.ndim != 1
            or value.dtype.kind not in self.kinds
        ):
            raise TypeError(
                f"{name} must be a 1-D array of dtype kind {self.kinds!r}, got {_describe(value)}"
            )
        if value.dtype.kind == "O" and not all(isinstance(v, str) for v in value):
            raise TypeError(f"{name} must hold strings only")
        if self.labels and (value.shape[0] < 2 or not np.all(value[1:] > value[:-1])):
            raise ValueError(
                f"{name} must hold at least 2 sorted unique labels, got {value.tolist()!r}"
            )


def _describe(value):
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"{type(value).__name__} {value!r}"[:80]


FITTED = {
    "theta_": Vector("f"),
    "n_features_in_": Count(1),
    "n_outputs_": Count(1),
    "n_iter_": Count(0),
    "classes_": Vector("biufU", labels=True),
    "beta_": Number(positive=True),
    "loss_": Number(),
    "loss_curve_": Numbers(),
    "solver_": Choice("lstsq", "normal", "newton-cg"),
    "feature_names_in_": Vector("UO"),
    "validation_scores_": Numbers(),
    "best_validation_score_": Number(),
    "optimizer_state_": OptimizerState(),
}
"""The constraint of every fitted attribute any numnet estimator has."""

OPTIONAL = frozenset(
    {"feature_names_in_", "validation_scores_", "best_validation_score_", "optimizer_state_"}
)
"""Fitted attributes that only some fits set (feature names given; early stopping; a checkpointed run)."""


def check_fitted(est):
    """Check ``est``'s fitted attributes against its class's schema and against each other.

    Raises
    ------
    ValueError or TypeError
        Naming the first attribute that is missing (and required), unknown
        to the class, of the wrong type or out of range, or inconsistent
        with the others (``theta_`` with the network, ``classes_`` with
        ``n_outputs_``, ``feature_names_in_`` with ``n_features_in_``).
    """
    names = type(est)._fitted_attributes
    found = vars(est)
    unknown = sorted(
        k for k in found if k.endswith("_") and not k.startswith("_") and k not in names
    )
    if unknown:
        raise ValueError(
            f"unknown fitted attributes {unknown}; a {type(est).__name__} has {list(names)}"
        )
    for name in names:
        if name not in FITTED:
            raise ValueError(f"{name} has no schema in numnet.estimators._schema.FITTED")
        if name in found:
            FITTED[name].check(found[name], name)
        elif name not in OPTIONAL:
            raise ValueError(f"{name} is missing; a fitted {type(est).__name__} has it")
    _check_agreement(est, found)


def _check_agreement(est, found):
    check_theta(found["theta_"], est._network().n_params, name="theta_")
    classes = found.get("classes_")
    if classes is not None and est.n_outputs_ != (1 if len(classes) == 2 else len(classes)):
        raise ValueError(f"{len(classes)} classes_ do not fit n_outputs_={est.n_outputs_}")
    names = found.get("feature_names_in_")
    if names is not None and len(names) != est.n_features_in_:
        raise ValueError(
            f"feature_names_in_ has {len(names)} names for n_features_in_={est.n_features_in_}"
        )
    scores, best = found.get("validation_scores_"), found.get("best_validation_score_")
    if (scores is None) != (best is None):
        raise ValueError(
            "validation_scores_ and best_validation_score_ come together (early stopping)"
        )
    if scores is not None and best != max(scores):
        raise ValueError(f"best_validation_score_={best!r} is not the best of validation_scores_")
    if "optimizer_state_" in found:
        from ._warm import check_optimizer_state

        check_optimizer_state(found["optimizer_state_"], found["theta_"])
