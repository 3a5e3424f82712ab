"""Optimizers behind one entry point, :func:`minimize` (see ``METHODS``)."""

from .base import METHODS, Iterate, NoProgress, OptimizeResult, Status, minimize, register
from .problem import FunctionObjective, Problem

__all__ = ["minimize", "METHODS", "OptimizeResult", "Status", "Iterate", "NoProgress",
           "register", "FunctionObjective", "Problem"]
from . import gd  # noqa: F401,E402  (registers "gd")
from . import subgradient  # noqa: F401,E402  (registers "subgradient")
from . import sgd  # noqa: F401,E402  (registers "sgd", "adam")
from . import sr1  # noqa: F401,E402  (registers "sr1")
from . import bfgs  # noqa: F401,E402  (registers "bfgs")
from . import lbfgs  # noqa: F401,E402  (registers "lbfgs")
