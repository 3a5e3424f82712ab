"""Optimizers behind one entry point, :func:`minimize` (see ``METHODS``).

Each method is a :class:`Method`: options bound and checked before any work,
``init`` and ``step`` over a state of plain data, so that a run can be
checkpointed and resumed bit for bit (``minimize(..., checkpoint=, resume=)``).
"""

from .base import Iterate, Method, NoProgress, OptimizeResult, Status, robust_norm
from .driver import minimize
from .methods import METHODS, register
from .problem import FunctionObjective, Problem

__all__ = [
    "minimize",
    "METHODS",
    "OptimizeResult",
    "Status",
    "Iterate",
    "NoProgress",
    "Method",
    "register",
    "FunctionObjective",
    "Problem",
    "robust_norm",
]
