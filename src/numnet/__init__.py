"""numnet: numerical methods for deep learning with explicit, verified derivatives."""

from .activations import ACTIVATIONS, Activation, get_activation
from .checks import adjoint_check, check_layer, derivative_check
from .layers import Dense, Residual
from .network import Sequential

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS", "Activation", "get_activation",
    "adjoint_check", "check_layer", "derivative_check",
    "Dense", "Residual", "Sequential",
]
