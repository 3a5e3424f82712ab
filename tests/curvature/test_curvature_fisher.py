"""Fisher matrices and the GGN diagonal (numnet.curvature.fisher, factors, ggn).

Theory checked: the exact Fisher equals the Gauss–Newton matrix for every
loss with a canonical link; the empirical Fisher is the mean outer product
of the per-sample gradients; the Monte-Carlo Fisher is unbiased, its error
falling like 1/√M with a tolerance derived from the spread of single draws;
operators and dense matrices agree; float32 stays float32.
"""

import numpy as np
import pytest
from registry import Shape, make_objective, rel_err

from numnet.curvature import (
    empirical_fisher,
    fisher,
    ggn_diagonal,
    mc_fisher,
    outer_product_hessian,
    per_sample_gradients,
    sample_targets,
)
from numnet.curvature._common import matrix_of, regularizer_matrix
from numnet.losses import SoftmaxCrossEntropy

PREDICTIVE = [
    "squared_error",
    "cross_entropy",
    "cross_entropy_probs",
    "binary_cross_entropy",
    "binomial",
]
NETS = ["mlp3", "graph_shared", "conv_pool_avg", "rnn_last"]
SHAPE = Shape(6, 3, 4, 3, 5)
TOL = {np.float64: 1e-12, np.float32: 2e-5}


def _case(loss, layer, dtype=np.float64, reg="none", shape=SHAPE):
    return make_objective(loss, reg, "tanh", shape, dtype, layer=layer)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layer", NETS)
@pytest.mark.parametrize("loss", PREDICTIVE)
def test_exact_fisher_equals_gauss_newton(loss, layer, dtype):
    _, obj, theta = _case(loss, layer, dtype)
    F = fisher(obj, theta, dense=True)
    assert F.dtype == dtype
    assert rel_err(F, outer_product_hessian(obj, theta)) < TOL[dtype]


@pytest.mark.parametrize("layer", NETS)
def test_operators_equal_dense_matrices(layer):
    _, obj, theta = _case("cross_entropy", layer)
    lin, p = obj.at(theta), obj.n_params
    targets = sample_targets(obj.loss, lin.F, 3, seed=4)
    for make, kw in [(empirical_fisher, {}), (fisher, {}), (mc_fisher, {"targets": targets})]:
        dense = make(lin, dense=True, chunk_size=4, **kw)
        assert rel_err(matrix_of(make(lin, **kw).matvec, p, obj.dtype), dense) < 1e-12
        assert np.allclose(dense, dense.T, rtol=0, atol=1e-14 * np.abs(dense).max())


@pytest.mark.parametrize("layer", NETS)
def test_empirical_fisher_is_the_mean_outer_product_of_per_sample_gradients(layer):
    _, obj, theta = _case("binary_cross_entropy", layer)
    G = per_sample_gradients(obj, theta)
    assert rel_err(empirical_fisher(obj, theta, dense=True), G.T @ G / obj.n_samples) < 1e-12


def test_mc_fisher_with_its_own_draws_as_targets_is_the_same_matrix():
    _, obj, theta = _case("cross_entropy", "mlp3")
    lin = obj.at(theta)
    drawn = sample_targets(obj.loss, lin.F, 5, seed=9)
    labels = [Y.argmax(axis=1) for Y in drawn]  # the same draws as labels
    a = mc_fisher(lin, mc_samples=5, seed=9, dense=True)
    assert rel_err(mc_fisher(lin, targets=labels, dense=True), a) < 1e-14
    assert (
        rel_err(mc_fisher(lin, mc_samples=5, seed=9, dense=True), a) == 0
    )  # seeded: deterministic


@pytest.mark.parametrize("loss", PREDICTIVE)
def test_mc_fisher_is_unbiased_with_error_falling_like_one_over_sqrt_m(loss):
    """‖F̂_M − F‖_F within 4 σ/√M, σ² = E‖F̂_1 − F‖²_F estimated from 40 single draws."""
    _, obj, theta = _case(loss, "mlp3")
    lin = obj.at(theta)
    exact = fisher(lin, dense=True)
    single = [mc_fisher(lin, mc_samples=1, seed=s, dense=True) for s in range(40)]
    sigma = np.sqrt(np.mean([np.linalg.norm(F - exact) ** 2 for F in single]))
    assert np.linalg.norm(np.mean(single, axis=0) - exact) < 4 * sigma / np.sqrt(40)
    for M in (16, 256):
        err = np.linalg.norm(mc_fisher(lin, mc_samples=M, seed=100 + M, dense=True) - exact)
        assert err < 4 * sigma / np.sqrt(M)


def test_categorical_draws_follow_the_softmax():
    rng = np.random.default_rng(0)
    F = rng.standard_normal((4, 5))
    P = SoftmaxCrossEntropy().link(F)
    Y = sample_targets(SoftmaxCrossEntropy(), F, 20000, seed=1)
    assert set(np.unique(Y)) == {0.0, 1.0} and np.all(Y.sum(axis=2) == 1)
    assert np.all(np.abs(Y.mean(axis=0) - P) < 4 * np.sqrt(P * (1 - P) / 20000))


@pytest.mark.parametrize("reg", ["none", "generalized_tikhonov"])
@pytest.mark.parametrize("layer", ["mlp3", "conv_pool_avg", "graph_nested"])
def test_ggn_diagonal_of_every_kind(layer, reg):
    _, obj, theta = _case("cross_entropy", layer, reg=reg)
    lin = obj.at(theta)
    R = regularizer_matrix(obj.regularizer, theta)  # ggn_diagonal adds λ diag ∇²R, as lin.G does
    assert rel_err(ggn_diagonal(lin, chunk_size=2), np.diag(outer_product_hessian(lin))) < 1e-12
    targets = sample_targets(obj.loss, lin.F, 2, seed=3)
    assert (
        rel_err(
            ggn_diagonal(lin, kind="mc", targets=targets),
            np.diag(mc_fisher(lin, targets=targets, dense=True) + R),
        )
        < 1e-12
    )
    assert (
        rel_err(ggn_diagonal(lin, kind="empirical"), np.diag(empirical_fisher(lin, dense=True) + R))
        < 1e-12
    )


def test_bad_input_names_the_argument():
    _, obj, theta = _case("cross_entropy", "mlp3")
    lin = obj.at(theta)
    with pytest.raises(ValueError, match="mc_samples"):
        mc_fisher(lin, mc_samples=0)
    with pytest.raises(TypeError, match="mc_samples"):
        mc_fisher(lin, mc_samples=1.5)
    with pytest.raises(ValueError, match="mc_samples"):
        ggn_diagonal(lin, kind="mc", mc_samples=-2)
    with pytest.raises(ValueError, match=r"targets\[1\] must have 6 rows"):
        mc_fisher(lin, targets=[np.zeros(6, int), np.zeros(5, int)])
    with pytest.raises(ValueError, match="targets"):
        mc_fisher(lin, targets=[])
    with pytest.raises(ValueError, match="kind"):
        ggn_diagonal(lin, kind="fisher")
    with pytest.raises(TypeError, match="dense"):
        fisher(lin, dense="yes")
    with pytest.raises(ValueError, match="chunk_size"):
        empirical_fisher(lin, dense=True, chunk_size=0)
    _, obj, theta = _case("absolute_error", "mlp3")
    with pytest.raises(TypeError, match="loss"):
        mc_fisher(obj, theta)
    with pytest.raises(TypeError, match="loss"):
        fisher(obj, theta)
