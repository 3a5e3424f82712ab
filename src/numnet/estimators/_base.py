"""What the four estimators share: the network rebuilt from hyper-parameters, validation, outputs.

A fitted estimator keeps only plain data: ``theta_`` (one flat vector),
``n_features_in_``, ``n_outputs_`` and, for classifiers, ``classes_``. The
:class:`~numnet.network.Sequential` is rebuilt from the hyper-parameters when
needed (it is cheap and holds no parameters), so estimators pickle, clone
and save (:mod:`numnet.io`) without any code objects.
"""

import numpy as np
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d

from .._validation import FLOAT_DTYPES
from ..losses import get_loss
from ..network import Sequential

try:
    from sklearn.utils.validation import validate_data
except ImportError:  # scikit-learn < 1.6
    validate_data = None

__all__ = [
    "NetworkEstimatorMixin",
    "ClassifierOutputsMixin",
    "RegressorOutputsMixin",
    "validate",
    "encode_labels",
    "class_index",
    "classifier_targets",
    "network_loss",
    "rng_from",
    "forward_rows",
    "noise_precision",
    "FLOAT_DTYPES",
    "PREDICT_CHUNK",
]

PREDICT_CHUNK = 8192
"""Rows per forward pass in ``predict``: memory O(chunk · width), whatever n_samples is."""


def validate(est, X, y="no_validation", *, reset, **kwargs):
    """sklearn's ``validate_data`` (or ``check_X_y``/``check_array`` on old versions); float X.

    ``y="no_validation"`` validates X alone (predict); any other y (None
    included, which then raises sklearn's "requires y" error) validates both.
    """
    if validate_data is not None:
        return validate_data(est, X, y, reset=reset, dtype=FLOAT_DTYPES, **kwargs)
    return _validate_legacy(est, X, y, reset, **kwargs)


def _validate_legacy(est, X, y, reset, **kwargs):
    from sklearn.utils.validation import check_array, check_X_y

    if isinstance(y, str) and y == "no_validation":
        X = check_array(X, dtype=FLOAT_DTYPES)
    else:
        X, y = check_X_y(X, y, dtype=FLOAT_DTYPES, **kwargs)
    if reset:
        est.n_features_in_ = X.shape[1]
    elif X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input"
        )
    return X if isinstance(y, str) and y == "no_validation" else (X, y)


def rng_from(random_state):
    """A ``np.random.Generator`` seeded from sklearn's ``check_random_state(random_state)``."""
    from sklearn.utils import check_random_state

    return np.random.default_rng(int(check_random_state(random_state).randint(2**31 - 1)))


def forward_rows(net, theta, X, chunk=PREDICT_CHUNK):
    """Network output for X in row chunks (bounded memory, same values row by row)."""
    if X.shape[0] <= chunk:
        return net.predict(theta, X)
    return np.concatenate(
        [net.predict(theta, X[i : i + chunk]) for i in range(0, X.shape[0], chunk)]
    )


class NetworkEstimatorMixin:
    """Network, parameter views and checked predictions shared by all numnet estimators.

    A subclass defines ``_layers(d_in, d_out)`` (the architecture from its
    hyper-parameters) and ``_fitted_attributes`` (the names :mod:`numnet.io`
    may restore).
    """

    def _network(self):
        return Sequential(self._layers(self.n_features_in_, self.n_outputs_))

    @property
    def coefs_(self):
        """Weight matrices, views of ``theta_`` of shape (d_in, d_out), one per layer."""
        check_is_fitted(self)
        return [p["W"] for p in self._network().unpack(self.theta_)]

    @property
    def intercepts_(self):
        """Bias vectors, views of ``theta_`` of shape (d_out,), one per layer."""
        check_is_fitted(self)
        return [p["b"] for p in self._network().unpack(self.theta_)]

    def _forward(self, X):
        """Validated X (converted to theta_'s dtype) → network output F, shape (n, n_outputs_)."""
        check_is_fitted(self)
        X = validate(self, X, reset=False)
        X = X.astype(self.theta_.dtype, copy=False)
        return forward_rows(self._network(), self.theta_, X, self._predict_rows)

    _predict_rows = PREDICT_CHUNK

    def _check_loaded(self):
        """Parameters against the constraint table, fitted attributes against the schema
        (:mod:`numnet.estimators._schema`); run by :func:`numnet.save` and :func:`numnet.load`."""
        from ._params import check_params
        from ._schema import check_fitted

        check_params(self)
        check_fitted(self)


def encode_labels(y, classes=None):
    """Class labels → ``(classes, codes)``, integer codes 0…n_classes−1 into ``classes``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels (ints, strings, …).
    classes : array-like, optional
        The label set, e.g. ``classes_`` of an earlier fit or the labels of
        the training rows when encoding validation rows; by default the
        sorted unique labels of ``y``.

    Returns
    -------
    classes : ndarray of shape (n_classes,), sorted
    codes : ndarray of shape (n_samples,)
        ``classes[codes] == y``.

    Raises
    ------
    ValueError
        If there are fewer than 2 classes, or ``y`` holds a label that is
        not in ``classes``.
    """
    y = column_or_1d(y, warn=True)
    check_classification_targets(y)
    source, classes = ("y", np.unique(y)) if classes is None else ("classes", np.unique(classes))
    if classes.shape[0] < 2:
        raise ValueError(
            f"{source} contains {classes.shape[0]} class(es) {classes.tolist()}; "
            "a classifier needs at least 2 classes"
        )
    unknown = np.setdiff1d(y, classes)
    if unknown.size:
        raise ValueError(
            f"y contains labels {unknown.tolist()} not in classes_ {classes.tolist()}: "
            "no training row has them"
        )
    return classes, np.searchsorted(classes, y)


def class_index(F):
    """Index into ``classes_`` per row of the network output F: ``F > 0`` for one output, else argmax F."""
    return (F[:, 0] > 0).astype(np.intp) if F.shape[1] == 1 else F.argmax(axis=1)


def network_loss(loss, n_classes):
    """Name of the loss on the network output: "binary_cross_entropy" for two classes
    and ``loss="cross_entropy"`` (one logit output), else ``loss`` itself."""
    return "binary_cross_entropy" if n_classes == 2 and loss == "cross_entropy" else loss


def classifier_targets(codes, n_classes, loss):
    """Targets and network loss for a classification ``loss`` (notes 003, output encoding).

    Binary problems have one output: logits with "binary_cross_entropy"
    (t ∈ {0, 1}), or ±1 targets for "binomial", "hinge" and "squared_error".
    Multiclass problems have one output per class: integer labels for the
    softmax "cross_entropy", one-hot rows for "squared_error", and
    one-vs-rest ±1 rows for "binomial" and "hinge".
    Returns ``(Y, n_outputs, network_loss(loss, n_classes))``.
    """
    net_loss = network_loss(loss, n_classes)
    if n_classes == 2:
        Y = codes.astype(np.float64) if net_loss == "binary_cross_entropy" else 2.0 * codes - 1.0
        return Y, 1, net_loss
    if loss == "cross_entropy":
        return codes, n_classes, "cross_entropy"
    onehot = np.eye(n_classes)[codes]
    return (onehot if loss == "squared_error" else 2 * onehot - 1), n_classes, loss


def _has_proba(est):
    return est.loss in ("cross_entropy", "binomial")


class ClassifierOutputsMixin:
    """``decision_function``, ``predict`` and ``predict_proba`` from the network output."""

    def decision_function(self, X):
        """Network output F: shape (n_samples,) for two classes (F > 0 means ``classes_[1]``),
        else (n_samples, n_classes)."""
        F = self._forward(X)
        return F[:, 0] if F.shape[1] == 1 else F

    def predict(self, X):
        """Class labels: ``classes_[F > 0]`` (binary) or ``classes_[argmax F]``."""
        F = self._forward(X)  # first: it raises NotFittedError before classes_ is read
        return self.classes_[class_index(F)]

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), rows summing to 1.

        Only available when loss="cross_entropy" (sigmoid or softmax of F) or
        loss="binomial" (P(y = 1) = σ(2F), one-vs-rest rows normalized).
        """
        F = self._forward(X)
        P = get_loss(network_loss(self.loss, len(self.classes_))).link(F)
        return np.hstack([1 - P, P]) if F.shape[1] == 1 else P / P.sum(axis=1, keepdims=True)


class RegressorOutputsMixin:
    """``predict`` for regressors: 1-D when there is one output, like scikit-learn."""

    def predict(self, X):
        """Network output, shape (n_samples,) or (n_samples, n_outputs)."""
        F = self._forward(X)
        return F[:, 0] if self.n_outputs_ == 1 else F

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def noise_precision(F, Y):
    """MLE noise precision (note 004): 1/β = (1/(N K)) Σ_n ‖y(x_n, w) − t_n‖²."""
    R = np.asarray(F, np.float64) - np.asarray(Y, np.float64).reshape(F.shape)
    sse = float(np.vdot(R, R))
    return float(R.size / sse) if sse > 0 else float("inf")
