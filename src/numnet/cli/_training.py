"""What ``numnet train`` does between parsing and printing: data, targets, network, metrics.

Targets are encoded for the chosen loss as the estimators encode them
(:func:`encode_targets`); features
are standardized with the training statistics, and the scaling is folded
into the first layer afterwards (:func:`fold_standardization`), so the saved
network takes raw features.
"""

from typing import NamedTuple

import numpy as np

from ..estimators import class_index, classifier_targets, encode_labels

__all__ = [
    "Targets",
    "CLASSIFICATION_LOSSES",
    "REGRESSION_LOSSES",
    "infer_task",
    "default_loss",
    "encode_targets",
    "fold_standardization",
    "input_scale",
    "fold_input_scale",
    "predict_labels",
    "metrics",
]

CLASSIFICATION_LOSSES = ("cross_entropy", "squared_error", "binomial", "hinge")
REGRESSION_LOSSES = ("squared_error", "absolute_error", "huber")


class Targets(NamedTuple):
    """Targets encoded for a loss: ``Y``, the output width, the class labels (or None), the network loss."""

    Y: np.ndarray
    n_outputs: int
    classes: np.ndarray | None
    loss: str


def infer_task(y):
    """ "classification" for integer, boolean or string labels, "regression" for float targets."""
    return "regression" if np.asarray(y).dtype.kind == "f" else "classification"


def default_loss(task):
    return "cross_entropy" if task == "classification" else "squared_error"


def _check_loss_for_task(loss, task):
    allowed = CLASSIFICATION_LOSSES if task == "classification" else REGRESSION_LOSSES
    if loss not in allowed:
        raise ValueError(
            f"--loss {loss} does not fit a {task} task (--task, or the type of the targets); "
            f"choose one of {', '.join(allowed)}"
        )


def encode_targets(y, loss, task, classes=None):
    """Encode ``y`` for ``loss`` as the estimators do (:func:`numnet.estimators.classifier_targets`).

    Two classes get one output (logits for "cross_entropy", ±1 otherwise),
    more classes one output per class. ``classes`` fixes the label set (from
    the training rows) when encoding validation rows.
    """
    _check_loss_for_task(loss, task)
    if task == "regression":
        Y = np.asarray(y, dtype=np.float64)
        return Targets(Y.reshape(len(Y), -1), 1 if Y.ndim == 1 else Y.shape[1], None, loss)
    classes, codes = encode_labels(y, classes)
    Y, n_outputs, net_loss = classifier_targets(codes, len(classes), loss)
    return Targets(Y, n_outputs, classes, net_loss)


def fold_standardization(net, theta, mean, scale):
    """Parameters for raw inputs x of a network trained on (x − mean)/scale.

    The first layer computes ((x − μ)/s) W + b = x (W/s) + (b − (μ/s) W), so
    W ← diag(1/s) W and b ← b − (μ/s) W; the other layers are unchanged.
    """
    theta = theta.copy()
    p = net.layers[0].unpack(theta[net.slices[0]])
    W = p["W"].copy()
    p["W"][...] = W / scale[:, None]
    if p["b"] is not None:
        p["b"][...] -= (mean / scale) @ W
    return theta


def input_scale(net, X):
    """One scale s for all features (their root mean square), foldable into the first layer with
    weights: the layers before it (pooling, reshaping, dropout) commute with x ↦ x/s. 1 when
    the first layer with parameters has no input weight matrix to fold into (a residual block)."""
    first = next((layer for layer in net.layers if layer.n_params), None)
    if first is None or _input_weights(first, np.zeros(first.n_params)) is None:
        return 1.0
    rms = float(np.sqrt(np.mean(np.square(X))))
    return rms if rms > 0 else 1.0


def _input_weights(layer, theta):
    """The view of the weights that multiply the layer's input (W, or W_x of a recurrent layer), or None."""
    if type(layer).__name__ == "Residual":
        return None
    views = layer.unpack(theta)
    return views.get("W", views.get("W_x")) if isinstance(views, dict) else None


def fold_input_scale(net, theta, scale):
    """Parameters for raw inputs x of a network trained on x/scale: the first input weights ← W/scale."""
    theta = theta.copy()
    for layer, s in zip(net.layers, net.slices):
        if layer.n_params:
            _input_weights(layer, theta[s])[...] /= scale
            return theta
    return theta


def predict_labels(F, classes):
    """Class labels: ``classes[F > 0]`` for one output, else ``classes[argmax F]`` (as the estimators)."""
    return classes[class_index(F)]


def metrics(obj, theta, y, task, classes):
    """``{"loss": …, "accuracy": …}`` (classification) or ``{"loss", "rmse", "r2"}`` (regression)."""
    F = obj.predict(theta)
    out = {"loss": float(obj.loss.value(F, obj.Y))}
    if task == "classification":
        out["accuracy"] = float(np.mean(predict_labels(F, classes) == y))
    else:
        from sklearn.metrics import r2_score

        out["rmse"] = float(np.sqrt(np.mean((F - obj.Y) ** 2)))
        out["r2"] = float(r2_score(obj.Y, F)) if len(obj.Y) > 1 else float("nan")
    return out
