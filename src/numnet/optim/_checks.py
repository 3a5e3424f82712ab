"""Value checks of method options, each raising ``ValueError``/``TypeError`` that names the option.

The number checks are the package's one validator set (:mod:`numnet._validation`), re-exported here.
"""

import numpy as np

from .._validation import (
    check_int,
    check_non_negative,
    check_open_unit,
    check_positive,
    check_unit_interval,
)
from .linesearch import LINE_SEARCHES

__all__ = [
    "check_positive",
    "check_non_negative",
    "check_open_unit",
    "check_cg_options",
    "check_line_search",
    "check_int",
    "check_bool",
    "check_choice",
    "check_unit_interval",
    "check_whole_objective",
]


def check_bool(value, name):
    """Raise TypeError unless value is a bool."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool, got {value!r}")
    return value


def check_choice(value, name, choices):
    """Raise ValueError unless value is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_whole_objective(problem, method):
    """Raise TypeError unless ``problem``'s objective holds every sample (an :class:`~numnet.objective.Objective`).

    For the methods that read the samples X, Y themselves (kfac's factors, varpro's inner solve)
    rather than only values and products of the objective: a
    :class:`~numnet.distributed.DistributedObjective` holds one rank's rows.
    """
    obj = getattr(problem, "objective", problem)
    if not all(
        hasattr(obj, name) for name in ("net", "loss", "X", "Y")
    ):  # a DistributedObjective has no X
        hint = (
            " (this rank's rows only: run it in one process)"
            if type(obj).__name__ == "DistributedObjective"
            else ""
        )
        raise TypeError(
            f"method {method!r} reads the samples X, Y itself and needs an Objective holding all of "
            f"them, got obj of type {type(obj).__name__}{hint}"
        )
    return obj


def check_cg_options(max_cg, forcing_power, max_forcing):
    """Validate the options shared by every CG-based method."""
    check_positive(max_cg, "max_cg", integer=True)
    check_positive(forcing_power, "forcing_power")
    check_open_unit(max_forcing, "max_forcing")


def check_line_search(line_search, c1, c2, max_evals, name="line_search"):
    """Validate a line-search choice with its constants: 0 < c1 < 1, and c1 < c2 < 1 for "wolfe"."""
    check_choice(line_search, name, LINE_SEARCHES)
    check_open_unit(c1, "c1")
    if line_search == "wolfe":
        check_open_unit(c2, "c2")
        if not c1 < c2:
            raise ValueError(f"need c1 < c2 for a Wolfe line search, got c1={c1!r}, c2={c2!r}")
    check_int(max_evals, "max_evals")
