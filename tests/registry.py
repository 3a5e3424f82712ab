"""The property matrix of the core: LAYERS × ACTIVATIONS × DTYPES, LOSSES, REGULARIZERS.

Every derivative test ranges over these tables, so a new entry here joins
every test without touching them (STYLE.md, "Tests mirror modules;
derivatives are a property matrix"). Entries are factories: layers take an
activation name and a :class:`Shape` drawn by hypothesis; losses and
regularizers take what they need to build valid targets or parameters.
"""

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from hypothesis import settings
from hypothesis import strategies as st

from numnet.graph import Add, Concat, Graph, Node
from numnet.layers import Dense, Residual
from numnet.layers import (
    AvgPool1d,
    AvgPool2d,
    Conv1d,
    Conv2d,
    Flatten,
    MaxPool1d,
    MaxPool2d,
    Reshape,
)
from numnet.layers import Dropout, Recurrent
from numnet.losses import (
    L1,
    BinaryCrossEntropy,
    Binomial,
    Hinge,
    Huber,
    LeastSquares,
    SoftmaxCrossEntropy,
)
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.regularizers import GeneralizedTikhonov, L1Penalty, Tikhonov

DTYPES = (np.float64, np.float32)

#: Hypothesis settings of every property: few, fixed, reproducible examples.
PROPERTY = settings(max_examples=10, deadline=None, derandomize=True, database=None)


class Shape(NamedTuple):
    """Sizes and seed of one example: n_samples rows, widths d_in → hidden → d_out."""

    n_samples: int
    d_in: int
    hidden: int
    d_out: int
    seed: int


@st.composite
def shapes(draw, max_samples=7, max_width=6):
    """Hypothesis strategy of :class:`Shape`: n_samples 1–7, widths 1–6, any seed."""
    width = st.integers(1, max_width)
    return Shape(
        draw(st.integers(1, max_samples)),
        draw(width),
        draw(width),
        draw(width),
        draw(st.integers(0, 2**31 - 1)),
    )


# ------------------------------------------------------------------ layers


def _dense(act, s):
    return Dense(s.d_in, s.d_out, act)


def _dense_nobias(act, s):
    return Dense(s.d_in, s.d_out, act, bias=False)


def _residual(act, s):
    return Residual(s.d_in, act, step=0.7)


def _mlp3(act, s):
    return Sequential(
        [
            Dense(s.d_in, s.hidden, act),
            Residual(s.hidden, act, step=0.5),
            Dense(s.hidden, s.d_out, act),
        ]
    )


def _nested(act, s):
    inner = Sequential([Dense(s.d_in, s.hidden, act), Dense(s.hidden, s.hidden, act, bias=False)])
    return Sequential([inner, Dense(s.hidden, s.d_out, "identity")])


def _graph_inception(act, s):
    """Parallel branches of different widths, concatenated (an inception-style block)."""
    return Graph(
        s.d_in,
        [
            Node("a", Dense(s.d_in, s.hidden, act)),
            Node("b", Dense(s.d_in, 2, act)),
            Node("c", Sequential([Dense(s.d_in, 3, act), Dense(3, 2, act)])),
            Node("cat", Concat(), ["a", "b", "c"]),
            Node("out", Dense(s.hidden + 4, s.d_out, act), "cat"),
        ],
    )


def _graph_shared(act, s):
    """Fan-out, an Add, and one parameter slice used by two nodes."""
    return Graph(
        s.d_in,
        [
            Node("h", Dense(s.d_in, s.hidden, act)),
            Node("r1", Dense(s.hidden, s.hidden, act), "h"),
            Node("r2", Dense(s.hidden, s.hidden, act), "r1", share="r1"),
            Node("sum", Add(), ["h", "r2", "r1"]),
            Node("out", Dense(s.hidden, s.d_out, act), "sum"),
        ],
    )


def _graph_nested(act, s):
    """A graph inside a Sequential, whose input also feeds two nodes directly."""
    block = Graph(
        s.hidden,
        [
            Node("f", Residual(s.hidden, act, step=0.5)),
            Node("g", Dense(s.hidden, s.hidden, act, bias=False)),
            Node("sum", Add(), ["f", "g", "input"]),
        ],
    )
    return Sequential([Dense(s.d_in, s.hidden, act), block, Dense(s.hidden, s.d_out, act)])


#: name -> factory(activation_name, Shape) -> layer (or network)
LAYERS: dict[str, Callable] = {
    "dense": _dense,
    "dense_nobias": _dense_nobias,
    "residual": _residual,
    "mlp3": _mlp3,
    "nested": _nested,
    "graph_inception": _graph_inception,
    "graph_shared": _graph_shared,
    "graph_nested": _graph_nested,
    # --- convolution and pooling entries go here
    "conv2d": lambda act, s: Conv2d((s.d_in + 1, s.hidden + 2, 2), s.d_out, (2, 3), activation=act),
    "conv2d_stride_pad": lambda act, s: Conv2d(
        (s.d_in + 1, s.hidden, 3),
        s.d_out,
        3,
        stride=(2, 1),
        padding=(1, 2),
        activation=act,
        bias=False,
    ),
    "conv1d": lambda act, s: Conv1d(
        (s.d_in + 2, s.hidden), s.d_out, 3, stride=2, padding=1, activation=act
    ),
    # a linear output of width >= 2: float32 agrees to 1e-4 even when one sum of many terms cancels
    "conv_pool_avg": lambda act, s: Sequential(
        [
            c := Conv2d((s.d_in + 2, s.hidden + 2, 2), 3, (2, 3), padding=(0, 1), activation=act),
            p := AvgPool2d(c.output_shape, 2),
            f := Flatten(p.output_shape),
            Dense(f.d_out, s.d_out + 1),
        ]
    ),
    "conv_pool_max": lambda act, s: Sequential(
        [  # overlapping windows (stride 1 < pool 2)
            c := Conv2d(
                (s.d_in + 2, s.hidden + 2, 2),
                3,
                (2, 3),
                stride=(1, 2),
                padding=(0, 1),
                activation=act,
            ),
            p := MaxPool2d(c.output_shape, 2, stride=1),
            f := Flatten(p.output_shape),
            Dense(f.d_out, s.d_out + 1),
        ]
    ),
    "conv1d_pool": lambda act, s: Sequential(
        [
            c := Conv1d((s.d_in + 4, 2), 3, 2, activation=act),
            a := AvgPool1d(c.output_shape, 2, stride=1),
            m := MaxPool1d(a.output_shape, 2),
            r := Reshape(m.output_shape, (m.d_out,)),
            Dense(r.d_out, s.d_out + 1),
        ]
    ),
    # --- dropout and recurrent entries go here
    "dropout": lambda act, s: Sequential(
        [
            Dense(s.d_in, s.hidden, act),
            Dropout(s.hidden, 0.3, seed=1, key=2),
            Dense(s.hidden, s.d_out, act),
        ]
    ),
    "rnn_last": lambda act, s: Recurrent(3, s.d_in, s.d_out, activation=act, output="last"),
    "rnn_sequence": lambda act, s: Recurrent(
        3, s.d_in, s.hidden, activation=act, output="sequence"
    ),
}


def data(layer, s, dtype=np.float64):
    """(rng, theta, X): "normal" init (random biases keep relu off its kink), normal X."""
    rng = np.random.default_rng(s.seed)
    theta = layer.init(rng, dtype, "normal")
    X = rng.standard_normal((s.n_samples, layer.d_in)).astype(dtype)
    return rng, theta, X


# ------------------------------------------------------------------ losses


def _pm1(rng, n, k):
    return rng.choice([-1.0, 1.0], size=(n, k))


def _probabilities(rng, n, k):
    P = rng.random((n, k)) + 0.05
    return P / P.sum(axis=1, keepdims=True)


class LossCase(NamedTuple):
    """A loss factory and a generator of valid targets ``targets(rng, n_samples, n_outputs)``."""

    make: Callable
    targets: Callable


#: name -> LossCase. Keys that are loss names cover numnet.losses.LOSSES one to one.
LOSSES: dict[str, LossCase] = {
    "squared_error": LossCase(LeastSquares, lambda rng, n, k: rng.standard_normal((n, k))),
    "absolute_error": LossCase(L1, lambda rng, n, k: rng.standard_normal((n, k))),
    "huber": LossCase(lambda: Huber(delta=0.5), lambda rng, n, k: rng.standard_normal((n, k))),
    "hinge": LossCase(Hinge, _pm1),
    "binomial": LossCase(Binomial, _pm1),
    "binary_cross_entropy": LossCase(BinaryCrossEntropy, lambda rng, n, k: rng.random((n, k))),
    "cross_entropy": LossCase(SoftmaxCrossEntropy, lambda rng, n, k: rng.integers(0, k, size=n)),
    "cross_entropy_probs": LossCase(SoftmaxCrossEntropy, _probabilities),
}


# ------------------------------------------------------------------ regularizers

#: name -> factory(net, rng) -> regularizer or None
REGULARIZERS: dict[str, Callable] = {
    "none": lambda net, rng: None,
    "tikhonov": lambda net, rng: Tikhonov(0.3),
    "tikhonov_no_bias": lambda net, rng: Tikhonov(0.3, mask=~net.bias_mask()),
    "generalized_tikhonov": lambda net, rng: GeneralizedTikhonov(
        0.2, rng.standard_normal((3, net.n_params))
    ),
    "l1": lambda net, rng: L1Penalty(0.1, mask=~net.bias_mask()),
}


def make_objective(loss_name, reg_name, act, s, dtype=np.float64, layer="mlp3"):
    """An objective on a registry network with valid targets; returns (rng, obj, theta)."""
    rng = np.random.default_rng(s.seed)
    net = LAYERS[layer](act, s)
    theta = net.init(rng, dtype, "normal")
    X = rng.standard_normal((s.n_samples, net.d_in)).astype(dtype)
    Y = LOSSES[loss_name].targets(rng, s.n_samples, net.d_out)
    obj = Objective(net, LOSSES[loss_name].make(), X, Y, REGULARIZERS[reg_name](net, rng))
    return rng, obj, theta


def smooth(*parts):
    """Capability flag of a composite: smooth when every part is (None counts as smooth)."""
    return all(getattr(p, "smooth", True) for p in parts if p is not None)


def rel_err(a, b):
    """‖a − b‖ / ‖b‖ over whole arrays (‖a‖ when b vanishes), in float64."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    den = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / den) if den > 0 else float(np.linalg.norm(a))
