"""numnet.architecture: networks as plain JSON data and back, built only from numnet's own types.

:func:`~numnet.architecture.to_json` turns a network (chains, graphs with
merges and shared parameters, nested) or an :class:`~numnet.augment.Augment`
into ``{"type": ..., <constructor arguments>}`` data that survive
``json.dumps``; :func:`~numnet.architecture.from_json` rebuilds the same
network (same repr, same outputs for the same parameters) and refuses, with a
``ValueError`` naming what is wrong, unknown types and arguments, entries
that are not objects or lists, malformed graph nodes and nesting deeper than
:data:`MAX_DEPTH`. :func:`~numnet.architecture.layer_types` is the whitelist
both go by.
"""

import json

import numpy as np
import pytest

from numnet import Add, Concat, Dense, Graph, Node, Residual, Sequential
from numnet.activations import ACTIVATIONS, Activation
from numnet.architecture import MAX_DEPTH, from_json, layer_types, to_json
from numnet.augment import Augment
from numnet.io import load, save
from numnet.layers import Conv2d, Dropout, Flatten, MaxPool2d, Recurrent


def _tied_graph():
    return Graph(
        3,
        [
            Node("h", Dense(3, 3, "tanh")),
            Node("h2", Dense(3, 3, "tanh"), "h", share="h"),
            Node("side", Residual(3, "sin", step=0.5), "input"),
            Node("sum", Add(), ["h2", "side"]),
            Node("cat", Concat(), ["sum", "h"]),
            Node("out", Dense(6, 2), "cat"),
        ],
    )


NETWORKS = {
    "dense": lambda: Dense(3, 2, "softplus", bias=False),
    "chain": lambda: Sequential([Dense(3, 4, "relu"), Dropout(4, 0.25, seed=3), Dense(4, 2)]),
    "graph": _tied_graph,
    "nested": lambda: Sequential([_tied_graph(), Sequential([Dense(2, 2, "tanh")])]),
    "conv": lambda: Sequential(
        [
            Conv2d((4, 4, 1), 2, 3, padding=1, activation="tanh"),
            MaxPool2d((4, 4, 2), 2),
            Flatten((2, 2, 2)),
            Dense(8, 2),
        ]
    ),
    "recurrent": lambda: Recurrent(2, 3, 4, activation="relu", output="sequence"),
}


# ------------------------------------------------------------ round trips


@pytest.mark.parametrize("name", sorted(NETWORKS))
def test_json_round_trip_rebuilds_the_same_network(name):
    net = NETWORKS[name]()
    data = to_json(net)
    assert json.loads(json.dumps(data)) == data
    twin = from_json(json.loads(json.dumps(data)))
    assert type(twin) is type(net) and repr(twin) == repr(net) and to_json(twin) == data
    assert twin.n_params == net.n_params
    theta = net.init(0)
    X = np.random.default_rng(1).standard_normal((3, net.d_in))
    np.testing.assert_array_equal(twin.forward(theta, X)[0], net.forward(theta, X)[0])


def test_to_json_writes_the_constructor_arguments():
    assert to_json(Dense(np.int64(3), 2, ACTIVATIONS["tanh"])) == {
        "type": "Dense",
        "d_in": 3,
        "d_out": 2,
        "activation": "tanh",
        "bias": True,
    }
    data = to_json(Sequential([Residual(2)]))
    assert data["type"] == "Sequential" and [d["type"] for d in data["layers"]] == ["Residual"]
    node = to_json(_tied_graph())["nodes"][1]
    assert node == {"name": "h2", "op": to_json(Dense(3, 3, "tanh")), "inputs": ["h"], "share": "h"}


def test_augment_round_trips():
    augment = Augment((4, 4), shift=2, rotate=10.0, flip=True, noise=0.1)
    data = to_json(augment)
    assert data["type"] == "Augment" and data["image_shape"] == [4, 4, 1]
    assert repr(from_json(json.loads(json.dumps(data)))) == repr(augment)


def test_layer_types_names_each_class_by_its_own_name():
    types = layer_types()
    assert {"Dense", "Conv2d", "Sequential", "Graph", "Add", "Concat", "Augment"} <= set(types)
    assert all(cls.__name__ == name for name, cls in types.items())
    assert "Layer" not in types  # the Protocol of the layer contract cannot be built
    types.pop("Dense")
    assert "Dense" in layer_types()  # a new dict each time


# ------------------------------------------------------------ what to_json refuses


def test_to_json_refuses_what_is_not_numnet_s_own_type():
    class MyDense(Dense):
        pass

    for net in (object(), MyDense(2, 2), [Dense(2, 2)], Sequential([MyDense(2, 2)])):
        with pytest.raises(TypeError, match=r"net must be built from numnet's layers \['Add'"):
            to_json(net)


def test_to_json_refuses_an_activation_outside_the_table():
    cube = Activation("cube", lambda z: z**3, lambda z: 3 * z**2, lambda z: 6 * z)
    with pytest.raises(ValueError, match="activation 'cube' is not in numnet.ACTIVATIONS"):
        to_json(Sequential([Dense(2, 2, cube)]))


def test_to_json_names_the_argument_that_is_not_plain_data():
    layer = Dense(2, 2)
    layer.get_config = lambda: {"d_in": 2, "d_out": 2, "activation": "tanh", "bias": {1, 2}}
    with pytest.raises(ValueError, match=r"Dense.bias=\{1, 2\} is not plain data"):
        to_json(layer)


# ------------------------------------------------------------ what from_json refuses


@pytest.mark.parametrize(
    "spec, match",
    [
        ([], "architecture entries must be JSON objects nested at most 32 deep"),
        ({"d_in": 2}, r"unknown layer type None; known: \['Add', "),
        ({"type": "os.system", "command": "true"}, "unknown layer type 'os.system'"),
        ({"type": "__import__"}, "unknown layer type '__import__'"),
        ({"type": ["Dense"]}, r"unknown layer type \['Dense'\]"),
        (
            {"type": "Dense", "d_in": 2, "d_out": 2, "bogus": 1},
            r"malformed Dense: unknown arguments \['bogus'\], missing \[\]",
        ),
        (
            {"type": "Dense", "d_in": 2},
            r"malformed Dense: unknown arguments \[\], missing \['d_out'\]",
        ),
        ({"type": "Dense", "self": 1, "d_in": 2, "d_out": 2}, r"unknown arguments \['self'\]"),
        ({"type": "Sequential", "layers": {"0": {}}}, "Sequential.layers must be a list"),
        ({"type": "Sequential", "layers": [[]]}, "architecture entries must be JSON objects"),
        ({"type": "Graph", "d_in": 2, "nodes": "a"}, "Graph.nodes must be a list"),
        (
            {"type": "Graph", "d_in": 2, "nodes": [{"name": "a", "op": {"type": "Add"}}]},
            "a Graph node has exactly the keys name, op, inputs, share",
        ),
        ({"type": "Add", "args": [1]}, "invalid Add: "),
        ({"type": "Dense", "d_in": 0, "d_out": 2}, "d_in must be a positive integer, got 0"),
        (
            {"type": "Dense", "d_in": 2, "d_out": 2, "activation": "cube"},
            "activation must be one of",
        ),
    ],
)
def test_from_json_refuses_malformed_data_naming_the_problem(spec, match):
    with pytest.raises(ValueError, match=match):
        from_json(spec)


@pytest.mark.parametrize("graph", [False, True])
def test_from_json_builds_max_depth_and_refuses_one_more(graph):
    def nested(depth):
        spec = to_json(Dense(2, 2))
        for _ in range(depth):
            spec = (
                {
                    "type": "Graph",
                    "d_in": 2,
                    "nodes": [{"name": "a", "op": spec, "inputs": ["input"], "share": None}],
                    "output": "a",
                }
                if graph
                else {"type": "Sequential", "layers": [spec]}
            )
        return spec

    assert to_json(from_json(nested(MAX_DEPTH))) == nested(MAX_DEPTH)
    with pytest.raises(ValueError, match=f"nested at most {MAX_DEPTH} deep"):
        from_json(nested(MAX_DEPTH + 1))


# ------------------------------------------------------------ through numnet.save and load (issue 18)


def _nested(depth, graph):
    import numnet

    net = Dense(3, 3, "tanh")
    for _ in range(depth):
        net = numnet.Graph(3, [("a", net)]) if graph else Sequential([net])
    return net


@pytest.mark.parametrize("graph", [False, True])
def test_deepest_architecture_round_trips_and_deeper_is_refused_at_save(tmp_path, graph):
    from numnet.architecture import MAX_DEPTH

    net = _nested(MAX_DEPTH, graph)
    net2, theta2 = load(save((net, net.init(0)), tmp_path / "deep.npz"))
    assert repr(net2) == repr(net)
    deeper = _nested(MAX_DEPTH + 1, graph)
    with pytest.raises(ValueError, match="nested at most"):
        save((deeper, deeper.init(0)), tmp_path / "deeper.npz")
    assert not (tmp_path / "deeper.npz").exists()
