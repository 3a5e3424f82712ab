"""numnet.layers.dropout and numnet.layers.recurrent: what the derivative matrix does not cover.

The registry entries "dropout", "rnn_last" and "rnn_sequence" run the whole
derivative matrix (tests/layers/test_layers.py) and the torch oracle. Here: the
mask (inference, keys, its mean, the expectation of the output), mapping
keys over networks, mini-batch keys in sgd, the sharing of the recurrent
parameters over time (against torch.nn.RNN and an unshared unrolled copy),
and every validation error.
"""

import json

import numpy as np
import pytest
import torch
from registry import rel_err

from numnet import Dropout, Recurrent
from numnet.activations import Activation
from numnet.architecture import to_json
from numnet.checks import check_layer
from numnet.layers import Dense, DropoutCache, RecurrentCache, with_dropout_key
from numnet.layers.dropout import has_dropout
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.optim import minimize

# ------------------------------------------------------------------ dropout


def test_inference_is_the_identity():
    layer, X = Dropout(4, 0.5), np.random.default_rng(0).standard_normal((3, 4))
    Z, cache = layer.forward(np.zeros(0), X)
    assert isinstance(cache, DropoutCache) and cache.mask is None and layer.mask(X.shape) is None
    np.testing.assert_array_equal(Z, X)
    assert Z is not X
    np.testing.assert_array_equal(layer.jvp(np.zeros(0), cache, None, 2 * X), 2 * X)
    np.testing.assert_array_equal(layer.vjp(np.zeros(0), cache, X)[1], X)


def test_mask_is_a_function_of_seed_key_and_shape():
    a, X = Dropout(20, 0.4, seed=3, key=5), np.ones((50, 20))
    M = a.forward(np.zeros(0), X)[1].mask
    np.testing.assert_array_equal(M, a.with_key(5).mask(X.shape))
    np.testing.assert_array_equal(
        M, Dropout(20, 0.4, seed=3, key=5).forward(np.zeros(0), 2 * X)[1].mask
    )
    assert not np.array_equal(M, a.with_key(6).mask(X.shape))
    assert not np.array_equal(M, Dropout(20, 0.4, seed=4, key=5).mask(X.shape))
    assert set(np.unique(M)) <= {0.0, 1.0}
    np.testing.assert_array_equal(a.forward(np.zeros(0), X)[0], X * M / 0.6)


def test_mask_keeps_an_entry_whose_uniform_draw_equals_p():
    """M = [u ≥ p]: an entry drawn exactly at p is kept (and one drawn below it is dropped)."""
    u = np.random.default_rng([3, 7]).random((2, 2))
    for k, p in enumerate(u.ravel()):
        M = Dropout(2, float(p), seed=3, key=7).mask((2, 2))
        assert M.ravel()[k] == 1.0
        np.testing.assert_array_equal(M, (u >= p).astype(float))


@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9])
def test_mask_mean_is_one_minus_p(p):
    M = Dropout(100, p, seed=1, key=2).mask((1000, 100))
    assert abs(M.mean() - (1 - p)) < 0.005
    assert p > 0 or M.all()


def test_output_equals_input_in_expectation():
    rng = np.random.default_rng(1)
    X, layer = rng.standard_normal((3, 4)), Dropout(4, 0.3, seed=9)
    mean = np.mean([layer.with_key(k).forward(np.zeros(0), X)[0] for k in range(4000)], axis=0)
    # per entry the std of Z is |x| √(p/(1−p)) ≈ 0.65|x|; the mean of 4000 keys is within 5 std errors
    np.testing.assert_array_less(np.abs(mean - X), 5 * 0.66 * np.abs(X) / np.sqrt(4000) + 1e-12)


def test_dropout_keeps_float32_and_passes_the_checks():
    layer, X = (
        Dropout(5, 0.5, key=1),
        np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32),
    )
    Z, cache = layer.forward(np.zeros(0, np.float32), X)
    assert Z.dtype == cache.mask.dtype == np.float32
    for key in (None, 1):
        assert check_layer(Dropout(5, 0.5, key=key), X.astype(np.float64), np.zeros(0)).passed


def test_with_dropout_key_on_sequential_and_bare_layers():
    inner = Sequential([Dense(3, 4, "tanh"), Dropout(4, 0.2, seed=1)])
    net = Sequential([inner, Dropout(4, 0.5, seed=2, key=7), Dense(4, 2)])
    keyed = with_dropout_key(net, 11)
    assert keyed.layers[0].layers[1].key == keyed.layers[1].key == 11
    assert keyed.layers[2] is net.layers[2] and keyed.layers[0].layers[0] is inner.layers[0]
    assert net.layers[1].key == 7 and inner.layers[1].key is None  # the original is unchanged
    assert with_dropout_key(keyed, None).layers[1].key is None
    assert with_dropout_key(Dropout(2, 0.5), 3).key == 3
    dense = Dense(2, 2)
    assert with_dropout_key(dense, 3) is dense
    assert (
        has_dropout(net) and has_dropout(Dropout(2, 0.1)) and not has_dropout(Sequential([dense]))
    )


def test_objective_batch_with_a_key_changes_only_the_dropout_keys():
    rng = np.random.default_rng(0)
    net = Sequential([Dense(3, 8, "tanh"), Dropout(8, 0.5, seed=1), Dense(8, 1)])
    obj = Objective(net, "squared_error", rng.standard_normal((6, 3)), rng.standard_normal((6, 1)))
    theta = net.init(0)
    assert obj.batch(slice(0, 4)).net is net and obj.net.layers[1].key is None
    b1, b2 = obj.batch(slice(0, 4), key=1), obj.batch(slice(0, 4), key=2)
    assert b1.net.layers[1].key == 1 and b1.net.layers[0] is net.layers[0]
    assert not np.allclose(b1.grad(theta), b2.grad(theta))
    np.testing.assert_array_equal(b1.grad(theta), obj.batch(slice(0, 4), key=1).grad(theta))


class _RecordingObjective(Objective):
    """Records the dropout key of every mini-batch."""

    def batch(self, rows, key=None):
        self.keys.append(key)
        return super().batch(rows, key=key)


def _sgd_run(net, seed=5):
    rng = np.random.default_rng(0)
    obj = _RecordingObjective(
        net, "squared_error", rng.standard_normal((20, 3)), rng.standard_normal((20, 1))
    )
    obj.keys = []
    res = minimize(obj, net.init(1), "sgd", max_iter=3, batch_size=5, seed=seed, learning_rate=0.05)
    return obj, res


def test_sgd_draws_a_new_mask_every_step_and_is_reproducible():
    net = Sequential([Dense(3, 16, "tanh"), Dropout(16, 0.5, seed=1), Dense(16, 1)])
    obj, res = _sgd_run(net)
    keys = list(obj.keys)  # 3 epochs of 4 mini-batches
    assert len(keys) == 12 and None not in keys and len(set(keys)) == 12
    masks = [with_dropout_key(net, k).layers[1].mask((5, 16)) for k in keys[:3]]
    assert not np.array_equal(masks[0], masks[1]) and not np.array_equal(masks[1], masks[2])
    obj2, res2 = _sgd_run(net)
    assert obj2.keys == keys
    np.testing.assert_array_equal(res2.x, res.x)
    assert _sgd_run(net, seed=6)[0].keys != keys


def test_sgd_without_dropout_passes_no_key():
    obj, _ = _sgd_run(Sequential([Dense(3, 4, "tanh"), Dense(4, 1)]))
    assert obj.keys == [None] * 12


# ------------------------------------------------------------------ recurrent


def _numpy_rnn(theta, X, n_steps, d_x, d_h):
    W_x, W_h = (
        theta[: d_x * d_h].reshape(d_x, d_h),
        theta[d_x * d_h : d_x * d_h + d_h * d_h].reshape(d_h, d_h),
    )
    b, h, hs = theta[d_x * d_h + d_h * d_h :], np.zeros((len(X), d_h)), []
    for t in range(n_steps):
        h = np.tanh(X[:, t * d_x : (t + 1) * d_x] @ W_x + h @ W_h + b)
        hs.append(h)
    return hs


def test_recurrent_formula_layout_and_outputs():
    rng = np.random.default_rng(0)
    last, seq = Recurrent(4, 2, 3), Recurrent(4, 2, 3, output="sequence")
    theta, X = last.init(rng, scheme="normal"), rng.standard_normal((5, 8))
    hs = _numpy_rnn(theta, X, 4, 2, 3)
    Z, cache = last.forward(theta, X)
    assert isinstance(cache, RecurrentCache) and cache.H.shape == cache.A.shape == (5, 4, 3)
    np.testing.assert_allclose(Z, hs[-1], rtol=1e-14)
    np.testing.assert_allclose(seq.forward(theta, X)[0], np.concatenate(hs, axis=1), rtol=1e-14)
    np.testing.assert_allclose(cache.dsigma, 1 - cache.H**2, rtol=1e-14)
    assert (last.d_in, last.d_out, seq.d_out) == (8, 3, 12)
    np.testing.assert_array_equal(last.bias_mask(), [False] * 15 + [True] * 3)


def test_parameter_count_does_not_depend_on_the_sequence_length():
    counts = {
        Recurrent(T, 3, 4, output=o).n_params for T in (1, 2, 5, 20) for o in ("last", "sequence")
    }
    assert counts == {3 * 4 + 4 * 4 + 4}
    assert Recurrent(7, 3, 4, bias=False).n_params == 28


@pytest.mark.parametrize("output", ["last", "sequence"])
def test_shared_gradient_matches_torch_rnn_and_the_sum_over_steps(output):
    """T = 5: BPTT equals torch.nn.RNN autograd, and equals Σ_t of the gradients of unshared per-step copies."""
    n_steps, d_x, d_h, n = 5, 3, 4, 6
    rng = np.random.default_rng(2)
    layer = Recurrent(n_steps, d_x, d_h, output=output)
    theta, X = layer.init(rng, scheme="normal"), rng.standard_normal((n, n_steps * d_x))
    Z, cache = layer.forward(theta, X)
    gZ = rng.standard_normal(Z.shape)
    gtheta, gX = layer.vjp(theta, cache, gZ)
    p = layer.unpack(theta)

    rnn = torch.nn.RNN(d_x, d_h, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.from_numpy(p["W_x"].T.copy()))
        rnn.weight_hh_l0.copy_(torch.from_numpy(p["W_h"].T.copy()))
        rnn.bias_ih_l0.copy_(torch.from_numpy(p["b"].copy()))
        rnn.bias_hh_l0.zero_()
    Xt = torch.tensor(X.reshape(n, n_steps, d_x), requires_grad=True)
    out = rnn(Xt)[0]
    out = out[:, -1] if output == "last" else out.reshape(n, -1)
    (out * torch.from_numpy(gZ)).sum().backward()
    assert rel_err(layer.unpack(gtheta)["W_x"], rnn.weight_ih_l0.grad.numpy().T) < 1e-12
    assert rel_err(layer.unpack(gtheta)["W_h"], rnn.weight_hh_l0.grad.numpy().T) < 1e-12
    assert rel_err(layer.unpack(gtheta)["b"], rnn.bias_ih_l0.grad.numpy()) < 1e-12
    assert rel_err(gX, Xt.grad.numpy().reshape(n, -1)) < 1e-12

    # one copy of (W_x, W_h, b) per step: the shared gradient is the sum of the copies' gradients
    copies = [torch.tensor(theta, requires_grad=True) for _ in range(n_steps)]
    h, hs, Xs = (
        torch.zeros(n, d_h, dtype=torch.float64),
        [],
        torch.from_numpy(X.reshape(n, n_steps, d_x)),
    )
    for t, th in enumerate(copies):
        W_x, W_h, b = (
            th[: d_x * d_h].reshape(d_x, d_h),
            th[d_x * d_h : -d_h].reshape(d_h, d_h),
            th[-d_h:],
        )
        h = torch.tanh(Xs[:, t] @ W_x + h @ W_h + b)
        hs.append(h)
    out = h if output == "last" else torch.cat(hs, dim=1)
    (out * torch.from_numpy(gZ)).sum().backward()
    per_step = np.array([c.grad.numpy() for c in copies])
    assert np.abs(per_step[:-1]).sum() > 0  # earlier steps contribute through the recurrence
    assert rel_err(gtheta, per_step.sum(axis=0)) < 1e-12


@pytest.mark.parametrize(
    "layer",
    [
        Recurrent(1, 2, 3, activation="sigmoid"),
        Recurrent(3, 2, 2, activation="sin", output="sequence", bias=False),
        Sequential([Recurrent(4, 2, 3, output="sequence"), Dense(12, 2, "tanh")]),
    ],
    ids=repr,
)
def test_recurrent_edge_cases_pass_the_checks(layer):
    rng = np.random.default_rng(4)
    theta, X = layer.init(rng, scheme="normal"), rng.standard_normal((3, layer.d_in))
    res = check_layer(layer, X, theta, seed=1)
    assert res.passed, str(res)


def test_get_config_rebuilds_the_layers():
    for layer in (
        Dropout(3, 0.25, seed=4, key=9),
        Dropout(3, 0.5),
        Recurrent(3, 2, 5, activation="relu", output="sequence", bias=False),
    ):
        config = layer.get_config()
        again = type(layer)(**config)
        assert again.get_config() == config and repr(again) == repr(layer)
        assert all(
            v is None or isinstance(v, (int, float, str, bool, Activation)) for v in config.values()
        )
        assert json.loads(json.dumps(to_json(layer))) == to_json(layer)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        ({"width": 0, "p": 0.5}, ValueError, "width"),
        ({"width": 2, "p": 1.0}, ValueError, "p must"),
        ({"width": 2, "p": -0.1}, ValueError, "p must"),
        ({"width": 2, "p": float("nan")}, ValueError, "p must"),
        ({"width": 2, "p": "0.5"}, TypeError, "p must"),
        ({"width": 2, "p": True}, TypeError, "p must"),
        ({"width": 2, "p": None}, TypeError, "p must"),
        ({"width": 2, "p": 0.5, "seed": -1}, ValueError, "seed"),
        ({"width": 2, "p": 0.5, "seed": 1.5}, TypeError, "seed"),
        (
            {"width": 2, "p": 0.5, "seed": None},
            TypeError,
            "seed must be a non-negative int, got None",
        ),
        ({"width": 2, "p": 0.5, "key": -3}, ValueError, "key"),
        ({"width": 2, "p": 0.5, "key": "a"}, TypeError, "key"),
        ({"width": 2, "p": 0.5, "key": False}, TypeError, "key"),
    ],
)
def test_dropout_errors_name_the_argument(kwargs, exc, match):
    with pytest.raises(exc, match=f"^{match}"):
        Dropout(**kwargs)


def test_dropout_key_and_forward_errors():
    with pytest.raises(ValueError, match="^key must be a non-negative int, got -1$"):
        with_dropout_key(Sequential([Dropout(2, 0.1)]), -1)
    with pytest.raises(TypeError, match="^key must be a non-negative int or None, got 1.0$"):
        with_dropout_key(Dropout(2, 0.1), 1.0)
    with pytest.raises(TypeError, match="^key must be a non-negative int or None, got 1.0$"):
        Dropout(2, 0.1).with_key(1.0)
    with pytest.raises(ValueError, match="X"):
        Dropout(2, 0.1).forward(np.zeros(0), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="theta"):
        Dropout(2, 0.1).forward(np.zeros(1), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="scheme"):
        Dropout(2, 0.1).init(np.random.default_rng(0), scheme="glorot")


@pytest.mark.parametrize(
    "args, kwargs, exc, match",
    [
        ((0, 2, 3), {}, ValueError, "n_steps"),
        ((2.0, 2, 3), {}, ValueError, "n_steps"),
        ((2, 0, 3), {}, ValueError, "d_x"),
        ((2, 2, -1), {}, ValueError, "d_h"),
        ((2, 2, True), {}, ValueError, "d_h"),
        ((2, 2, 3), {"output": "all"}, ValueError, "output"),
        ((2, 2, 3), {"output": None}, ValueError, "output"),
        ((2, 2, 3), {"activation": "tanhh"}, ValueError, "activation"),
        ((2, 2, 3), {"bias": "yes"}, TypeError, "bias"),
    ],
)
def test_recurrent_errors_name_the_argument(args, kwargs, exc, match):
    with pytest.raises(exc, match=f"^{match} "):
        Recurrent(*args, **kwargs)


def test_recurrent_forward_errors_name_the_argument():
    layer = Recurrent(3, 2, 2)
    with pytest.raises(ValueError, match="X"):
        layer.forward(np.zeros(layer.n_params), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="theta"):
        layer.forward(np.zeros(layer.n_params + 1), np.zeros((2, 6)))
    with pytest.raises(ValueError, match="scheme"):
        layer.init(np.random.default_rng(0), scheme="glorot")
