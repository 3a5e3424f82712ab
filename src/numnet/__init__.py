"""numnet: numerical methods for deep learning with explicit, verified derivatives.

``import numnet`` loads the core (layers, networks, losses, objectives,
checks, io, data sets). The optimizers (``numnet.minimize``, ``METHODS``,
``OptimizeResult``), the curvature tools (``numnet.curvature``) and the
estimator classes (``numnet.MLPClassifier``, ``from numnet import
NetworkClassifier``, …, which import scikit-learn) load on first use; see
:func:`__getattr__`.
"""

import importlib

from . import datasets
from ._version import __version__ as __version__
from .activations import ACTIVATIONS, Activation, get_activation
from .checks import adjoint_check, check_layer, derivative_check
from .graph import Add, Concat, Graph, Node
from .io import load, save
from .layers import Dense, Residual
from .layers import AvgPool1d, AvgPool2d, Conv1d, Conv2d, Flatten, MaxPool1d, MaxPool2d, Reshape
from .layers import Dropout, Recurrent
from .losses import LOSSES, get_loss
from .malloc import tune_malloc
from .network import Sequential
from .objective import Linearization, NetworkLinearization, Objective
from .regularizers import GeneralizedTikhonov, L1Penalty, Tikhonov


__all__ = [
    "ACTIVATIONS",
    "Activation",
    "get_activation",
    "adjoint_check",
    "check_layer",
    "derivative_check",
    "Dense",
    "Residual",
    "Sequential",
    "Conv1d",
    "Conv2d",
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "Flatten",
    "Reshape",
    "Dropout",
    "Recurrent",
    "Graph",
    "Node",
    "Add",
    "Concat",
    "LOSSES",
    "get_loss",
    "Objective",
    "Linearization",
    "NetworkLinearization",
    "Tikhonov",
    "GeneralizedTikhonov",
    "L1Penalty",
    "minimize",
    "METHODS",
    "OptimizeResult",
    "curvature",
    "datasets",
    "MLPClassifier",
    "MLPRegressor",
    "NetworkClassifier",
    "NetworkRegressor",
    "ELMClassifier",
    "ELMRegressor",
    "save",
    "load",
    "tune_malloc",
]

_LAZY = {
    name: ".estimators"
    for name in (
        "MLPClassifier",
        "MLPRegressor",
        "NetworkClassifier",
        "NetworkRegressor",
        "ELMClassifier",
        "ELMRegressor",
    )
}
_LAZY.update({name: ".optim" for name in ("METHODS", "OptimizeResult", "minimize")})
_LAZY.update(estimators=None, optim=None, curvature=None)


def __getattr__(name):
    """The optimizers, curvature tools and estimators (``_LAZY``), imported on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = _LAZY[name]
    value = importlib.import_module(module or f".{name}", __name__)
    if module is not None:
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
