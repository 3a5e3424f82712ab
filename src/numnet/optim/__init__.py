"""Optimizers behind one entry point, :func:`minimize` (see ``METHODS``)."""

from .base import METHODS, Iterate, NoProgress, OptimizeResult, Status, minimize, register
from .problem import FunctionObjective, Problem

__all__ = ["minimize", "METHODS", "OptimizeResult", "Status", "Iterate", "NoProgress",
           "register", "FunctionObjective", "Problem"]
