"""Training a single layer on peaks (notes 000): first- against second-order methods.

(Work in progress: the shared problem set-up comes first.)
"""

from typing import NamedTuple

import numpy as np

from ..datasets import peaks, train_val_test_split
from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..regularizers import Tikhonov

__all__ = ["PeaksProblem", "peaks_problem", "accuracy"]


class PeaksProblem(NamedTuple):
    """A single-layer classifier on peaks: network, training and validation objectives."""

    net: Sequential
    train: Objective
    val: Objective


def peaks_problem(*, n_samples=1000, n_classes=5, n_hidden=32, activation="tanh", alpha=1e-4,
                  val_fraction=0.2, seed=0, dtype=np.float64):
    """Peaks data split into training/validation and the single-layer network of notes 000.

    The network is F = σ(X W₁ + b₁) W₂ + b₂ (notes: S = W σ(KY + b), K = W₁ᵀ)
    with a softmax cross-entropy loss and weight decay ½α‖W‖² on the weights
    (not the biases).
    """
    X, y = peaks(n_samples, n_classes, random_state=seed, dtype=dtype)
    Xtr, ytr, Xva, yva, _, _ = train_val_test_split(X, y, val_fraction=val_fraction, test_fraction=0.0,
                                                    random_state=seed)
    net = Sequential([Dense(2, n_hidden, activation), Dense(n_hidden, n_classes)])
    reg = Tikhonov(alpha, mask=~net.bias_mask()) if alpha > 0 else None
    return PeaksProblem(net, Objective(net, "cross_entropy", Xtr, ytr, reg),
                        Objective(net, "cross_entropy", Xva, yva))


def accuracy(obj, theta):
    """Fraction of the objective's samples whose largest output is the target class."""
    return float(np.mean(obj.predict(theta).argmax(axis=1) == obj.Y.argmax(axis=1)))
