"""Every tool downstream of the layer contract runs on every registered layer and network.

The derivative matrix (test_layers, test_torch_oracle) proves each layer's
products; here the registry's networks (chains, graphs, convolutions,
pooling, dropout, recurrent layers) go through what users run on them: the
curvature tools agree with the dense Hessian and Gauss-Newton matrix, every
``minimize`` method lowers the objective, and the methods that need a
particular architecture say which.
"""

import warnings

import numpy as np
import pytest
from registry import LAYERS, Shape, data

from numnet import Objective, minimize
from numnet.curvature import (
    extreme_eigenvalues,
    hessian_dense,
    hessian_diagonal,
    hessian_fd_grads,
    outer_product_hessian,
)
from numnet.optim import METHODS

SHAPE = Shape(n_samples=5, d_in=3, hidden=3, d_out=2, seed=13)


def objective(layer_name, loss="squared_error", act="tanh"):
    net = LAYERS[layer_name](act, SHAPE)
    rng, theta, X = data(net, SHAPE)
    Y = (
        rng.standard_normal((SHAPE.n_samples, net.d_out))
        if loss == "squared_error"
        else rng.integers(0, net.d_out, SHAPE.n_samples)
    )
    return Objective(net, loss, X, Y, regularizer=1e-3), 0.5 * theta


@pytest.mark.parametrize("layer_name", LAYERS)
def test_curvature_tools_agree_on_every_network(layer_name):
    obj, theta = objective(layer_name)
    H = hessian_dense(obj, theta)
    scale = np.abs(H).max()
    np.testing.assert_allclose(H, H.T, atol=1e-12 * scale)
    np.testing.assert_allclose(hessian_fd_grads(obj, theta), H, atol=1e-5 * scale)
    np.testing.assert_allclose(
        hessian_diagonal(obj, theta), np.diag(H), rtol=1e-10, atol=1e-13 * scale
    )
    lin = obj.at(theta)
    G = np.column_stack([lin.gnvp(e) for e in np.eye(obj.n_params)])
    np.testing.assert_allclose(outer_product_hessian(obj, theta), G, rtol=1e-9, atol=1e-12 * scale)
    top = extreme_eigenvalues(obj, theta, k=1, which="LA")
    top = top[0] if isinstance(top, tuple) else top
    assert np.asarray(top).ravel()[0] == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-8)


METHOD_OPTIONS = {
    "sgd": {"learning_rate": 0.05, "batch_size": 2, "seed": 0},
    "adam": {"learning_rate": 0.01, "batch_size": 2, "seed": 0},
    "gd": {},
    "subgradient": {},
}
GENERAL = sorted(set(METHODS) - {"block-gauss-newton", "varpro", "kfac"})


@pytest.mark.parametrize("method", GENERAL)
@pytest.mark.parametrize(
    "layer_name", ["graph_inception", "conv_pool_max", "conv1d", "dropout", "rnn_last"]
)
def test_every_method_lowers_the_objective(layer_name, method):
    obj, theta = objective(layer_name, loss="cross_entropy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = minimize(obj, theta, method, max_iter=15, **METHOD_OPTIONS.get(method, {}))
    assert np.isfinite(res.fun) and np.isfinite(res.x).all()
    assert obj.value(res.x) < obj.value(theta)


@pytest.mark.parametrize("layer_name", ["conv_pool_avg", "graph_nested", "rnn_sequence"])
def test_varpro_takes_any_hidden_network_before_a_linear_output(layer_name):
    from numnet import Dense, Sequential

    body = LAYERS[layer_name]("tanh", SHAPE)
    net = Sequential([body, Dense(body.d_out, 2)])
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, net.d_in))
    obj = Objective(net, "squared_error", X, rng.standard_normal((6, 2)), regularizer=1e-4)
    theta = net.init(rng)
    res = minimize(obj, theta, "varpro", max_iter=5)
    assert obj.value(res.x) < obj.value(theta)


def test_structured_methods_say_which_architectures_they_accept():
    obj, theta = objective("graph_inception")
    with pytest.raises(TypeError, match=r"block-gauss-newton needs .*Sequential\(\[Dense"):
        minimize(obj, theta, "block-gauss-newton")
    obj, theta = objective("conv2d")
    with pytest.raises(TypeError, match="varpro needs"):
        minimize(obj, theta, "varpro")
    obj, theta = objective("rnn_last")
    with pytest.raises(
        TypeError, match="KFAC supports Dense, Residual, Conv2d and Conv1d layers; layer 0 is Recu"
    ):
        minimize(obj, theta, "kfac")
