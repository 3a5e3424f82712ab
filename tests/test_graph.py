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
from numnet.layers import Layer


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
        pytest.param(
            [Node("a", Dense(2, 2), "b"), Node("b", Dense(2, 2), "a")],
            None,
            "^node 'a' is on a cycle: a -> b -> a$",
            id="cycle-path",
        ),
        pytest.param(
            [Node("a", Dense(2, 2)), Node("b", Dense(2, 2), "a"), Node("b", Dense(2, 2), "a")],
            None,
            "node 'b' is defined twice",
            id="duplicate-not-first",
        ),
        pytest.param(
            [
                Node("a", Dense(2, 2)),
                Node("b", Dense(2, 2), "a", share="a"),
                Node("c", Dense(2, 2), "b", share="b"),
            ],
            None,
            "^node 'c' must share the parameters of a layer node that owns them; 'b' does not$",
            id="share-a-sharer",
        ),
        pytest.param(
            [
                Node("a", Dense(2, 2)),
                Node("s", Add(), ["a", "input"]),
                Node("c", Dense(2, 2), "s", share="s"),
            ],
            None,
            "^node 'c' must share the parameters of a layer node that owns them; 's' does not$",
            id="share-a-merge",
        ),
        pytest.param(
            [
                Node("a", Dense(2, 3, bias=False)),
                Node("b", Dense(3, 2, bias=False), "a", share="a"),
            ],
            None,
            r"node 'b' shares the slice of 'a' but their parameter shapes differ: \[\('W', \(3, 2\)\)",
            id="share-other-shapes",
        ),
        pytest.param(
            [Node("", Dense(2, 2))],
            None,
            "^node names must be non-empty strings other than 'input'",
            id="empty-name",
        ),
        pytest.param(
            [Node(5, Dense(2, 2))],
            None,
            "^node names must be non-empty strings other than 'input'",
            id="int-name",
        ),
        pytest.param(
            [Node("a", Dense(2, 2), [3])],
            None,
            r"^node 'a': inputs must be a node name or a sequence of them, got \[3\]$",
            id="non-str-input",
        ),
        pytest.param(
            [Node("a", Dense(2, 2)), Node("s", Add(), ["a", "input"], share="a")],
            None,
            "^node 's': Add has no parameters to share$",
            id="merge-share",
        ),
        pytest.param(
            [Node("a", Dense(2, 2), ["input", "input"])],
            None,
            "^node 'a' is a layer with 2 inputs; merge them first with Add or Concat$",
            id="layer-two-inputs-full",
        ),
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


def test_constructor_messages_are_exact():
    with pytest.raises(TypeError, match="^node 'a': op must be a layer, Add or Concat, got str$"):
        Graph(2, [Node("a", "Dense")])
    with pytest.raises(ValueError, match="^nodes must be a non-empty sequence of nodes$"):
        Graph(2, [])
    for d_in in (True, 2.0, -1):
        with pytest.raises(ValueError, match="^d_in must be a positive integer"):
            Graph(d_in, [Node("a", Dense(2, 2))])
    with pytest.raises(ValueError, match="^scheme must be one of"):
        inception().init(0, scheme="kaiming")


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


def test_reprs_are_exact():
    """repr is the constructor call (a share only where there is one), one node a line."""
    a, b, out = Dense(2, 3, "tanh"), Dense(3, 3, "tanh"), Dense(3, 1)
    g = Graph(2, [Node("a", a), Node("b", b, "a"), Node("out", out, "b")])
    assert repr(Add()) == "Add()" and repr(Concat()) == "Concat()"
    assert repr(g) == (
        f"Graph(2, [\n    Node('a', {a!r}, ['input']),\n    Node('b', {b!r}, ['a']),\n"
        f"    Node('out', {out!r}, ['b']),\n], output='out')"
    )
    shared = Graph(2, [Node("a", Dense(2, 2)), Node("s", Dense(2, 2), "a", share="a")])
    assert repr(shared).splitlines()[2] == f"    Node('s', {Dense(2, 2)!r}, ['a'], share='a'),"


def _branch_and_input(dtype=np.float64):
    """Concat of a layer node and the input itself: with dX None the input's tangent is None."""
    g = Graph(2, [Node("a", Dense(2, 3, "tanh")), Node("cat", Concat(), ["input", "a"])])
    rng = np.random.default_rng(10)
    theta = g.init(rng, dtype, scheme="normal")
    return g, theta, rng.standard_normal((5, 2)).astype(dtype), rng


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_concat_fills_a_missing_tangent_with_zeros_of_the_right_dtype(dtype):
    """Along dθ alone, the input's block of dF is zero; the tangent keeps theta's dtype."""
    g, theta, X, rng = _branch_and_input(dtype)
    v = rng.standard_normal(g.n_params).astype(dtype)
    F, c = g.forward(theta, X)
    dF = g.jvp(theta, c, v, None)
    layer = g.nodes["a"].op
    da = layer.jvp(theta, layer.forward(theta, X)[1], v, None)
    assert dF.dtype == dtype and dF.shape == F.shape == (5, 5)
    np.testing.assert_array_equal(dF, np.hstack([np.zeros((5, 2), dtype), da]))


def test_zero_directions_give_exact_zeros():
    """jvp along (None, None) is 0 of F's shape; rop along nothing with dgZ None is
    (0 of θ's shape, 0 of X's shape), also when written into a dirty ``out``."""
    g, theta, X, rng = _branch_and_input()
    F, c = g.forward(theta, X)
    dF = g.jvp(theta, c, None, None)
    assert dF.shape == F.shape and not dF.any()
    gZ = rng.standard_normal(F.shape)
    out = np.full(g.n_params, 7.0)
    Rg, RgX = g.rop(theta, c, None, None, gZ, None, out=out)
    assert Rg is out and Rg.shape == (g.n_params,) and not Rg.any()
    assert RgX.shape == X.shape and not RgX.any()


@pytest.mark.parametrize(
    "make",
    [
        lambda: Dense(3, 2, "tanh"),
        lambda: Residual(3, "sin", step=0.5),
        lambda: Sequential([Dense(3, 4, "softplus"), Dense(4, 2, "tanh")]),
    ],
    ids=["dense", "residual", "sequential"],
)
def test_a_one_node_graph_is_its_layer(make):
    """Graph(d, [Node("f", layer)]) gives the layer's products for every pattern of None
    directions (the R-pass along dθ alone with dgZ None included)."""
    layer = make()
    g = Graph(layer.d_in, [Node("f", layer)])
    rng = np.random.default_rng(11)
    theta, X = layer.init(rng, scheme="normal"), rng.standard_normal((4, layer.d_in))
    (F, c), (Fl, cl) = g.forward(theta, X), layer.forward(theta, X)
    np.testing.assert_array_equal(F, Fl)
    v, dX = rng.standard_normal(theta.shape), rng.standard_normal(X.shape)
    gZ, dgZ, hZ = (rng.standard_normal(F.shape) for _ in range(3))
    for a, b in zip(g.vjp(theta, c, gZ), layer.vjp(theta, cl, gZ)):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)
    cases = {"dtheta": (v, None, None), "dX": (None, dX, None), "dgZ": (None, None, dgZ)}
    cases["all"] = (v, dX, dgZ)
    for name, (dth, dx, dg) in cases.items():
        dF = layer.jvp(theta, cl, dth, dx) if name != "dgZ" else np.zeros_like(F)
        np.testing.assert_allclose(g.jvp(theta, c, dth, dx), dF, rtol=1e-14, atol=1e-15)
        ours, ref = g.rop(theta, c, dth, dx, gZ, dg), layer.rop(theta, cl, dth, dx, gZ, dg)
        assert np.abs(ref[0]).max() > 0, name
        for a, b in zip(ours, ref):
            np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-14, err_msg=name)
    for a, b in zip(g.diag_backward(theta, c, gZ, hZ), layer.diag_backward(theta, cl, gZ, hZ)):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def test_need_gX_false_gives_none_even_when_a_merge_reads_the_input():
    """A merge that reads the input passes it a cotangent; with need_gX/need_hX False the
    input's part is still None, and the parameter part is unchanged."""
    g = Graph(2, [Node("f", Dense(2, 2, "tanh")), Node("sum", Add(), ["f", "input"])])
    rng = np.random.default_rng(12)
    theta, X = g.init(rng, scheme="normal"), rng.standard_normal((3, 2))
    F, c = g.forward(theta, X)
    gZ, dgZ, v = rng.standard_normal(F.shape), rng.standard_normal(F.shape), rng.standard_normal(6)
    g_all, gX = g.vjp(theta, c, gZ)
    g_only, none = g.vjp(theta, c, gZ, need_gX=False)
    assert gX.shape == X.shape and none is None
    np.testing.assert_array_equal(g_only, g_all)
    Rg_all, RgX = g.rop(theta, c, v, None, gZ, dgZ)
    Rg_only, none = g.rop(theta, c, v, None, gZ, dgZ, need_gX=False)
    assert RgX.shape == X.shape and none is None
    np.testing.assert_array_equal(Rg_only, Rg_all)
    d_all, hX = g.diag_backward(theta, c, gZ, np.ones_like(F))
    d_only, none = g.diag_backward(theta, c, gZ, np.ones_like(F), need_hX=False)
    assert hX.shape == X.shape and none is None
    np.testing.assert_array_equal(d_only, d_all)


def test_backward_defaults_to_both_cotangents():
    """backward(θ, cache, gZ) returns vjp's (gθ, gX) and each node's output cotangent."""
    g = inception()
    rng = np.random.default_rng(13)
    theta, X = g.init(rng, scheme="normal"), rng.standard_normal((4, 3))
    F, c = g.forward(theta, X)
    gZ = rng.standard_normal(F.shape)
    gtheta, gX, gZs = g.backward(theta, c, gZ)
    ref = g.vjp(theta, c, gZ)
    np.testing.assert_array_equal(gtheta, ref[0])
    np.testing.assert_array_equal(gX, ref[1])
    assert set(gZs) == set(g.nodes) and gZs["out"] is gZ


def test_jvp_checks_the_rows_of_dX():
    g, theta, X, rng = _branch_and_input()
    c = g.forward(theta, X)[1]
    with pytest.raises(ValueError, match=r"^dX must have shape \(5, 2\), got \(4, 2\)$"):
        g.jvp(theta, c, None, np.ones((4, 2)))


@pytest.mark.parametrize(
    "theta_dtype, X, exc, match",
    [
        (
            np.float64,
            np.zeros((2, 3)),
            ValueError,
            r"^X must have shape \(n_samples, 2\), got \(2, 3\)$",
        ),
        (
            np.float64,
            np.zeros((2, 2), np.float32),
            TypeError,
            "^X has dtype float32 but the parameters are float64$",
        ),
    ],
    ids=["wrong-width", "other-float-dtype"],
)
def test_forward_checks_X_against_the_graph(theta_dtype, X, exc, match):
    g, theta, _, _ = _branch_and_input(theta_dtype)
    with pytest.raises(exc, match=match):
        g.forward(theta, X)


def test_forward_converts_integer_input_to_theta_dtype():
    g, theta, _, _ = _branch_and_input(np.float32)
    X = np.arange(6).reshape(3, 2)
    F = g.predict(theta, X)
    assert F.dtype == np.float32
    np.testing.assert_array_equal(F, g.predict(theta, X.astype(np.float32)))


def test_nodes_may_be_given_as_tuples():
    """(name, op[, inputs[, share]]) tuples build the graph that Node records do."""
    a, h, out = Dense(2, 3, "tanh"), Dense(3, 3, "tanh"), Dense(3, 1)
    g = Graph(2, [("a", a), ("h", h, "a", None), ("h2", h, "h", "h"), ("out", out, "h2")])
    ref = Graph(
        2, [Node("a", a), Node("h", h, "a"), Node("h2", h, "h", "h"), Node("out", out, "h2")]
    )
    assert repr(g) == repr(ref) and g.n_params == ref.n_params == 9 + 12 + 4
    assert all(isinstance(n, Node) for n in g.nodes.values())


def test_map_layers_keeps_an_output_that_is_not_the_last_node():
    g = Graph(2, [Node("o", Dense(3, 1), "h"), Node("h", Dense(2, 3, "tanh"))], output="o")
    again = g.map_layers(lambda layer: layer)
    assert again.output == "o" and again.d_out == 1 and repr(again) == repr(g)


@pytest.mark.parametrize("scheme", ["normal", "xavier"])
def test_init_of_a_chain_equals_the_sequential_one(scheme):
    """Owners are drawn in topological order, each in the requested dtype: a chain graph's θ
    is the Sequential's, bit for bit, in float32 too."""
    layers = [Dense(3, 4, "tanh"), Residual(4, "sin"), Dense(4, 2)]
    g = Graph(3, [Node("c", layers[2], "b"), Node("b", layers[1], "a"), Node("a", layers[0])], "c")
    for dtype in (np.float32, np.float64):
        theta = g.init(5, dtype, scheme)
        assert theta.dtype == dtype
        np.testing.assert_array_equal(theta, Sequential(layers).init(5, dtype, scheme))


def test_unpack_accepts_a_non_finite_theta():
    """unpack only slices (one may inspect a diverged θ): NaN and inf are not refused."""
    g = inception()
    params = g.unpack(np.full(g.n_params, np.inf))
    assert (
        set(params) == {"wide", "narrow", "deep", "out"} and np.isposinf(params["out"]["W"]).all()
    )


def test_a_layer_with_only_the_public_contract_is_a_node():
    """_forward and diag_backward are optional: a user's layer without them gives the built-in
    layer's products, and Becker–LeCun refuses it naming the node."""
    from test_network import PublicOnly

    def graph(wrap):
        return Graph(2, [Node("a", Dense(2, 3, "tanh")), Node("b", wrap(Dense(3, 2, "sin")), "a")])

    plain, user = graph(lambda layer: layer), graph(PublicOnly)
    assert isinstance(user.nodes["b"].op, Layer)
    rng = np.random.default_rng(14)
    theta, X = plain.init(rng, scheme="normal"), rng.standard_normal((4, 2))
    (F, c), (Fu, cu) = plain.forward(theta, X), user.forward(theta, X)
    np.testing.assert_array_equal(Fu, F)
    gZ = rng.standard_normal(F.shape)
    for a, b in zip(user.vjp(theta, cu, gZ), plain.vjp(theta, c, gZ)):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(
        TypeError, match="^becker_lecun_diagonal needs diag_backward on every layer; layer 'b' is <"
    ):
        user.diag_backward(theta, cu, gZ, np.ones_like(F))


def test_an_overflowing_intermediate_gives_a_non_finite_output_not_an_error():
    """forward checks theta and X once; a node output that overflows to inf propagates (line
    searches reject a non-finite trial value) instead of failing the next node's input check."""
    g = Graph(1, [Node("a", Dense(1, 1)), Node("b", Dense(1, 1), "a")])
    with np.errstate(over="ignore"):
        F = g.predict(np.array([1e200, 0.0, 1.0, 0.0]), np.array([[1e200]]))
    assert F.shape == (1, 1) and np.isposinf(F).all()


def test_shared_slice_adds_its_products_in_theta_dtype():
    """In float32 a shared slice's gradient, R-product and Becker–LeCun diagonal are the float32
    sums of the tied copies' ones, bit for bit: the second use's product is made in θ's dtype."""

    def build(share):
        return Graph(
            3,
            [
                Node("h", Dense(3, 3, "tanh")),
                Node("h2", Dense(3, 3, "tanh"), "h", share=share),
                Node("out", Dense(3, 1), "h2"),
            ],
        )

    def fold(t):
        """The tied copies' parts added in the order the reverse pass meets them (h2, then h)."""
        return np.concatenate([t[12:24] + t[:12], t[24:]])

    shared, tied = build("h"), build(None)
    for seed in range(20):
        rng = np.random.default_rng(seed)
        theta = shared.init(rng, np.float32, scheme="normal")
        X, gZ, v = (rng.standard_normal(n).astype(np.float32) for n in [(5, 3), (5, 1), 16])
        th_tied, v_tied = (np.concatenate([a[:12], a[:12], a[12:]]) for a in (theta, v))
        c, ct = shared.forward(theta, X)[1], tied.forward(th_tied, X)[1]
        pairs = [
            (shared.vjp(theta, c, gZ)[0], tied.vjp(th_tied, ct, gZ)[0]),
            (
                shared.rop(theta, c, v, None, gZ, None)[0],
                tied.rop(th_tied, ct, v_tied, None, gZ, None)[0],
            ),
            (
                shared.diag_backward(theta, c, gZ, gZ**2)[0],
                tied.diag_backward(th_tied, ct, gZ, gZ**2)[0],
            ),
        ]
        for ours, ref in pairs:
            assert ours.dtype == np.float32
            np.testing.assert_array_equal(ours, fold(ref))


def test_a_graph_node_can_share_another_graph_nodes_slice():
    """A nested Graph's views are dicts of dicts; sharing compares them shape by shape."""

    def inner():
        return Graph(2, [Node("a", Dense(2, 2, "tanh")), Node("b", Dense(2, 2), "a")])

    g = Graph(2, [Node("g1", inner()), Node("g2", inner(), "g1", share="g1")])
    assert g.slices["g2"] == g.slices["g1"] and g.n_params == 12
    rng = np.random.default_rng(3)
    theta, X = g.init(rng, scheme="normal"), rng.standard_normal((4, 2))
    f = inner()
    np.testing.assert_array_equal(g.predict(theta, X), f.predict(theta, f.predict(theta, X)))


def test_networks_of_equal_size_but_other_layouts_cannot_share():
    """2→3→2 and 2→4→1 both hold 17 parameters, in other shapes: they cannot share a slice."""
    a = Sequential([Dense(2, 3, "tanh"), Dense(3, 2)])
    b = Sequential([Dense(2, 4, "tanh"), Dense(4, 1)])
    assert a.n_params == b.n_params == 17
    with pytest.raises(ValueError, match="shapes differ"):
        Graph(2, [Node("a", a), Node("b", b, "a", share="a")])


def test_a_sequential_node_can_share_another_ones_slice():
    """Networks are nodes too: a Sequential node may share the slice of another Sequential node
    (their parameter layouts compared layer by layer), computing f(f(X))."""

    def chain():
        return Sequential([Dense(2, 3, "tanh"), Dense(3, 2, "sin")])

    g = Graph(2, [Node("f", chain()), Node("f2", chain(), "f", share="f")])
    assert g.n_params == 17 and g.slices["f2"] == g.slices["f"]
    rng = np.random.default_rng(16)
    theta, X = g.init(rng, scheme="normal"), rng.standard_normal((3, 2))
    f = chain()
    np.testing.assert_array_equal(g.predict(theta, X), f.predict(theta, f.predict(theta, X)))
