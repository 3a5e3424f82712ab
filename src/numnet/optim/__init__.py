"""Optimizers behind one entry point, :func:`minimize` (see ``METHODS``)."""

from .base import METHODS, Iterate, NoProgress, OptimizeResult, Status, minimize, register
from .problem import FunctionObjective, Problem

__all__ = ["minimize", "METHODS", "OptimizeResult", "Status", "Iterate", "NoProgress",
           "register", "FunctionObjective", "Problem"]
from . import newton_cg  # noqa: F401,E402  (registers "newton-cg")
from . import trust_ncg  # noqa: F401,E402  (registers "trust-ncg")
from . import gauss_newton  # noqa: F401,E402  (registers "gauss-newton")
from . import levenberg_marquardt  # noqa: F401,E402  (registers "levenberg-marquardt")
from . import block_gauss_newton  # noqa: F401,E402  (registers "block-gauss-newton")
from . import gd  # noqa: F401,E402  (registers "gd")
from . import subgradient  # noqa: F401,E402  (registers "subgradient")
from . import sgd  # noqa: F401,E402  (registers "sgd", "adam")
from . import sr1  # noqa: F401,E402  (registers "sr1")
from . import bfgs  # noqa: F401,E402  (registers "bfgs")
from . import lbfgs  # noqa: F401,E402  (registers "lbfgs")
from . import varpro  # noqa: F401,E402  (registers "varpro")
