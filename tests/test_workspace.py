"""numnet.workspace and the products written into it.

A workspace hands out the same array for the same name; a pool lends one only
when its borrower is gone and none of its arrays is referenced elsewhere. The
layers and networks that take a workspace give bitwise the same results with
and without one; every array a product returns is the caller's (later calls
never overwrite it); a linearization's forward pass stays valid while it
lives; and repeated products allocate nothing larger than their result.
"""

import copy
import pickle
import threading
import tracemalloc

import numpy as np
import pytest
from registry import DTYPES, LAYERS, Shape, data, make_objective

from numnet.layers import Dense
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.workspace import Workspace, WorkspacePool

WS_LAYERS = [
    name
    for name in LAYERS
    if getattr(LAYERS[name]("tanh", Shape(3, 2, 3, 2, 0)), "takes_workspace", False)
]
SHAPE = Shape(5, 3, 4, 2, 11)


class Borrower:
    """Something a pool can lend to (weak-referenceable)."""


def test_workspace_returns_the_same_array_per_name_shape_and_dtype():
    ws = Workspace()
    a = ws.array("a", (3, 2), np.float64)
    assert ws.array("a", (3, 2), np.float64) is a
    assert (
        ws.array("a", (2, 3), np.float64) is not a
        and ws.array("a", (2, 3), np.float32).dtype == np.float32
    )
    s = ws.scope(0)
    assert ws.scope(0) is s and s.array("a", (2, 3), np.float32) is not ws.array(
        "a", (2, 3), np.float32
    )
    assert ws.nbytes == 2 * 6 * 4


def test_pool_lends_a_workspace_again_only_when_nothing_references_it():
    pool = WorkspacePool(size=2)
    b1 = Borrower()
    ws1 = pool.acquire(b1)
    x = ws1.scope("s").array("x", (4,), np.float64)
    assert pool.acquire(Borrower()) is not ws1  # borrower alive
    del b1
    view = x[1:]
    assert pool.acquire(Borrower()) is not ws1  # a view of one of its arrays is alive
    del view, x
    assert pool.acquire(Borrower()) is ws1
    busy = [Borrower() for _ in range(3)]
    spaces = [pool.acquire(b) for b in busy]
    assert len({id(w) for w in spaces}) == 3 and len(pool._spaces) == 2  # the third is not kept


def test_lend_frees_the_workspace_after_the_block():
    pool = WorkspacePool()
    with pool.lend() as ws:
        ws.array("a", (2,), np.float64)
        with pool.lend() as inner:
            assert inner is not ws
    with pool.lend() as again:
        assert again is ws


def _ws_and_plain(layer_name, dtype, seed):
    s = Shape(4, 3, 4, 3, seed)
    layer = LAYERS[layer_name]("tanh", s)
    rng, theta, X = data(layer, s, dtype)
    return layer, theta, X, rng


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer_name", WS_LAYERS)
def test_products_in_a_workspace_equal_the_allocating_ones(layer_name, dtype):
    layer, theta, X, rng = _ws_and_plain(layer_name, dtype, 3)
    ws = Workspace()
    for _ in range(2):  # the second round reuses every buffer
        dth, dX = (rng.standard_normal(n).astype(dtype) for n in (theta.shape, X.shape))
        Z, cache = layer.forward(theta, X)
        Zw, cache_w = layer.forward(theta, X, ws.scope("f"))
        gZ, dgZ = (rng.standard_normal(Z.shape).astype(dtype) for _ in range(2))
        pairs = [
            (Z, Zw),
            (
                layer.tangent(theta, cache, dth, dX)[0],
                layer.tangent(theta, cache_w, dth, dX, ws=ws.scope("t"))[0],
            ),
        ]
        pairs += zip(layer.vjp(theta, cache, gZ), layer.vjp(theta, cache_w, gZ, ws=ws.scope("g")))
        pairs += zip(
            layer.rop(theta, cache, dth, dX, gZ, dgZ),
            layer.rop(theta, cache_w, dth, dX, gZ, dgZ, ws=ws.scope("r")),
        )
        for plain, in_ws in pairs:
            np.testing.assert_array_equal(in_ws, plain)
    assert ws.nbytes > 0


def _objective(dtype=np.float64, layer="mlp3"):
    return make_objective("cross_entropy", "tikhonov", "tanh", SHAPE, dtype, layer)


@pytest.mark.parametrize("dtype", DTYPES)
def test_returned_products_are_never_overwritten_by_later_calls(dtype):
    rng, obj, theta = _objective(dtype)
    v1, v2 = (rng.standard_normal(obj.n_params).astype(dtype) for _ in range(2))
    lin = obj.at(theta)
    results = {
        "grad": lin.grad,
        "hvp": lin.hvp(v1),
        "gnvp": lin.gnvp(v1),
        "obj.grad": obj.grad(theta),
        "obj.hvp": obj.hvp(theta, v1),
        "obj.gnvp": obj.gnvp(theta, v1),
    }
    saved = {k: r.copy() for k, r in results.items()}
    theta2 = theta + 0.1
    lin.hvp(v2), lin.gnvp(v2), obj.value_and_grad(theta2), obj.hvp(theta2, v2), obj.gnvp(theta2, v2)
    obj.at(theta2).hvp(v2)
    for k, r in results.items():
        np.testing.assert_array_equal(r, saved[k], err_msg=k)
    np.testing.assert_array_equal(lin.hvp(v1), saved["hvp"])  # gnvp left the kept cotangents alone
    assert not any(
        np.shares_memory(a, b) for a in results.values() for b in results.values() if a is not b
    )
    assert not any(np.shares_memory(r, lin.F) for r in results.values())


def test_a_linearization_stays_valid_while_others_come_and_go():
    rng, obj, theta = _objective()
    v = rng.standard_normal(obj.n_params)
    lin = obj.at(theta)
    F, hv = lin.F.copy(), lin.hvp(v)
    others = [obj.at(theta * (1 + 0.1 * k)) for k in range(4)]  # more than the pool keeps
    for o in others:
        o.hvp(v), o.grad
    for k in range(3):
        obj.value_and_grad(theta - k), obj.gnvp(theta + k, v), obj.value(theta + 2 * k)
    np.testing.assert_array_equal(lin.F, F)
    np.testing.assert_array_equal(lin.hvp(v), hv)
    fresh = Objective(obj.net, obj.loss, obj.X, obj.Y, obj.regularizer)
    np.testing.assert_array_equal(lin.grad, fresh.grad(theta))


def test_arrays_kept_after_their_linearization_is_gone_are_not_overwritten():
    rng, obj, theta = _objective()
    F = obj.at(theta).F
    cache = obj.at(theta).cache
    A = [c.A.copy() for c in cache if hasattr(c, "A")]
    F0 = F.copy()
    for k in range(4):
        obj.value_and_grad(theta + k), obj.hvp(theta - k, theta)
    np.testing.assert_array_equal(F, F0)
    for a, c in zip(A, [c for c in cache if hasattr(c, "A")]):
        np.testing.assert_array_equal(c.A, a)


def _peak_above_current(fn):
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("dtype", DTYPES)
def test_repeated_products_allocate_little_more_than_their_result(dtype):
    rng = np.random.default_rng(0)
    net = Sequential([Dense(16, 256, "tanh"), Dense(256, 256, "tanh"), Dense(256, 3)])
    X = rng.standard_normal((300, 16)).astype(dtype)  # activations: 300 x 256 (300 KiB in float32)
    obj = Objective(net, "cross_entropy", X, rng.integers(0, 3, 300))
    theta, v = net.init(rng, dtype), rng.standard_normal(net.n_params).astype(dtype)
    lin = obj.at(theta)
    products = {
        "value_and_grad": lambda: obj.value_and_grad(theta),
        "hvp": lambda: obj.hvp(theta, v),
        "gnvp": lambda: obj.gnvp(theta, v),
        "lin.hvp": lambda: lin.hvp(v),
        "lin.gnvp": lambda: lin.gnvp(v),
        "value": lambda: obj.value(theta),
    }
    activation = X.shape[0] * 256 * X.itemsize
    for name, fn in products.items():
        fn(), fn()
        extra = _peak_above_current(fn) - (0 if name == "value" else theta.nbytes)
        assert extra < activation / 2, f"{name} allocated {extra} bytes beyond its result"


def test_threads_sharing_an_objective_get_their_own_workspaces():
    rng, obj, theta = _objective()
    thetas = [theta + 0.05 * k for k in range(6)]
    expected = [Objective(obj.net, obj.loss, obj.X, obj.Y, obj.regularizer).grad(t) for t in thetas]
    got, errors = {}, []

    def work(k):
        try:
            for _ in range(20):
                got[k] = obj.at(thetas[k]).grad
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(thetas))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, e in enumerate(expected):
        np.testing.assert_array_equal(got[k], e)


def test_threads_sharing_a_linearization_get_their_own_product_workspaces():
    rng = np.random.default_rng(2)
    net = Sequential([Dense(20, 120, "tanh"), Dense(120, 120, "tanh"), Dense(120, 3)])
    obj = Objective(net, "cross_entropy", rng.standard_normal((200, 20)), rng.integers(0, 3, 200))
    lin = obj.at(net.init(rng))
    V = rng.standard_normal((4, obj.n_params))
    expected = [lin.hvp(v) + lin.gnvp(v) for v in V]
    got, errors = {k: [] for k in range(len(V))}, []

    def work(
        k,
    ):  # NumPy releases the GIL in matmul and ufuncs on arrays this size: the calls overlap
        try:
            for _ in range(15):
                got[k].append(lin.hvp(V[k]) + lin.gnvp(V[k]))
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(V))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for k, e in enumerate(expected):
        for g in got[k]:
            np.testing.assert_array_equal(g, e)


def test_an_objective_copies_and_pickles_with_empty_pools():
    rng, obj, theta = _objective()
    obj.hvp(theta, theta)
    for other in (copy.deepcopy(obj), pickle.loads(pickle.dumps(obj))):
        for name in ("_lin_pool", "_product_pool"):
            pool = getattr(other, name)
            assert pool is not getattr(obj, name) and not pool._spaces
        np.testing.assert_array_equal(other.grad(theta), obj.grad(theta))
