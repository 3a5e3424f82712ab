"""A catalogue of bad inputs to the library (issue 18): each one is a clear ``ValueError`` or ``TypeError``.

One table row per bad input: the call, the exception type it must raise, and
a pattern the message must match, which names the argument the user wrote
(``dtheta``, ``n_steps``, ``classes``, …). Nothing may surface as an
``AttributeError``, ``IndexError``, a NumPy broadcasting error or, worse, a
result computed from nonsense (NaN directions, a complex direction whose
imaginary part is dropped, a check that tested nothing).
"""

import re
from typing import Callable, NamedTuple

import numpy as np
import pytest

import numnet as nn
from numnet import curvature
from numnet.augment import Augment
from numnet.checks import adjoint_check, check_layer, derivative_check
from numnet.layers import (
    AvgPool2d,
    Conv1d,
    Conv2d,
    Dense,
    Dropout,
    Flatten,
    MaxPool1d,
    MaxPool2d,
    Recurrent,
    Reshape,
    Residual,
)
from numnet.losses import get_loss
from numnet.random_features import fit_least_squares, random_features
from numnet.regularizers import GeneralizedTikhonov, L1Penalty, Tikhonov

RNG = np.random.default_rng(0)
X = RNG.standard_normal((6, 2))
Y = X[:, :1] ** 2
LABELS = np.array([0, 1, 2, 0, 1, 2])
NET = nn.Sequential([Dense(2, 3, "tanh"), Dense(3, 1)])
THETA = NET.init(0)
P = NET.n_params
OBJ = nn.Objective(NET, "squared_error", X, Y)
LIN = OBJ.at(THETA)
CACHE = NET.forward(THETA, X)[1]
DENSE = Dense(2, 3, "tanh")
DENSE_THETA = DENSE.init(0)
DENSE_CACHE = DENSE.forward(DENSE_THETA, X)[1]
CONV = Conv2d((4, 4, 1), 2, 3)
CONV_X = RNG.standard_normal((2, 16))
CONV_THETA = CONV.init(0)
CONV_CACHE = CONV.forward(CONV_THETA, CONV_X)[1]
REC = Recurrent(3, 2, 4)
REC_X = RNG.standard_normal((5, 6))
REC_THETA = REC.init(0)
REC_CACHE = REC.forward(REC_THETA, REC_X)[1]
POOL = MaxPool2d((4, 4, 1), 2)
POOL_CACHE = POOL.forward(np.empty(0), CONV_X)[1]
DROP = Dropout(2, 0.5, key=1)
DROP_CACHE = DROP.forward(np.empty(0), X)[1]
GOOD_V = np.ones(P)
GRAPH = nn.Graph(
    2,
    [
        ("a", Dense(2, 3, "tanh")),
        ("b", Dense(2, 3), ["input"]),
        ("sum", nn.Add(), ["a", "b"]),
        ("out", Dense(3, 1), "sum"),
    ],
)
GRAPH_THETA = GRAPH.init(0)
GRAPH_CACHE = GRAPH.forward(GRAPH_THETA, X)[1]
GP = GRAPH.n_params
CE = get_loss("cross_entropy")


class Bad(NamedTuple):
    """A bad input: ``call()`` must raise ``error`` with a message matching ``names``."""

    call: Callable
    error: type
    names: str


def _estimator(name, **params):
    return getattr(nn, name)(**params)


def _fit(name, X_=X, y=None, **params):
    return lambda: _estimator(name, **params).fit(X_, LABELS if y is None else y)


def _fitted_classifier():
    return nn.MLPClassifier(hidden_layer_sizes=(3,), solver="sgd", max_iter=2, random_state=0).fit(
        X, LABELS
    )


def _partial_fit_twice(first, second):
    est = nn.MLPClassifier(hidden_layer_sizes=(3,), solver="sgd", random_state=0)
    est.partial_fit(X, LABELS, classes=first)
    return est.partial_fit(X, LABELS, classes=second)


def _graph(nodes, output=None, d_in=2):
    return lambda: nn.Graph(d_in, nodes, output)


CASES = {
    # ---------------------------------------------------------------- Dense
    "dense d_in 0": Bad(lambda: Dense(0, 3), ValueError, "d_in"),
    "dense d_in float": Bad(lambda: Dense(2.5, 3), ValueError, "d_in"),
    "dense d_out negative": Bad(lambda: Dense(2, -1), ValueError, "d_out"),
    "dense d_out bool": Bad(lambda: Dense(2, True), ValueError, "d_out"),
    "dense activation unknown": Bad(lambda: Dense(2, 3, "tanhh"), ValueError, "activation"),
    "dense bias string": Bad(lambda: Dense(2, 3, bias="no"), TypeError, "bias"),
    "dense init string rng": Bad(lambda: DENSE.init("seed"), TypeError, "rng"),
    "dense init float rng": Bad(lambda: DENSE.init(1.5), TypeError, "rng"),
    "dense init int dtype": Bad(lambda: DENSE.init(0, np.int32), TypeError, "dtype"),
    "dense init scheme": Bad(lambda: DENSE.init(0, scheme="glorot"), ValueError, "scheme"),
    "dense forward theta short": Bad(
        lambda: DENSE.forward(DENSE_THETA[:-1], X), ValueError, "theta"
    ),
    "dense forward theta complex": Bad(
        lambda: DENSE.forward(DENSE_THETA + 0j, X), TypeError, "theta"
    ),
    "dense forward theta nan": Bad(
        lambda: DENSE.forward(np.full(9, np.nan), X), ValueError, "theta"
    ),
    "dense forward X columns": Bad(
        lambda: DENSE.forward(DENSE_THETA, np.ones((3, 5))), ValueError, "X"
    ),
    "dense forward X 1-D": Bad(lambda: DENSE.forward(DENSE_THETA, np.ones(2)), ValueError, "X"),
    "dense forward X strings": Bad(
        lambda: DENSE.forward(DENSE_THETA, np.array([["a", "b"]])), TypeError, "X"
    ),
    "dense forward X inf": Bad(
        lambda: DENSE.forward(DENSE_THETA, np.array([[np.inf, 0.0]])), ValueError, "X"
    ),
    "dense forward X float32 theta64": Bad(
        lambda: DENSE.forward(DENSE_THETA, X.astype(np.float32)), TypeError, "X"
    ),
    "dense jvp dtheta short": Bad(
        lambda: DENSE.jvp(DENSE_THETA, DENSE_CACHE, np.ones(7), None), ValueError, "dtheta"
    ),
    "dense jvp dtheta nan": Bad(
        lambda: DENSE.jvp(DENSE_THETA, DENSE_CACHE, np.full(9, np.nan), None), ValueError, "dtheta"
    ),
    "dense jvp dtheta complex": Bad(
        lambda: DENSE.jvp(DENSE_THETA, DENSE_CACHE, np.ones(9) * 1j, None), TypeError, "dtheta"
    ),
    "dense jvp dtheta strings": Bad(
        lambda: DENSE.jvp(DENSE_THETA, DENSE_CACHE, np.array(["1"] * 9), None), TypeError, "dtheta"
    ),
    "dense jvp dX rows": Bad(
        lambda: DENSE.jvp(DENSE_THETA, DENSE_CACHE, None, np.ones((5, 2))), ValueError, "dX"
    ),
    "dense jvp dX inf": Bad(
        lambda: DENSE.jvp(DENSE_THETA, DENSE_CACHE, None, np.full((6, 2), np.inf)), ValueError, "dX"
    ),
    # ------------------------------------------------------------- Residual
    "residual width 0": Bad(lambda: Residual(0), ValueError, "d_in"),
    "residual step string": Bad(lambda: Residual(2, step="1"), TypeError, "step"),
    "residual step inf": Bad(lambda: Residual(2, step=np.inf), ValueError, "step"),
    "residual activation": Bad(lambda: Residual(2, activation=3), ValueError, "activation"),
    "residual jvp dX columns": Bad(
        lambda: Residual(2).jvp(
            Residual(2).init(0), DENSE.forward(DENSE_THETA, X)[1], None, np.ones((6, 3))
        ),
        ValueError,
        "dX",
    ),
    # --------------------------------------------------------------- Conv2d
    "conv input_shape 2-D": Bad(lambda: Conv2d((4, 4), 2, 3), ValueError, "input_shape"),
    "conv input_shape zero": Bad(lambda: Conv2d((4, 0, 1), 2, 3), ValueError, "input_shape"),
    "conv filters 0": Bad(lambda: Conv2d((4, 4, 1), 0, 3), ValueError, "filters"),
    "conv filters float": Bad(lambda: Conv2d((4, 4, 1), 2.0, 3), TypeError, "filters"),
    "conv kernel too large": Bad(lambda: Conv2d((4, 4, 1), 2, 5), ValueError, "kernel_size"),
    "conv kernel triple": Bad(lambda: Conv2d((4, 4, 1), 2, (3, 3, 3)), ValueError, "kernel_size"),
    "conv stride 0": Bad(lambda: Conv2d((4, 4, 1), 2, 3, stride=0), ValueError, "stride"),
    "conv padding negative": Bad(
        lambda: Conv2d((4, 4, 1), 2, 3, padding=-1), ValueError, "padding"
    ),
    "conv bias int": Bad(lambda: Conv2d((4, 4, 1), 2, 3, bias=1), TypeError, "bias"),
    "conv forward X width": Bad(
        lambda: CONV.forward(CONV_THETA, np.ones((2, 15))), ValueError, "X"
    ),
    "conv jvp dtheta short": Bad(
        lambda: CONV.jvp(CONV_THETA, CONV_CACHE, np.ones(CONV.n_params - 2), None),
        ValueError,
        "dtheta",
    ),
    "conv jvp dX complex": Bad(
        lambda: CONV.jvp(CONV_THETA, CONV_CACHE, None, np.ones((2, 16)) + 1j), TypeError, "dX"
    ),
    "conv1d kernel 0": Bad(lambda: Conv1d((8, 1), 2, 0), ValueError, "kernel_size"),
    "conv1d input_shape 3-D": Bad(lambda: Conv1d((8, 1, 1), 2, 3), ValueError, "input_shape"),
    # -------------------------------------------------------------- pooling
    "maxpool pool 0": Bad(lambda: MaxPool2d((4, 4, 1), 0), ValueError, "pool_size"),
    "maxpool pool too large": Bad(lambda: MaxPool2d((4, 4, 1), 5), ValueError, "pool_size"),
    "avgpool stride 0": Bad(lambda: AvgPool2d((4, 4, 1), 2, stride=0), ValueError, "stride"),
    "maxpool1d input_shape": Bad(lambda: MaxPool1d((8,), 2), ValueError, "input_shape"),
    "reshape sizes differ": Bad(lambda: Reshape((2, 3), (5,)), ValueError, "output_shape"),
    "reshape empty": Bad(lambda: Reshape((), (1,)), ValueError, "input_shape"),
    "flatten negative": Bad(lambda: Flatten((4, -1)), ValueError, "input_shape"),
    "pool forward theta nonempty": Bad(
        lambda: POOL.forward(np.ones(1), CONV_X), ValueError, "theta"
    ),
    "pool jvp dX nan": Bad(
        lambda: POOL.jvp(np.empty(0), POOL_CACHE, None, np.full((2, 16), np.nan)), ValueError, "dX"
    ),
    "pool init dtype": Bad(lambda: POOL.init(0, "float16"), TypeError, "dtype"),
    # -------------------------------------------------------------- Dropout
    "dropout p 1": Bad(lambda: Dropout(2, 1.0), ValueError, r"\bp\b"),
    "dropout p negative": Bad(lambda: Dropout(2, -0.1), ValueError, r"\bp\b"),
    "dropout width 0": Bad(lambda: Dropout(0, 0.5), ValueError, "width"),
    "dropout seed negative": Bad(lambda: Dropout(2, 0.5, seed=-1), ValueError, "seed"),
    "dropout key string": Bad(lambda: Dropout(2, 0.5, key="a"), TypeError, "key"),
    "dropout init scheme": Bad(lambda: DROP.init(0, scheme="x"), ValueError, "scheme"),
    "dropout jvp dX shape": Bad(
        lambda: DROP.jvp(np.empty(0), DROP_CACHE, None, np.ones((6, 3))), ValueError, "dX"
    ),
    # ------------------------------------------------------------ Recurrent
    "recurrent n_steps 0": Bad(lambda: Recurrent(0, 2, 4), ValueError, "n_steps"),
    "recurrent d_x 0": Bad(lambda: Recurrent(3, 0, 4), ValueError, "d_x"),
    "recurrent d_h float": Bad(lambda: Recurrent(3, 2, 4.0), ValueError, "d_h"),
    "recurrent output": Bad(lambda: Recurrent(3, 2, 4, output="all"), ValueError, "output"),
    "recurrent bias": Bad(lambda: Recurrent(3, 2, 4, bias="yes"), TypeError, "bias"),
    "recurrent forward X width": Bad(
        lambda: REC.forward(REC_THETA, np.ones((5, 5))), ValueError, "X"
    ),
    "recurrent jvp dtheta short": Bad(
        lambda: REC.jvp(REC_THETA, REC_CACHE, np.ones(REC.n_params - 2), None), ValueError, "dtheta"
    ),
    "recurrent init string rng": Bad(lambda: REC.init("0"), TypeError, "rng"),
    # ---------------------------------------------------------------- Graph
    "graph d_in 0": Bad(_graph([("a", Dense(2, 2))], d_in=0), ValueError, "d_in"),
    "graph no nodes": Bad(_graph([]), ValueError, "nodes"),
    "graph duplicate node": Bad(
        _graph([("a", Dense(2, 2)), ("a", Dense(2, 2), ["a"])]), ValueError, "'a'"
    ),
    "graph unknown output": Bad(_graph([("a", Dense(2, 2))], output="b"), ValueError, "output"),
    "graph width mismatch": Bad(_graph([("a", Dense(3, 2))]), ValueError, "'a'"),
    "graph add widths": Bad(
        _graph([("a", Dense(2, 3)), ("b", Dense(2, 2), ["input"]), ("c", nn.Add(), ["a", "b"])]),
        ValueError,
        "Add",
    ),
    "graph init rng": Bad(lambda: nn.Graph(2, [("a", Dense(2, 2))]).init("x"), TypeError, "seed"),
    "graph jvp dtheta nan": Bad(
        lambda: GRAPH.jvp(GRAPH_THETA, GRAPH_CACHE, np.full(GP, np.nan), None), ValueError, "dtheta"
    ),
    "graph jvp dtheta inf": Bad(
        lambda: GRAPH.jvp(GRAPH_THETA, GRAPH_CACHE, np.full(GP, np.inf), None), ValueError, "dtheta"
    ),
    "graph jvp dtheta short": Bad(
        lambda: GRAPH.jvp(GRAPH_THETA, GRAPH_CACHE, np.ones(GP - 2), None), ValueError, "dtheta"
    ),
    "graph jvp dtheta 2-D": Bad(
        lambda: GRAPH.jvp(GRAPH_THETA, GRAPH_CACHE, np.ones((GP, 1)), None), ValueError, "dtheta"
    ),
    "graph jvp dtheta complex": Bad(
        lambda: GRAPH.jvp(GRAPH_THETA, GRAPH_CACHE, np.ones(GP) + 1j, None), TypeError, "dtheta"
    ),
    "graph jvp dtheta strings": Bad(
        lambda: GRAPH.jvp(GRAPH_THETA, GRAPH_CACHE, np.array(["1"] * GP), None), TypeError, "dtheta"
    ),
    "graph jvp dX rows": Bad(
        lambda: GRAPH.jvp(GRAPH_THETA, GRAPH_CACHE, None, np.ones((5, 2))), ValueError, "dX"
    ),
    "graph jvp dX nan": Bad(
        lambda: GRAPH.jvp(GRAPH_THETA, GRAPH_CACHE, None, np.full((6, 2), np.nan)), ValueError, "dX"
    ),
    "graph jvp dX complex": Bad(
        lambda: GRAPH.jvp(GRAPH_THETA, GRAPH_CACHE, None, np.ones((6, 2)) * 1j), TypeError, "dX"
    ),
    # ----------------------------------------------------------- Sequential
    "sequential ints": Bad(lambda: nn.Sequential([1, 2]), TypeError, r"layers\[0\]"),
    "sequential empty": Bad(lambda: nn.Sequential([]), ValueError, "layers"),
    "sequential widths": Bad(
        lambda: nn.Sequential([Dense(2, 3), Dense(4, 1)]), ValueError, r"layers\[1\]"
    ),
    "sequential init scheme": Bad(lambda: NET.init(0, scheme="he2"), ValueError, "scheme"),
    "sequential init seed": Bad(lambda: NET.init("0"), TypeError, "seed"),
    "sequential init dtype": Bad(lambda: NET.init(0, dtype=complex), TypeError, "dtype"),
    "sequential forward theta 2-D": Bad(lambda: NET.forward(THETA[None], X), ValueError, "theta"),
    "sequential jvp dtheta short": Bad(
        lambda: NET.jvp(THETA, CACHE, np.ones(P - 2), None), ValueError, "dtheta"
    ),
    "sequential jvp dtheta inf": Bad(
        lambda: NET.jvp(THETA, CACHE, np.full(P, np.inf), None), ValueError, "dtheta"
    ),
    "sequential jvp dX columns": Bad(
        lambda: NET.jvp(THETA, CACHE, None, np.ones((6, 4))), ValueError, "dX"
    ),
    # ------------------------------------------------------------ Objective
    "objective net None": Bad(lambda: nn.Objective(None, "squared_error", X, Y), TypeError, "net"),
    "objective net string": Bad(
        lambda: nn.Objective("mlp", "squared_error", X, Y), TypeError, "net"
    ),
    "objective loss unknown": Bad(lambda: nn.Objective(NET, "mse", X, Y), ValueError, "loss"),
    "objective X columns": Bad(
        lambda: nn.Objective(NET, "squared_error", np.ones((6, 3)), Y), ValueError, "X"
    ),
    "objective X empty": Bad(
        lambda: nn.Objective(NET, "squared_error", np.ones((0, 2)), Y[:0]), ValueError, "X"
    ),
    "objective Y rows": Bad(lambda: nn.Objective(NET, "squared_error", X, Y[:4]), ValueError, "Y"),
    "objective Y nan": Bad(
        lambda: nn.Objective(NET, "squared_error", X, np.full((6, 1), np.nan)), ValueError, "Y"
    ),
    "objective regularizer string": Bad(
        lambda: nn.Objective(NET, "squared_error", X, Y, "l2"), TypeError, "regularizer"
    ),
    "objective regularizer negative": Bad(
        lambda: nn.Objective(NET, "squared_error", X, Y, -1.0), ValueError, "lam"
    ),
    "objective value theta short": Bad(lambda: OBJ.value(THETA[:-2]), ValueError, "theta"),
    "objective value theta float32": Bad(
        lambda: OBJ.value(THETA.astype(np.float32)), TypeError, "theta"
    ),
    "objective grad theta strings": Bad(lambda: OBJ.grad(THETA.astype(str)), TypeError, "theta"),
    "objective hvp v nan": Bad(lambda: OBJ.hvp(THETA, np.full(P, np.nan)), ValueError, r"\bv\b"),
    "objective hvp v inf": Bad(lambda: OBJ.hvp(THETA, np.full(P, -np.inf)), ValueError, r"\bv\b"),
    "objective hvp v complex": Bad(lambda: OBJ.hvp(THETA, GOOD_V + 1j), TypeError, r"\bv\b"),
    "objective hvp v strings": Bad(lambda: OBJ.hvp(THETA, GOOD_V.astype(str)), TypeError, r"\bv\b"),
    "objective hvp v short": Bad(lambda: OBJ.hvp(THETA, GOOD_V[:-2]), ValueError, r"\bv\b"),
    "objective hvp v 2-D": Bad(lambda: OBJ.hvp(THETA, GOOD_V[:, None]), ValueError, r"\bv\b"),
    "objective gnvp v nan": Bad(lambda: OBJ.gnvp(THETA, np.full(P, np.nan)), ValueError, r"\bv\b"),
    "objective gnvp v complex": Bad(lambda: OBJ.gnvp(THETA, GOOD_V * 1j), TypeError, r"\bv\b"),
    "objective gnvp v object": Bad(
        lambda: OBJ.gnvp(THETA, np.array([None] * P)), TypeError, r"\bv\b"
    ),
    "objective predict X columns": Bad(
        lambda: OBJ.predict(THETA, np.ones((2, 3))), ValueError, "X"
    ),
    "objective batch empty": Bad(lambda: OBJ.batch(slice(0, 0)), ValueError, "rows"),
    # -------------------------------------------------------- Linearization
    "linearization hvp nan": Bad(lambda: LIN.hvp(np.full(P, np.nan)), ValueError, r"\bv\b"),
    "linearization hvp short": Bad(lambda: LIN.hvp(GOOD_V[:-2]), ValueError, r"\bv\b"),
    "linearization gnvp complex": Bad(lambda: LIN.gnvp(GOOD_V + 0.5j), TypeError, r"\bv\b"),
    "linearization gnvp bytes": Bad(lambda: LIN.gnvp(np.array([b"1"] * P)), TypeError, r"\bv\b"),
    "linearization H complex": Bad(lambda: LIN.H @ (GOOD_V + 1j), TypeError, r"\bv\b"),
    "linearization G nan": Bad(lambda: LIN.G @ np.full(P, np.nan), ValueError, r"\bv\b"),
    # ---------------------------------------------------------------- losses
    "loss unknown name": Bad(lambda: get_loss("l2"), ValueError, "loss"),
    "loss not a loss": Bad(lambda: get_loss(3), ValueError, "loss"),
    "huber delta 0": Bad(lambda: nn.losses.Huber(0.0), ValueError, "delta"),
    "huber delta nan": Bad(lambda: nn.losses.Huber(np.nan), ValueError, "delta"),
    "targets wrong width": Bad(
        lambda: get_loss("squared_error").targets(np.ones((3, 2)), 1), ValueError, "Y"
    ),
    "targets strings": Bad(
        lambda: get_loss("squared_error").targets(np.array(["a"]), 1), TypeError, "Y"
    ),
    "hinge targets 0/1": Bad(lambda: get_loss("hinge").targets([0, 1], 1), ValueError, "Y"),
    "binomial targets 2": Bad(lambda: get_loss("binomial").targets([1, 2], 1), ValueError, "Y"),
    "bce targets 1.5": Bad(
        lambda: get_loss("binary_cross_entropy").targets([1.5], 1), ValueError, "Y"
    ),
    "ce labels out of range": Bad(lambda: CE.targets([0, 3], 3), ValueError, "Y"),
    "ce labels fractional": Bad(lambda: CE.targets([0.5, 1], 3), ValueError, "Y"),
    "ce rows not summing to 1": Bad(lambda: CE.targets([[0.5, 0.4, 0.0]], 3), ValueError, "Y"),
    "ce rows negative": Bad(lambda: CE.targets([[1.5, -0.5, 0.0]], 3), ValueError, "Y"),
    # ---------------------------------------------------------- regularizers
    "tikhonov lam negative": Bad(lambda: Tikhonov(-1.0), ValueError, "lam"),
    "tikhonov lam nan": Bad(lambda: Tikhonov(np.nan), ValueError, "lam"),
    "tikhonov mask shape": Bad(
        lambda: nn.Objective(NET, "squared_error", X, Y, Tikhonov(1.0, mask=np.ones(3))),
        ValueError,
        "mask",
    ),
    "l1 lam inf": Bad(lambda: L1Penalty(np.inf), ValueError, "lam"),
    "generalized tikhonov L columns": Bad(
        lambda: nn.Objective(NET, "squared_error", X, Y, GeneralizedTikhonov(1.0, np.eye(3))),
        ValueError,
        "L",
    ),
    "generalized tikhonov lam": Bad(
        lambda: GeneralizedTikhonov(-2.0, np.eye(P)), ValueError, "lam"
    ),
    # ---------------------------------------------------------------- checks
    "derivative_check n_steps 0": Bad(
        lambda: derivative_check(np.sin, np.ones(3), np.cos, n_steps=0), ValueError, "n_steps"
    ),
    "derivative_check n_steps 1": Bad(
        lambda: derivative_check(np.sin, np.ones(3), np.cos, n_steps=1), ValueError, "n_steps"
    ),
    "derivative_check n_steps float": Bad(
        lambda: derivative_check(np.sin, np.ones(3), np.cos, n_steps=4.0), TypeError, "n_steps"
    ),
    "derivative_check h0 0": Bad(
        lambda: derivative_check(np.sin, np.ones(3), np.cos, h0=0.0), ValueError, "h0"
    ),
    "derivative_check h0 string": Bad(
        lambda: derivative_check(np.sin, np.ones(3), np.cos, h0="1"), TypeError, "h0"
    ),
    "derivative_check x nan": Bad(
        lambda: derivative_check(np.sin, np.array([np.nan]), np.cos), ValueError, r"\bx\b"
    ),
    "derivative_check x complex": Bad(
        lambda: derivative_check(np.sin, np.ones(2) * 1j, np.cos), TypeError, r"\bx\b"
    ),
    "derivative_check v shape": Bad(
        lambda: derivative_check(np.sin, np.ones(3), np.cos, v=np.ones(2)), ValueError, r"\bv\b"
    ),
    "derivative_check seed": Bad(
        lambda: derivative_check(np.sin, np.ones(3), np.cos, seed="a"), TypeError, "seed"
    ),
    "adjoint_check dtype": Bad(
        lambda: adjoint_check(np.negative, np.negative, (3,), (3,), dtype=np.int64),
        TypeError,
        "dtype",
    ),
    "adjoint_check tol negative": Bad(
        lambda: adjoint_check(np.negative, np.negative, (3,), (3,), tol=-1.0), ValueError, "tol"
    ),
    "check_layer zero rows": Bad(
        lambda: check_layer(Dense(2, 3), np.zeros((0, 2))), ValueError, r"\bX\b"
    ),
    "check_layer 1-D X": Bad(lambda: check_layer(Dense(2, 3), np.zeros(2)), ValueError, r"\bX\b"),
    "check_layer n_steps 0": Bad(
        lambda: check_layer(Dense(2, 3), X, n_steps=0), ValueError, "n_steps"
    ),
    "check_layer X columns": Bad(
        lambda: check_layer(Dense(2, 3), np.ones((3, 4))), ValueError, r"\bX\b"
    ),
    # ------------------------------------------------------------- curvature
    "curvature obj not an objective": Bad(
        lambda: curvature.hessian_dense(NET, THETA), TypeError, "obj"
    ),
    "curvature theta with linearization": Bad(
        lambda: curvature.hessian_dense(LIN, THETA), ValueError, "theta"
    ),
    "curvature theta short": Bad(
        lambda: curvature.hessian_dense(OBJ, THETA[:-1]), ValueError, "theta"
    ),
    "curvature diagonal method": Bad(
        lambda: curvature.hessian_diagonal(OBJ, THETA, method="fast"), ValueError, "method"
    ),
    "curvature eigen k 0": Bad(
        lambda: curvature.extreme_eigenvalues(OBJ, THETA, k=0), ValueError, r"\bk\b"
    ),
    "curvature eigen which": Bad(
        lambda: curvature.extreme_eigenvalues(OBJ, THETA, k=2, which="XX"), ValueError, "which"
    ),
    "curvature eigen operator": Bad(
        lambda: curvature.extreme_eigenvalues(OBJ, THETA, k=2, operator="fisher"),
        ValueError,
        "operator",
    ),
    "curvature trace probes 0": Bad(
        lambda: curvature.hutchinson_trace(OBJ, THETA, n_probes=0), ValueError, "n_probes"
    ),
    "curvature fd eps negative": Bad(
        lambda: curvature.hessian_fd_grads(OBJ, THETA, eps=-1e-3), ValueError, "eps"
    ),
    # ------------------------------------------------------ random features
    "random_features bias": Bad(lambda: random_features(2, 3, bias="x"), TypeError, "bias"),
    "random_features activation": Bad(
        lambda: random_features(2, 3, "sigmoidd"), ValueError, "activation"
    ),
    "random_features n_hidden 0": Bad(lambda: random_features(2, 0), ValueError, "n_hidden"),
    "random_features n_features 0": Bad(lambda: random_features(0, 3), ValueError, "n_features"),
    "random_features n_hidden float": Bad(lambda: random_features(2, 3.0), TypeError, "n_hidden"),
    "random_features scale 0": Bad(lambda: random_features(2, 3, scale=0.0), ValueError, "scale"),
    "random_features distribution": Bad(
        lambda: random_features(2, 3, distribution="cauchy"), ValueError, "distribution"
    ),
    "random_features dtype": Bad(lambda: random_features(2, 3, dtype=np.int32), TypeError, "dtype"),
    "random_features random_state": Bad(
        lambda: random_features(2, 3, random_state="a"), TypeError, "seed"
    ),
    "fit_least_squares alpha": Bad(
        lambda: fit_least_squares(random_features(2, 3, random_state=0), X, Y, alpha=-1.0),
        ValueError,
        "alpha",
    ),
    "fit_least_squares Y rows": Bad(
        lambda: fit_least_squares(random_features(2, 3, random_state=0), X, Y[:3]),
        ValueError,
        r"\bY\b",
    ),
    "fit_least_squares solver": Bad(
        lambda: fit_least_squares(random_features(2, 3, random_state=0), X, Y, solver="qr2"),
        ValueError,
        "solver",
    ),
    # ------------------------------------------------------------ estimators
    "mlp hidden sizes 0": Bad(
        _fit("MLPClassifier", hidden_layer_sizes=(0,)), ValueError, "hidden_layer_sizes"
    ),
    "mlp hidden sizes empty": Bad(
        _fit("MLPClassifier", hidden_layer_sizes=()), TypeError, "hidden_layer_sizes"
    ),
    "mlp solver": Bad(_fit("MLPClassifier", solver="newton"), ValueError, "solver"),
    "mlp activation": Bad(_fit("MLPClassifier", activation="swish2"), ValueError, "activation"),
    "mlp alpha negative": Bad(_fit("MLPClassifier", alpha=-1.0), ValueError, "alpha"),
    "mlp max_iter 0": Bad(_fit("MLPClassifier", max_iter=0), ValueError, "max_iter"),
    "mlp max_iter float": Bad(_fit("MLPClassifier", max_iter=2.5), TypeError, "max_iter"),
    "mlp tol nan": Bad(_fit("MLPClassifier", tol=np.nan), ValueError, "tol"),
    "mlp random_state string": Bad(
        _fit("MLPClassifier", random_state="a"), TypeError, "random_state"
    ),
    "mlp loss": Bad(_fit("MLPClassifier", loss="mse"), ValueError, "loss"),
    "mlp X nan": Bad(_fit("MLPClassifier", X_=np.full((6, 2), np.nan)), ValueError, "NaN"),
    "mlp y one class": Bad(lambda: nn.MLPClassifier().fit(X, np.zeros(6)), ValueError, "class"),
    "mlp y rows": Bad(lambda: nn.MLPClassifier().fit(X, LABELS[:4]), ValueError, "samples"),
    "mlp predict features": Bad(
        lambda: _fitted_classifier().predict(np.ones((2, 3))), ValueError, "features"
    ),
    "mlp predict before fit": Bad(lambda: nn.MLPClassifier().predict(X), ValueError, "fitted"),
    "mlp partial_fit first without classes": Bad(
        lambda: nn.MLPClassifier(solver="sgd").partial_fit(X, LABELS), ValueError, "classes"
    ),
    "mlp partial_fit classes changed": Bad(
        lambda: _partial_fit_twice([0, 1, 2], [0, 1, 2, 3]), ValueError, "classes"
    ),
    "mlp partial_fit unknown label": Bad(
        lambda: nn.MLPClassifier(solver="sgd").partial_fit(X, LABELS, classes=[0, 1]),
        ValueError,
        "classes",
    ),
    "mlp regressor y strings": Bad(
        lambda: nn.MLPRegressor().fit(X, np.array(list("abcdef"))), TypeError, r"(?i)\by\b"
    ),
    "network estimator network": Bad(
        lambda: nn.NetworkClassifier(network=3).fit(X, LABELS), TypeError, "network"
    ),
    "elm n_hidden 0": Bad(_fit("ELMClassifier", n_hidden=0), ValueError, "n_hidden"),
    "elm alpha string": Bad(_fit("ELMRegressor", y=Y[:, 0], alpha="1"), TypeError, "alpha"),
    # --------------------------------------------------------------- augment
    "augment image_shape 1-D": Bad(lambda: Augment((64,)), ValueError, "image_shape"),
    "augment image_shape zero": Bad(lambda: Augment((8, 0)), ValueError, "image_shape"),
    "augment shift negative": Bad(lambda: Augment((8, 8), shift=-1), ValueError, "shift"),
    "augment shift float": Bad(lambda: Augment((8, 8), shift=1.5), TypeError, "shift"),
    "augment rotate nan": Bad(lambda: Augment((8, 8), rotate=np.nan), ValueError, "rotate"),
    "augment flip string": Bad(lambda: Augment((8, 8), flip="yes"), TypeError, "flip"),
    "augment noise negative": Bad(lambda: Augment((8, 8), noise=-0.1), ValueError, "noise"),
    "augment call X width": Bad(lambda: Augment((8, 8))(np.ones((2, 63)), 0), ValueError, r"\bX\b"),
    "augment call rng": Bad(lambda: Augment((8, 8))(np.ones((2, 64)), "seed"), TypeError, "rng"),
    "augment call X strings": Bad(
        lambda: Augment((2, 2))(np.array([["a"] * 4]), 0), TypeError, r"\bX\b"
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_raises_a_clear_error_naming_the_argument(case):
    with pytest.raises(case.error) as info:
        case.call()
    assert type(info.value) in (ValueError, TypeError) or issubclass(
        type(info.value), (ValueError, TypeError)
    )
    assert re.search(case.names, str(info.value)), (
        f"message does not name {case.names!r}: {info.value}"
    )


def test_the_catalogue_is_large():
    assert len(CASES) >= 100


def test_partial_fit_may_repeat_the_same_classes_in_any_order():
    est = nn.MLPClassifier(hidden_layer_sizes=(3,), solver="sgd", random_state=0)
    est.partial_fit(X, LABELS, classes=[0, 1, 2])
    est.partial_fit(X, LABELS, classes=[2, 0, 1])
    est.partial_fit(X, LABELS)
    assert est.classes_.tolist() == [0, 1, 2]


def test_layer_init_takes_an_int_seed_like_a_network():
    np.testing.assert_array_equal(DENSE.init(7), DENSE.init(np.random.default_rng(7)))
    np.testing.assert_array_equal(
        CONV.init(3, np.float32), CONV.init(np.random.default_rng(3), np.float32)
    )


def test_valid_directions_of_other_kinds_are_converted_not_refused():
    """Integer and float32 directions are fine: converted to the parameters' dtype, same products."""
    ints = np.arange(P) % 3
    np.testing.assert_allclose(
        OBJ.hvp(THETA, ints), OBJ.hvp(THETA, ints.astype(float)), rtol=0, atol=0
    )
    np.testing.assert_allclose(
        LIN.gnvp(ints.astype(np.float32)), LIN.gnvp(ints.astype(float)), rtol=0, atol=0
    )


def test_graph_jvp_converts_valid_directions_like_sequential():
    """A Graph checks its directions as Sequential does: integer and list directions give the float products."""
    ints = np.arange(GP) % 3
    dX = (np.arange(12) % 5).reshape(6, 2)
    want = GRAPH.jvp(GRAPH_THETA, GRAPH_CACHE, ints.astype(float), dX.astype(float))
    np.testing.assert_array_equal(GRAPH.jvp(GRAPH_THETA, GRAPH_CACHE, ints, dX), want)
    np.testing.assert_array_equal(
        GRAPH.jvp(GRAPH_THETA, GRAPH_CACHE, list(ints), dX.tolist()), want
    )
    assert np.abs(want).max() > 0
