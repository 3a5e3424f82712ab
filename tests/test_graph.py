"""numnet.graph: what the registry matrix does not cover.

The derivative matrix (check_layer, float32, linearity, need flags, torch
agreement of jvp/vjp/rop and of Objective.grad/hvp/gnvp) runs on the graph
entries of ``registry.LAYERS``. Here: the formulas of the merges, parameter
sharing against tied copies, construction errors naming the node, nesting,
and the tools downstream (minimize, curvature, save/load) on graphs.
"""

import numpy as np
import pytest
from registry import LAYERS, Shape, data

import numnet
from numnet import Add, Concat, Dense, Graph, Node, Objective, Residual, Sequential, minimize
from numnet.architecture import from_json, to_json
from numnet.curvature import (
    hessian_dense,
    hessian_diagonal,
    outer_product_hessian,
    per_sample_output_gradients,
)
from numnet.graph import GraphCache


def inception(d_in=3, n_out=2):
    """Three parallel branches of different widths, concatenated, then a linear read-out."""
    return Graph(
        d_in,
        [
            Node("wide", Dense(d_in, 6, "tanh")),
            Node("narrow", Dense(d_in, 2, "relu")),
            Node("deep", Sequential([Dense(d_in, 3, "tanh"), Dense(3, 3, "tanh")])),
            Node("cat", Concat(), ["wide", "narrow", "deep"]),
            Node("out", Dense(11, n_out), "cat"),
        ],
    )


def test_concat_and_add_formulas():
    g = Graph(
        2,
        [
            Node("a", Dense(2, 3, "tanh")),
            Node("b", Dense(2, 3, "sin")),
            Node("sum", Add(), ["a", "b", "input"][:2]),
            Node("cat", Concat(), ["sum", "input"]),
        ],
    )
    rng = np.random.default_rng(0)
    theta, X = g.init(rng, scheme="normal"), rng.standard_normal((4, 2))
    p = g.unpack(theta)
    a = np.tanh(X @ p["a"]["W"] + p["a"]["b"])
    b = np.sin(X @ p["b"]["W"] + p["b"]["b"])
    F, cache = g.forward(theta, X)
    np.testing.assert_allclose(F, np.hstack([a + b, X]), rtol=1e-14)
    assert isinstance(cache, GraphCache) and set(cache.caches) == {"a", "b"}
    assert g.d_out == 5 and g.n_params == 18


def test_shared_slice_equals_tied_copies():
    """A node that shares a slice computes what an unshared graph with equal weights does;
    its gradient is the sum of the two copies' gradients."""
    shared = Graph(
        3,
        [
            Node("h", Dense(3, 3, "tanh")),
            Node("h2", Dense(3, 3, "tanh"), "h", share="h"),
            Node("out", Dense(3, 1), "h2"),
        ],
    )
    tied = Graph(
        3,
        [
            Node("h", Dense(3, 3, "tanh")),
            Node("h2", Dense(3, 3, "tanh"), "h"),
            Node("out", Dense(3, 1), "h2"),
        ],
    )
    rng = np.random.default_rng(1)
    theta, X, gZ = (
        shared.init(rng, scheme="normal"),
        rng.standard_normal((5, 3)),
        rng.standard_normal((5, 1)),
    )
    assert shared.n_params == 12 + 4 and tied.n_params == 12 + 12 + 4
    th_tied = np.concatenate([theta[:12], theta[:12], theta[12:]])
    F, c = shared.forward(theta, X)
    Ft, ct = tied.forward(th_tied, X)
    np.testing.assert_allclose(F, Ft, rtol=1e-14)
    g = shared.vjp(theta, c, gZ)[0]
    gt = tied.vjp(th_tied, ct, gZ)[0]
    np.testing.assert_allclose(g, np.concatenate([gt[:12] + gt[12:24], gt[24:]]), rtol=1e-13)
    v = rng.standard_normal(shared.n_params)
    vt = np.concatenate([v[:12], v[:12], v[12:]])
    np.testing.assert_allclose(
        shared.jvp(theta, c, v, None), tied.jvp(th_tied, ct, vt, None), rtol=1e-13
    )
    Rg = shared.rop(theta, c, v, None, gZ, None)[0]
    Rgt = tied.rop(th_tied, ct, vt, None, gZ, None)[0]
    np.testing.assert_allclose(Rg, np.concatenate([Rgt[:12] + Rgt[12:24], Rgt[24:]]), rtol=1e-12)


def test_fan_out_sums_cotangents():
    """Z = f(X) + f(X) through one node read twice equals 2 f(X), and so do the products."""
    g = Graph(2, [Node("f", Dense(2, 2, "tanh")), Node("sum", Add(), ["f", "f"])])
    single = Dense(2, 2, "tanh")
    rng = np.random.default_rng(2)
    theta, X, gZ = (
        g.init(rng, scheme="normal"),
        rng.standard_normal((3, 2)),
        rng.standard_normal((3, 2)),
    )
    F, c = g.forward(theta, X)
    Fs, cs = single.forward(theta, X)
    np.testing.assert_allclose(F, 2 * Fs, rtol=1e-14)
    for ours, ref in zip(g.vjp(theta, c, gZ), single.vjp(theta, cs, 2 * gZ)):
        np.testing.assert_allclose(ours, ref, rtol=1e-14)


def test_graph_nests_in_sequential_and_sequential_in_graph():
    inner = Graph(4, [Node("r", Residual(4, "tanh")), Node("s", Add(), ["r", "input"])])
    net = Sequential([Dense(3, 4, "tanh"), inner, Dense(4, 2)])
    outer = Graph(
        3,
        [
            Node("body", net),
            Node("skip", Dense(3, 2), "input"),
            Node("out", Add(), ["body", "skip"]),
        ],
    )
    rng = np.random.default_rng(3)
    theta, X = outer.init(rng, scheme="normal"), rng.standard_normal((5, 3))
    res = numnet.check_layer(outer, X, theta, seed=3)
    assert res.passed, str(res)


@pytest.mark.parametrize(
    "nodes, output, match",
    [
        (
            [Node("a", Dense(2, 2), "b"), Node("b", Dense(2, 2), "a")],
            None,
            "node 'a' is on a cycle",
        ),
        ([Node("a", Dense(3, 2))], None, "node 'a' has d_in=3"),
        ([Node("a", Dense(2, 2), "nope")], None, "node 'a' reads an unknown node 'nope'"),
        (
            [Node("a", Dense(2, 2)), Node("b", Dense(2, 2))],
            "b",
            "node 'a' does not reach the output",
        ),
        ([Node("a", Dense(2, 2)), Node("a", Dense(2, 2), "a")], None, "node 'a' is defined twice"),
        (
            [Node("a", Dense(2, 2)), Node("b", Dense(2, 3)), Node("s", Add(), ["a", "b"])],
            None,
            "node 's': Add needs inputs of equal width",
        ),
        ([Node("a", Dense(2, 2)), Node("b", Dense(3, 2), "a")], None, "node 'b' has d_in=3"),
        (
            [Node("a", Dense(2, 2)), Node("b", Dense(2, 2, bias=False), "a", share="a")],
            None,
            "node 'b' shares the slice of 'a' but their parameter shapes differ",
        ),
        (
            [Node("a", Dense(2, 2)), Node("b", Dense(2, 2), "a", share="zz")],
            None,
            "node 'b' shares the parameters of an unknown node 'zz'",
        ),
        ([Node("a", Dense(2, 2), ["input", "input"])], None, "node 'a' is a layer with 2 inputs"),
        ([Node("s", Concat(), ["input"])], None, "node 's': Concat needs at least two inputs"),
        ([Node("input", Dense(2, 2))], None, "node names must be non-empty strings"),
        ([Node("a", Dense(2, 2))], "zz", "output names an unknown node 'zz'"),
    ],
)
def test_construction_errors_name_the_node(nodes, output, match):
    with pytest.raises(ValueError, match=match):
        Graph(2, nodes, output)


def test_ops_must_be_layers_and_sizes_positive():
    with pytest.raises(TypeError, match="node 'a': op must be a layer"):
        Graph(2, [Node("a", "Dense")])
    with pytest.raises(ValueError, match="d_in must be a positive integer"):
        Graph(0, [Node("a", Dense(2, 2))])
    with pytest.raises(ValueError, match="nodes must be a non-empty"):
        Graph(2, [])


def test_map_layers_and_repr():
    g = inception()
    doubled = g.map_layers(lambda layer: Dense(layer.d_in, layer.d_out, "sin", layer.bias))
    assert all(
        n.op.activation.name == "sin" for n in doubled.nodes.values() if isinstance(n.op, Dense)
    )
    assert doubled.n_params == g.n_params and "Concat()" in repr(g)


def test_minimize_trains_an_inception_graph():
    rng = np.random.default_rng(4)
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    g = inception()
    obj = Objective(g, "cross_entropy", X, y, regularizer=1e-4)
    theta0 = g.init(rng)
    res = minimize(obj, theta0, "lbfgs", max_iter=200)
    assert res.fun < 0.5 * obj.value(theta0)
    assert np.mean(np.argmax(g.predict(res.x, X), axis=1) == y) > 0.9


@pytest.mark.parametrize("layer_name", [name for name in LAYERS if name.startswith("graph")])
def test_curvature_tools_on_graphs(layer_name):
    s = Shape(n_samples=4, d_in=2, hidden=3, d_out=2, seed=5)
    net = LAYERS[layer_name]("tanh", s)
    _, theta, X = data(net, s)
    obj = Objective(net, "squared_error", X, np.random.default_rng(0).standard_normal((4, 2)))
    H = hessian_dense(obj, theta)
    np.testing.assert_allclose(H, H.T, atol=1e-12)
    np.testing.assert_allclose(hessian_diagonal(obj, theta), np.diag(H), rtol=1e-10, atol=1e-12)
    lin, p = obj.at(theta), obj.n_params
    G = np.column_stack([lin.gnvp(e) for e in np.eye(p)])
    np.testing.assert_allclose(outer_product_hessian(obj, theta), G, rtol=1e-10, atol=1e-12)
    J = per_sample_output_gradients(net, theta, X)
    v = np.random.default_rng(1).standard_normal(p)
    np.testing.assert_allclose(J @ v, net.jvp(theta, lin.cache, v, None), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("layer_name", LAYERS)
def test_every_registered_network_saves_and_loads(layer_name, tmp_path):
    s = Shape(n_samples=3, d_in=3, hidden=4, d_out=2, seed=6)
    net = LAYERS[layer_name]("softplus", s)
    _, theta, X = data(net, s)
    path = numnet.save((net, theta), tmp_path / "net.npz")
    net2, theta2 = numnet.load(path)
    assert type(net2) is type(net) and repr(net2) == repr(net)
    np.testing.assert_array_equal(theta2, theta)
    np.testing.assert_array_equal(net2.forward(theta2, X)[0], net.forward(theta, X)[0])
    assert to_json(from_json(to_json(net))) == to_json(net)


def test_becker_lecun_on_graphs():
    """Exact where nothing is dropped (parallel branches concatenated, least squares: diagonal
    output curvature); on a deeper graph, exact on the output node's parameters and finite."""
    from numnet.curvature import becker_lecun_diagonal

    rng = np.random.default_rng(7)
    X = rng.standard_normal((6, 3))
    wide = Graph(
        3,
        [
            Node("a", Dense(3, 2, "tanh")),
            Node("b", Dense(3, 1, "sin")),
            Node("c", Residual(3, "tanh"), "input"),
            Node("cat", Concat(), ["a", "b", "c"]),
        ],
    )
    obj = Objective(wide, "squared_error", X, rng.standard_normal((6, 6)))
    theta = wide.init(rng, scheme="normal")
    np.testing.assert_allclose(
        becker_lecun_diagonal(obj, theta),
        np.diag(hessian_dense(obj, theta)),
        rtol=1e-11,
        atol=1e-14,
    )
    g = inception()
    obj = Objective(g, "cross_entropy", X, rng.integers(0, 2, 6))
    theta = g.init(rng, scheme="normal")
    bl, exact = becker_lecun_diagonal(obj, theta), np.diag(hessian_dense(obj, theta))
    out = g.slices["out"]
    assert np.isfinite(bl).all()
    np.testing.assert_allclose(bl[out], exact[out], rtol=1e-11, atol=1e-14)


def test_custom_activations_are_refused_at_save_for_every_layer_type(tmp_path):
    """A layer with an unregistered activation would load with a different function: refuse it."""
    from numnet.activations import ACTIVATIONS, Activation
    from numnet.layers import Conv1d, Conv2d, Recurrent

    tanh = ACTIVATIONS["tanh"]
    custom = Activation("tanh", tanh.f, tanh.df, tanh.d2f)  # same name, not the registered record
    for layer in (
        Dense(2, 2, custom),
        Residual(2, custom),
        Conv2d((3, 3, 1), 2, 2, activation=custom),
        Conv1d((4, 1), 2, 2, activation=custom),
        Recurrent(2, 1, 2, activation=custom),
    ):
        with pytest.raises(ValueError, match="not in numnet.ACTIVATIONS"):
            numnet.save((layer, layer.init(np.random.default_rng(0))), tmp_path / "x.npz")
        rebuilt = type(layer)(**layer.get_config())
        assert (rebuilt.inner if isinstance(rebuilt, Residual) else rebuilt).activation is custom


def test_version_1_network_files_still_load(tmp_path):
    """Format version 2 added graphs and every layer type; a version-1 file (Dense/Residual chains) loads."""
    import json

    net = Sequential([Dense(2, 3, "tanh"), Residual(3, "sin", step=0.5), Dense(3, 1)])
    theta = net.init(0)
    path = numnet.save((net, theta), tmp_path / "v2.npz")
    with np.load(path, allow_pickle=False) as z:
        members = {k: z[k] for k in z.files}
    meta = json.loads(members.pop("__meta__").tobytes())
    meta["format_version"] = 1
    with open(tmp_path / "v1.npz", "wb") as f:
        np.savez(f, __meta__=np.frombuffer(json.dumps(meta).encode(), np.uint8), **members)
    net1, theta1 = numnet.load(tmp_path / "v1.npz")
    assert repr(net1) == repr(net) and np.array_equal(theta1, theta)
