"""Layers: the :class:`Layer` contract and every layer numnet ships.

Each layer has explicit forward, Jacobian-vector (``jvp``), adjoint
(``vjp``) and R-operator (``rop``) products over its slice of the one flat
parameter vector; see :class:`Layer` for the contract and the README's "How
to add a layer" for a walk-through.
"""

from ._contract import INIT_SCHEMES, Layer
from .dense import Dense, DenseCache, Residual
from .conv import Conv1d, Conv2d, ConvCache, as_rows
from .pooling import AvgPool1d, AvgPool2d, Flatten, MaxPool1d, MaxPool2d, PoolCache, Reshape
from .dropout import Dropout, DropoutCache, with_dropout_key
from .recurrent import Recurrent, RecurrentCache

__all__ = ["Layer", "INIT_SCHEMES", "Dense", "DenseCache", "Residual"]
__all__ += [
    "Conv2d",
    "Conv1d",
    "ConvCache",
    "as_rows",
    "MaxPool2d",
    "AvgPool2d",
    "MaxPool1d",
    "AvgPool1d",
    "Reshape",
    "Flatten",
    "PoolCache",
]
__all__ += ["Dropout", "DropoutCache", "with_dropout_key", "Recurrent", "RecurrentCache"]
