"""Per-sample gradients and their moments (numnet.curvature.per_sample) on every registered network.

Row n must be the gradient of sample n's loss term alone — the gradient of
the one-sample objective — for chains, graphs, convolutions, pooling and
recurrent layers, in float64 and float32, whatever the chunk size.
"""

import numpy as np
import pytest
from registry import LAYERS, Shape, make_objective, rel_err

from numnet.objective import Objective
from numnet.curvature import (
    gradient_moments,
    iter_per_sample_gradients,
    per_sample_gradients,
    per_sample_vjp,
)

SHAPE = Shape(5, 3, 4, 2, 11)
TOL = {np.float64: 1e-13, np.float32: 1e-5}
# Dropout draws its mask per batch shape, so a one-sample objective has another mask: checked apart below.
NETS = [name for name in LAYERS if name != "dropout"]


def _one_sample_gradients(obj, theta):
    return np.stack([obj.batch(slice(i, i + 1)).grad(theta) for i in range(obj.n_samples)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layer", NETS)
def test_rows_are_the_one_sample_gradients(layer, dtype):
    _, obj, theta = make_objective("squared_error", "none", "tanh", SHAPE, dtype, layer=layer)
    G = per_sample_gradients(obj, theta)
    assert G.dtype == dtype and G.shape == (obj.n_samples, obj.n_params)
    assert rel_err(G, _one_sample_gradients(obj, theta)) < TOL[dtype]


@pytest.mark.parametrize("layer", ["mlp3", "conv_pool_max", "graph_inception", "rnn_sequence"])
def test_chunks_give_the_same_rows(layer):
    _, obj, theta = make_objective("cross_entropy", "l1", "tanh", SHAPE, layer=layer)
    G = per_sample_gradients(obj, theta)
    for chunk in (1, 2, 4):
        assert rel_err(per_sample_gradients(obj, theta, chunk_size=chunk), G) < 1e-14
        parts = list(iter_per_sample_gradients(obj, theta, chunk_size=chunk))
        assert [r.start for r, _ in parts] == list(range(0, obj.n_samples, chunk))


def test_dropout_rows_use_the_full_batch_mask():
    _, obj, theta = make_objective("cross_entropy", "none", "tanh", SHAPE, layer="dropout")
    lin = obj.at(theta)
    G = per_sample_gradients(lin)
    for i in range(obj.n_samples):  # sample i's term alone, through the same mask
        U = np.zeros_like(lin.gF)
        U[i] = lin.gF[i] * obj.n_samples
        assert rel_err(G[i], obj.net.vjp(theta, lin.cache, U, need_gX=False)[0]) < 1e-14


@pytest.mark.parametrize("layer", ["nested", "conv2d_stride_pad", "graph_shared"])
def test_per_sample_vjp_sums_to_the_vjp(layer):
    rng, obj, theta = make_objective("squared_error", "none", "sigmoid", SHAPE, layer=layer)
    lin = obj.at(theta)
    U = rng.standard_normal(lin.F.shape)
    R = per_sample_vjp(lin, cotangents=U)
    assert rel_err(R.sum(axis=0), obj.net.vjp(theta, lin.cache, U, need_gX=False)[0]) < 1e-13
    for i in (0, obj.n_samples - 1):
        Ui = np.zeros_like(U)
        Ui[i] = U[i]
        assert rel_err(R[i], obj.net.vjp(theta, lin.cache, Ui, need_gX=False)[0]) < 1e-13


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layer", ["mlp3", "conv1d_pool"])
def test_moments(layer, dtype):
    _, obj, theta = make_objective(
        "binary_cross_entropy", "tikhonov", "tanh", SHAPE, dtype, layer=layer
    )
    G = per_sample_gradients(obj, theta).astype(np.float64)
    m = gradient_moments(obj, theta, chunk_size=2)
    assert all(a.dtype == dtype for a in m)
    unreg = Objective(
        obj.net, obj.loss, obj.X, obj.Y
    )  # the moments are of the loss terms, not the regularizer
    assert rel_err(m.mean, unreg.grad(theta)) < TOL[dtype]
    assert rel_err(m.second_moment, (G * G).mean(axis=0)) < TOL[dtype]
    assert rel_err(m.variance, G.var(axis=0)) < 10 * TOL[dtype]
    assert rel_err(m.norms, np.linalg.norm(G, axis=1)) < TOL[dtype]
    assert np.all(m.variance >= 0)


def test_bad_input_names_the_argument():
    _, obj, theta = make_objective("squared_error", "none", "tanh", SHAPE, layer="mlp3")
    with pytest.raises(ValueError, match="chunk_size"):
        per_sample_gradients(obj, theta, chunk_size=0)
    with pytest.raises(TypeError, match="chunk_size"):
        gradient_moments(obj, theta, chunk_size=2.0)
    with pytest.raises(ValueError, match=r"cotangents must have shape \(5, 2\)"):
        per_sample_vjp(obj, theta, cotangents=np.zeros((4, 2)))
    with pytest.raises(ValueError, match="theta"):
        per_sample_gradients(obj, theta[:-1])
