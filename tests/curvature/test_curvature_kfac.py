"""KFAC, EKFAC and the Kronecker operators (numnet.curvature.kfac, kronecker).

Theory checked: KFAC is exact for one Dense layer and one sample; EKFAC's
eigenvalues are the diagonal of the exact block in KFAC's eigenbasis (the
best diagonal there), for the Gauss–Newton (type-2) and empirical kinds;
every operator method (@, trace, logdet, the exact and factored damped
inverses, the eigenbasis form) agrees with dense linear algebra; float32
stays float32. Agreement with curvlinops is in test_curvature_peers.py.
"""

import numpy as np
import pytest
from registry import Shape, make_objective, rel_err
from scipy.sparse.linalg import aslinearoperator, cg

from numnet.curvature import (
    empirical_fisher,
    ekfac,
    kfac,
    mc_fisher,
    outer_product_hessian,
    sample_targets,
)
from numnet.layers import Dense
from numnet.network import Sequential
from numnet.objective import Objective

SHAPE = Shape(6, 3, 4, 3, 2)
NETS = ["mlp3", "conv_pool_avg", "graph_inception", "nested", "conv1d_pool"]


def _case(layer, loss="cross_entropy", dtype=np.float64, shape=SHAPE):
    return make_objective(loss, "none", "tanh", shape, dtype, layer=layer)


@pytest.mark.parametrize("kind", ["type-2", "empirical"])
@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_kfac_of_one_dense_layer_and_one_sample_is_exact(loss, kind):
    _, obj, theta = _case("dense", loss, shape=Shape(1, 4, 1, 3, 8))
    exact = (
        outer_product_hessian(obj, theta)
        if kind == "type-2"
        else empirical_fisher(obj, theta, dense=True)
    )
    for bias in ("joint", "separate"):
        K = kfac(obj, theta, kind=kind, bias=bias).to_dense()
        W = slice(0, 12)  # "separate" drops the W–b cross terms
        assert (
            rel_err(K if bias == "joint" else K[W, W], exact if bias == "joint" else exact[W, W])
            < 1e-13
        )


@pytest.mark.parametrize("kind", ["type-2", "empirical", "mc"])
@pytest.mark.parametrize("layer", NETS)
def test_ekfac_eigenvalues_are_the_exact_diagonal_in_the_kfac_eigenbasis(layer, kind):
    _, obj, theta = _case(layer)
    lin = obj.at(theta)
    targets = sample_targets(obj.loss, lin.F, 2, seed=1) if kind == "mc" else None
    exact = {
        "type-2": lambda: outer_product_hessian(lin),
        "empirical": lambda: empirical_fisher(lin, dense=True),
        "mc": lambda: mc_fisher(lin, targets=targets, dense=True),
    }[kind]()
    E = ekfac(lin, kind=kind, targets=targets)
    for b in E.blocks:
        Q = np.kron(b.QA, b.QG)  # numnet's row-major layout: vec(V) for V (a, g)
        block = exact[b.params, b.params]
        assert rel_err(b.S.ravel(), np.diag(Q.T @ block @ Q)) < 1e-12
    assert (
        abs(E.trace() - sum(np.trace(exact[b.params, b.params]) for b in E.blocks))
        < 1e-12 * E.trace()
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layer", NETS)
def test_operator_methods_agree_with_dense_algebra(layer, dtype):
    rng, obj, theta = _case(layer, "squared_error", dtype)
    tol = 1e-12 if dtype == np.float64 else 2e-5
    for K in (kfac(obj, theta), ekfac(obj, theta), kfac(obj, theta, bias="separate")):
        D = K.to_dense()
        assert D.dtype == dtype and rel_err(D, D.T) < tol
        V = rng.standard_normal((obj.n_params, 3)).astype(dtype)
        assert rel_err(K @ V, D @ V) < tol and rel_err(K @ V[:, 0], D @ V[:, 0]) < tol
        assert abs(K.trace() - np.trace(D.astype(np.float64))) < tol * abs(K.trace())
        delta = 0.05
        shifted = D.astype(np.float64) + delta * np.eye(obj.n_params)
        assert abs(K.logdet(delta) - np.linalg.slogdet(shifted)[1]) < 1e3 * tol
        assert rel_err(K.inverse(delta).to_dense(), np.linalg.inv(shifted)) < 1e3 * tol
        if hasattr(K, "eigen"):
            assert rel_err(K.eigen().to_dense(), D) < 10 * tol


def test_factored_damping_inverts_the_kronecker_product_of_damped_factors():
    _, obj, theta = _case("mlp3", "squared_error")
    K, delta = kfac(obj, theta), 0.2
    inv = K.inverse(delta, heuristic=True)
    for b, ib in zip(K.blocks, inv.blocks):
        pi = np.sqrt(np.trace(b.A) / len(b.A) / (np.trace(b.G) / len(b.G)))
        damped = np.kron(
            b.A + pi * np.sqrt(delta) * np.eye(len(b.A)),
            b.G + np.sqrt(delta) / pi * np.eye(len(b.G)),
        )
        assert rel_err(np.kron(ib.A, ib.G), np.linalg.inv(damped)) < 1e-12


def test_the_operator_works_with_scipy():
    rng, obj, theta = _case("conv_pool_avg", "squared_error")
    K = kfac(obj, theta)
    b = rng.standard_normal(obj.n_params)
    x, info = cg(
        K.as_operator() + aslinearoperator(0.1 * np.eye(obj.n_params)), b, rtol=1e-12, maxiter=2000
    )
    assert info == 0 and rel_err(x, K.inverse(0.1) @ b) < 1e-8


def test_kfac_keeps_float32_close_to_float64():
    _, obj64, theta = _case("conv_pool_avg")
    obj32 = Objective(obj64.net, obj64.loss, obj64.X.astype(np.float32), obj64.Y)
    K64, K32 = kfac(obj64, theta), kfac(obj32, theta.astype(np.float32))
    assert all(b.A.dtype == np.float32 and b.G.dtype == np.float32 for b in K32.blocks)
    assert rel_err(K32.to_dense(), K64.to_dense()) < 1e-5


def test_bad_input_names_the_argument():
    _, obj, theta = _case("mlp3")
    K = kfac(obj, theta)
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="damping"):
            K.inverse(bad)
        with pytest.raises(ValueError, match="damping"):
            ekfac(obj, theta).inverse(bad)
    with pytest.raises(ValueError, match="damping"):
        K.logdet(-1)
    with pytest.raises(ValueError, match="bias"):
        kfac(obj, theta, bias="shared")
    with pytest.raises(ValueError, match="kind"):
        kfac(obj, theta, kind="type-1")
    with pytest.raises(ValueError, match="mc_samples"):
        kfac(obj, theta, kind="mc", mc_samples=0)
    with pytest.raises(ValueError, match=r"v must have shape"):
        K @ np.zeros(obj.n_params + 1)
    _, obj, theta = _case("rnn_last")
    with pytest.raises(TypeError, match="layer 0 is Recurrent"):
        kfac(obj, theta)
    _, obj, theta = _case("graph_shared")
    with pytest.raises(ValueError, match="layer r2 shares the parameters of layer r1"):
        ekfac(obj, theta)
    net = Sequential([Dense(3, 2, "tanh")])
    with pytest.raises(TypeError, match="loss"):
        kfac(Objective(net, "hinge", np.ones((4, 3)), -np.ones((4, 2))), net.init(0), kind="mc")
