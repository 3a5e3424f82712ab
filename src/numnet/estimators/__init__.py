"""scikit-learn estimators built on numnet: MLPs and user-given networks trained by any numnet optimizer, and ELMs.

All six follow scikit-learn's conventions (``__init__`` only stores its
arguments; parameters are checked at the top of ``fit`` against a
declarative table; fitted attributes end in ``_``) and pass
``sklearn.utils.estimator_checks.check_estimator``. Fitted estimators are
saved and loaded safely with :func:`numnet.io.save` / :func:`numnet.io.load`.
The target encoding they use (:func:`encode_labels`, :func:`classifier_targets`,
:func:`class_index`) is public, so other front ends (``numnet train``) encode
and decode classes exactly as the estimators do.
"""

from ._base import class_index, classifier_targets, encode_labels
from ._elm import ELMClassifier, ELMRegressor
from ._mlp import MLPClassifier, MLPRegressor
from ._network import NetworkClassifier, NetworkRegressor

__all__ = [
    "MLPClassifier",
    "MLPRegressor",
    "NetworkClassifier",
    "NetworkRegressor",
    "ELMClassifier",
    "ELMRegressor",
    "ESTIMATORS",
    "encode_labels",
    "classifier_targets",
    "class_index",
    "fitted_attributes",
    "check_restorable",
]

ESTIMATORS = {
    cls.__name__: cls
    for cls in (
        MLPClassifier,
        MLPRegressor,
        NetworkClassifier,
        NetworkRegressor,
        ELMClassifier,
        ELMRegressor,
    )
}
"""The estimator classes :func:`numnet.io.load` may rebuild (a whitelist, by class name)."""


def fitted_attributes(cls):
    """The fitted attributes (names ending in ``_``) that :func:`numnet.io.load` may restore on a ``cls``."""
    return tuple(cls._fitted_attributes)


def check_restorable(est):
    """Raise ``ValueError``/``TypeError`` unless ``est``'s parameters and fitted attributes pass their checks.

    The parameters against the estimator's constraint table, the fitted
    attributes against the schema of :mod:`numnet.estimators._schema`;
    :func:`numnet.io.save` runs it before writing, :func:`numnet.io.load`
    after rebuilding.
    """
    est._check_loaded()
