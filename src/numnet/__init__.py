"""numnet: numerical methods for deep learning with explicit, verified derivatives."""

from . import curvature, datasets
from .activations import ACTIVATIONS, Activation, get_activation
from .checks import adjoint_check, check_layer, derivative_check
from .estimators import (ELMClassifier, ELMRegressor, MLPClassifier, MLPRegressor, NetworkClassifier,
                         NetworkRegressor)
from .graph import Add, Concat, Graph, Node
from .io import load, save
from .layers import Dense, Residual
from .layers import AvgPool1d, AvgPool2d, Conv1d, Conv2d, Flatten, MaxPool1d, MaxPool2d, Reshape
from .layers import Dropout, Recurrent
from .losses import LOSSES, get_loss
from .malloc import tune_malloc
from .network import Sequential
from .objective import Linearization, Objective
from .optim import METHODS, OptimizeResult, minimize
from .regularizers import GeneralizedTikhonov, L1Penalty, Tikhonov

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS", "Activation", "get_activation",
    "adjoint_check", "check_layer", "derivative_check",
    "Dense", "Residual", "Sequential",
    "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "Flatten", "Reshape",
    "Dropout", "Recurrent",
    "Graph", "Node", "Add", "Concat",
    "LOSSES", "get_loss", "Objective", "Linearization",
    "Tikhonov", "GeneralizedTikhonov", "L1Penalty",
    "minimize", "METHODS", "OptimizeResult",
    "curvature", "datasets",
    "MLPClassifier", "MLPRegressor", "NetworkClassifier", "NetworkRegressor",
    "ELMClassifier", "ELMRegressor", "save", "load",
    "tune_malloc",
]
