"""Tests for numnet.curvature: every Hessian tool against the dense exact Hessian and PyTorch."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from numnet.curvature import (
    becker_lecun_diagonal,
    condition_estimate,
    default_fd_step,
    extreme_eigenvalues,
    hessian_dense,
    hessian_diagonal,
    hessian_fd_grads,
    hessian_fd_values,
    hutchinson_trace,
    inverse_outer_product,
    loss_hessian_blocks,
    outer_product_factor,
    outer_product_hessian,
    outer_product_hessian_logistic,
    per_sample_output_gradients,
    sr1_update,
)
from numnet.layers import Dense, Residual
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.regularizers import GeneralizedTikhonov, Tikhonov

N, D_IN, D_HID, D_OUT = 7, 3, 4, 3  # 2-layer net: 12 + 4 + 12 + 3 = 31 parameters


def two_layer(d_out=D_OUT, activation="tanh"):
    return Sequential([Dense(D_IN, D_HID, activation), Dense(D_HID, d_out)])


def make_objective(loss="cross_entropy", net=None, regularizer=None, dtype=np.float64, seed=0, n=N):
    rng = np.random.default_rng(seed)
    net = two_layer() if net is None else net
    X = rng.standard_normal((n, net.d_in)).astype(dtype)
    Y = {
        "cross_entropy": lambda: rng.integers(0, net.d_out, n),
        "squared_error": lambda: rng.standard_normal((n, net.d_out)),
        "binary_cross_entropy": lambda: rng.integers(0, 2, (n, net.d_out)),
    }[loss]()
    obj = Objective(net, loss, X, Y, regularizer=regularizer)
    return obj, net.init(np.random.default_rng(seed + 1), dtype=dtype, scheme="normal")


def dense_gauss_newton(obj, theta):
    lin, p = obj.at(theta), obj.n_params
    return np.column_stack([lin.gnvp(e) for e in np.eye(p, dtype=obj.dtype)])


# ------------------------------------------------------------ torch oracle


def torch_objective(net, X, Y, loss):
    """The same 2-layer network and mean loss in PyTorch, on numnet's theta layout."""
    X, Y = torch.from_numpy(X), torch.from_numpy(Y)
    shapes = [(layer.d_in, layer.d_out) for layer in net.layers]

    def f(theta):
        Z, start = X, 0
        for i, (a, b) in enumerate(shapes):
            W = theta[start : start + a * b].reshape(a, b)
            bias = theta[start + a * b : start + a * b + b]
            start += a * b + b
            Z = Z @ W + bias
            Z = torch.tanh(Z) if i < len(shapes) - 1 else Z
        if loss == "squared_error":
            return 0.5 * ((Z - Y) ** 2).sum() / Z.shape[0]
        return -(Y * torch.log_softmax(Z, dim=1)).sum() / Z.shape[0]

    return f


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_dense_hessian_matches_torch(loss):
    obj, theta = make_objective(loss)
    f = torch_objective(obj.net, obj.X, obj.Y, loss)
    H_torch = torch.autograd.functional.hessian(f, torch.from_numpy(theta)).numpy()
    H = hessian_dense(obj, theta)
    assert np.linalg.norm(H - H_torch) <= 1e-10 * np.linalg.norm(H_torch)


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error", "binary_cross_entropy"])
def test_dense_hessian_is_symmetric(loss):
    obj, theta = make_objective(loss, regularizer=GeneralizedTikhonov(0.1, np.eye(31)[:5]))
    H = hessian_dense(obj, theta)
    assert H.shape == (31, 31)
    assert np.abs(H - H.T).max() <= 1e-13 * np.abs(H).max()


def test_dense_hessian_from_a_linearization_equals_from_objective():
    obj, theta = make_objective()
    assert np.array_equal(hessian_dense(obj.at(theta)), hessian_dense(obj, theta))
    with pytest.raises(ValueError, match="theta"):
        hessian_dense(obj.at(theta), theta)
    with pytest.raises(TypeError, match="obj"):
        hessian_dense("objective", theta)


@pytest.mark.parametrize(
    "tool",
    [
        hessian_dense,
        hessian_diagonal,
        becker_lecun_diagonal,
        outer_product_hessian,
        hessian_fd_grads,
    ],
)
def test_float32_keeps_dtype_and_agrees_with_float64(tool):
    obj32, theta32 = make_objective(dtype=np.float32, regularizer=0.01)
    obj64, theta64 = make_objective(dtype=np.float64, regularizer=0.01)
    M32, M64 = tool(obj32, theta32), tool(obj64, theta64)
    assert M32.dtype == np.float32
    assert np.abs(M32 - M64).max() <= 1e-3 * np.abs(M64).max()


# ------------------------------------------------------- finite differences

FD = [(hessian_fd_values, 4, 1e-2), (hessian_fd_grads, 3, 1e-3)]


@pytest.mark.parametrize("fd, order, _", FD)
def test_fd_hessian_close_with_default_step(fd, order, _):
    obj, theta = make_objective()
    H = hessian_dense(obj, theta)
    err = np.abs(fd(obj, theta) - H).max()
    eps = default_fd_step(theta, order)
    assert err <= 10 * eps**2 * max(1.0, np.abs(H).max()), err


@pytest.mark.parametrize("fd, _, eps", FD)
def test_fd_hessian_is_second_order(fd, _, eps):
    """Halving ε divides the (truncation-dominated) error by ≈ 4."""
    obj, theta = make_objective()
    H = hessian_dense(obj, theta)
    e1 = np.linalg.norm(fd(obj, theta, eps=eps) - H)
    e2 = np.linalg.norm(fd(obj, theta, eps=eps / 2) - H)
    assert 3.5 < e1 / e2 < 4.5, (e1, e2)


@pytest.mark.parametrize("fd", [hessian_fd_values, hessian_fd_grads])
def test_fd_hessian_symmetric_and_rejects_bad_eps(fd):
    obj, theta = make_objective("squared_error")
    H = fd(obj, theta)
    assert np.array_equal(H, H.T)
    for bad in (0.0, -1e-3, np.nan):
        with pytest.raises(ValueError, match="eps"):
            fd(obj, theta, eps=bad)


def test_default_fd_step_per_dtype():
    for dtype in (np.float32, np.float64):
        e = np.finfo(dtype).eps
        assert default_fd_step(np.zeros(3, dtype), 4) == pytest.approx(e**0.25)
        assert default_fd_step(np.full(3, 5, dtype), 3) == pytest.approx(5 * e ** (1 / 3))


# ------------------------------------------------------------------ diagonal


@pytest.mark.parametrize("method", ["backprop", "hvp", "auto"])
@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error", "binary_cross_entropy"])
def test_exact_diagonal_equals_dense_diagonal(method, loss):
    obj, theta = make_objective(loss, regularizer=Tikhonov(0.05, mask=~two_layer().bias_mask()))
    d = hessian_diagonal(obj, theta, method=method)
    assert np.allclose(d, np.diag(hessian_dense(obj, theta)), rtol=1e-12, atol=1e-14)


def test_exact_diagonal_of_residual_network_falls_back_to_hvp():
    net = Sequential([Dense(D_IN, D_HID, "tanh"), Residual(D_HID, "sigmoid", 0.5), Dense(D_HID, 2)])
    obj, theta = make_objective("squared_error", net=net)
    assert np.allclose(hessian_diagonal(obj, theta), np.diag(hessian_dense(obj, theta)), atol=1e-14)
    with pytest.raises(TypeError, match="layer 1 is Residual"):
        hessian_diagonal(obj, theta, method="backprop")
    with pytest.raises(ValueError, match="method"):
        hessian_diagonal(obj, theta, method="exact")


@pytest.mark.parametrize(
    "loss, activation",
    [("squared_error", "identity"), ("squared_error", "tanh"), ("cross_entropy", "sigmoid")],
)
def test_becker_lecun_exact_for_a_single_layer(loss, activation):
    """One Dense layer: no deeper layer, so no off-diagonal term is neglected."""
    obj, theta = make_objective(loss, net=Dense(D_IN, D_OUT, activation), regularizer=0.1)
    assert np.allclose(
        becker_lecun_diagonal(obj, theta),
        np.diag(hessian_dense(obj, theta)),
        rtol=1e-12,
        atol=1e-15,
    )


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(1, 7), d_in=st.integers(1, 6), d_out=st.integers(1, 6), seed=st.integers(0, 99)
)
def test_becker_lecun_exact_for_linear_least_squares(n, d_in, d_out, seed):
    rng = np.random.default_rng(seed)
    net = Dense(d_in, d_out)
    obj = Objective(
        net, "squared_error", rng.standard_normal((n, d_in)), rng.standard_normal((n, d_out))
    )
    theta = net.init(rng)
    expected = np.concatenate([np.repeat((obj.X**2).sum(0) / n, d_out), np.ones(d_out)])
    assert np.allclose(becker_lecun_diagonal(obj, theta), expected, rtol=1e-12)


def test_becker_lecun_deep_network_error_is_finite_and_only_in_hidden_layers():
    obj, theta = make_objective("cross_entropy")
    exact, bl = np.diag(hessian_dense(obj, theta)), becker_lecun_diagonal(obj, theta)
    err = np.abs(bl - exact)
    hidden, last = obj.net.slices
    rel = np.linalg.norm(err[hidden]) / np.linalg.norm(exact[hidden])
    print(f"Becker-LeCun relative error on the hidden layer: {rel:.3e}")
    assert np.isfinite(bl).all()
    assert np.allclose(bl[last], exact[last], rtol=1e-12, atol=1e-15)
    assert 0 < rel < 1


def test_becker_lecun_rejects_layers_without_diag_backward_by_name():
    class Scaled(Dense):
        diag_backward = property(
            lambda self: (_ for _ in ()).throw(AttributeError("diag_backward"))
        )

    net = Sequential([Dense(D_IN, D_HID, "tanh"), Scaled(D_HID, D_HID), Dense(D_HID, 2)])
    obj, theta = make_objective("squared_error", net=net)
    with pytest.raises(TypeError, match="layer 1 is Dense"):
        becker_lecun_diagonal(obj, theta)


@pytest.mark.parametrize("activation", ["tanh", "sin", "identity"])
def test_becker_lecun_exact_for_a_single_residual_block(activation):
    """Least squares on one residual block: the output curvature is diagonal (I/n), so nothing
    is dropped and the step through Z = X + h σ(XW + b) must give the exact diagonal."""
    net = Residual(D_IN, activation, step=0.7)
    obj, theta = make_objective("squared_error", net=net)
    assert np.allclose(
        becker_lecun_diagonal(obj, theta),
        np.diag(hessian_dense(obj, theta)),
        rtol=1e-12,
        atol=1e-15,
    )


def test_residual_diag_backward_input_curvature_is_exact_for_diagonal_output_curvature():
    """hX of a residual block equals diag(Jᵀ diag(hZ) J) + the σ″ term, per sample, by brute force."""
    rng = np.random.default_rng(3)
    layer = Residual(3, "tanh", step=0.6)
    theta, X = layer.init(rng, scheme="normal"), rng.standard_normal((1, 3))
    gZ, hZ = rng.standard_normal((1, 3)), rng.random((1, 3))
    _, cache = layer.forward(theta, X)
    hX = layer.diag_backward(theta, cache, gZ, hZ)[1]
    J = np.column_stack([layer.jvp(theta, cache, None, e[None])[0] for e in np.eye(3)])
    f = lambda x: gZ[0] @ layer.forward(theta, x[None])[0][0]  # gZ-weighted second derivative
    eps, second = 1e-4, np.empty(3)
    for i in range(3):
        e = np.eye(3)[i] * eps
        second[i] = (f(X[0] + e) - 2 * f(X[0]) + f(X[0] - e)) / eps**2
    expected = np.einsum("ki,k,ki->i", J, hZ[0], J) + second
    np.testing.assert_allclose(hX[0], expected, rtol=1e-6)


# ------------------------------------------------------------- outer product


def test_per_sample_output_gradients_match_jvp_and_sum_to_gradient():
    net = Sequential(
        [Dense(D_IN, D_HID, "tanh"), Residual(D_HID, "softplus", 0.7), Dense(D_HID, D_OUT)]
    )
    obj, theta = make_objective("squared_error", net=net)
    J = per_sample_output_gradients(net, theta, obj.X)
    assert J.shape == (N, D_OUT, net.n_params)
    lin = obj.at(theta)
    v = np.random.default_rng(5).standard_normal(net.n_params)
    assert np.allclose(J @ v, net.jvp(theta, lin.cache, v, None), atol=1e-13)
    assert np.allclose(np.einsum("nk,nkp->p", lin.gF, J), lin.grad, atol=1e-14)


def test_sequential_rejects_objects_that_are_not_layers():
    class Scale:
        d_in = d_out = 2
        n_params = 0

        def forward(self, theta, X):
            return 2 * X, None

    with pytest.raises(TypeError, match=r"layers\[0\] must be a layer"):
        per_sample_output_gradients(
            Sequential([Scale(), Dense(2, 1)]), np.zeros(3), np.ones((2, 2))
        )


def test_loss_hessian_blocks_of_least_squares_are_identity_over_n():
    obj, theta = make_objective("squared_error")
    B = loss_hessian_blocks(obj.loss, obj.predict(theta), obj.Y)
    assert np.array_equal(B, np.broadcast_to(np.eye(D_OUT) / N, (N, D_OUT, D_OUT)))


@pytest.mark.parametrize(
    "loss, d_out",
    [
        ("squared_error", D_OUT),
        ("binary_cross_entropy", 1),
        ("binary_cross_entropy", 2),
        ("cross_entropy", D_OUT),
    ],
)
def test_outer_product_hessian_equals_dense_gauss_newton(loss, d_out):
    obj, theta = make_objective(loss, net=two_layer(d_out), regularizer=0.01)
    G = dense_gauss_newton(obj, theta)
    assert np.allclose(outer_product_hessian(obj, theta), G, rtol=1e-12, atol=1e-14)
    R = outer_product_factor(obj, theta)
    assert R.shape == (N * d_out, obj.n_params)
    assert np.allclose(R.T @ R + 0.01 * np.eye(obj.n_params), G, atol=1e-14)


def test_outer_product_hessian_least_squares_is_mean_of_jacobian_products():
    obj, theta = make_objective("squared_error")
    J = per_sample_output_gradients(obj.net, theta, obj.X)
    expected = np.einsum("nkp,nkq->pq", J, J) / N
    assert np.allclose(outer_product_hessian(obj, theta), expected, atol=1e-14)


def test_outer_product_logistic_form_equals_gauss_newton():
    obj, theta = make_objective("binary_cross_entropy", net=two_layer(1), regularizer=0.02)
    G = dense_gauss_newton(obj, theta)
    assert np.allclose(outer_product_hessian_logistic(obj, theta), G, rtol=1e-12, atol=1e-14)
    H = hessian_dense(obj, theta)
    assert np.linalg.norm(H - G) > 1e-6  # the dropped (y − t)∇²a term is not zero here


def test_outer_product_logistic_form_checks_loss_and_outputs():
    obj, theta = make_objective("squared_error", net=two_layer(1))
    with pytest.raises(TypeError, match="BinaryCrossEntropy"):
        outer_product_hessian_logistic(obj, theta)
    obj, theta = make_objective("binary_cross_entropy", net=two_layer(2))
    with pytest.raises(ValueError, match="1 output"):
        outer_product_hessian_logistic(obj, theta)


# ----------------------------------------------------------- rank-one updates


def test_sherman_morrison_inverse_equals_numpy_inverse():
    g = np.random.default_rng(2).standard_normal((40, 12))
    alpha = 0.3
    expected = np.linalg.inv(alpha * np.eye(12) + g.T @ g)
    Hinv = inverse_outer_product(g, alpha)
    assert np.linalg.norm(Hinv - expected) <= 1e-10 * np.linalg.norm(expected)


def test_inverse_outer_product_of_gauss_newton_factor():
    lam = 0.05
    obj, theta = make_objective("squared_error", regularizer=lam)
    Hinv = inverse_outer_product(outer_product_factor(obj, theta), lam)
    assert np.allclose(Hinv @ dense_gauss_newton(obj, theta), np.eye(obj.n_params), atol=1e-9)


def test_inverse_outer_product_rejects_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        inverse_outer_product(np.ones((2, 3)), 0.0)
    with pytest.raises(ValueError, match="grads"):
        inverse_outer_product(np.ones(3), 1.0)


def test_sr1_update_satisfies_secant_equation_and_stays_symmetric():
    rng = np.random.default_rng(3)
    A = rng.standard_normal((6, 6))
    A = A @ A.T + np.eye(6)
    Hinv = np.eye(6)
    for _ in range(4):
        s = rng.standard_normal(6)
        y = A @ s
        new = sr1_update(Hinv, s, y)
        assert new is not Hinv
        assert np.allclose(new @ y, s, atol=1e-12)
        assert np.allclose(new, new.T, atol=1e-14)
        Hinv = new


def test_sr1_skips_by_the_rule_and_never_mutates():
    Hinv = np.eye(2)
    keep = Hinv.copy()
    y = np.array([1.0, 0.0])
    s_orth = np.array([1.0, 1.0])  # u = s − Hy = (0, 1) ⟂ y: yᵀu = 0
    assert sr1_update(Hinv, s_orth, y) is Hinv
    assert sr1_update(Hinv, y, y) is Hinv  # u = 0: already secant
    s = np.array([1 + 1e-3, 1.0])  # yᵀu = 1e-3, ‖y‖‖u‖ ≈ 1
    assert sr1_update(Hinv, s, y, r=1e-2) is Hinv
    assert np.allclose(sr1_update(Hinv, s, y, r=1e-4) @ y, s)
    assert np.array_equal(Hinv, keep)


def test_sr1_rejects_bad_shapes():
    with pytest.raises(ValueError, match="Hinv"):
        sr1_update(np.eye(3), np.ones(2), np.ones(2))


# ------------------------------------------------------------------ spectrum


@pytest.mark.parametrize("which", ["LA", "SA", "BE"])
@pytest.mark.parametrize("operator", ["hessian", "gauss_newton"])
def test_extreme_eigenvalues_match_dense_eigvalsh(which, operator):
    # least squares, 30 samples: a full-rank Gauss-Newton matrix (softmax cross-entropy has a
    # 5-dimensional null space, a degenerate cluster at 0 that ARPACK does not resolve)
    obj, theta = make_objective("squared_error", n=30)
    M = hessian_dense(obj, theta) if operator == "hessian" else dense_gauss_newton(obj, theta)
    all_w = np.linalg.eigvalsh(M)
    expected = {"LA": all_w[-4:], "SA": all_w[:4], "BE": np.r_[all_w[:2], all_w[-2:]]}[which]
    w = extreme_eigenvalues(obj, theta, k=4, which=which, operator=operator)
    assert np.allclose(w, expected, atol=1e-10)


def test_extreme_eigenvalues_deterministic_with_vectors():
    obj, theta = make_objective("squared_error")
    w1, V = extreme_eigenvalues(obj, theta, k=3, return_eigenvectors=True)
    w2 = extreme_eigenvalues(obj, theta, k=3)
    assert np.array_equal(w1, w2)
    H = hessian_dense(obj, theta)
    assert np.allclose(H @ V, V * w1, atol=1e-10)


def test_extreme_eigenvalues_validates_arguments():
    obj, theta = make_objective()
    for kwargs, name in [
        ({"k": 0}, "k"),
        ({"k": 31}, "k"),
        ({"which": "XX"}, "which"),
        ({"operator": "fisher"}, "operator"),
    ]:
        with pytest.raises(ValueError, match=name):
            extreme_eigenvalues(obj, theta, **kwargs)


@pytest.mark.parametrize("operator", ["hessian", "gauss_newton"])
def test_hutchinson_trace_within_four_standard_errors(operator):
    obj, theta = make_objective("cross_entropy")
    M = hessian_dense(obj, theta) if operator == "hessian" else dense_gauss_newton(obj, theta)
    est = hutchinson_trace(obj, theta, n_probes=200, seed=1, operator=operator)
    assert est.n_probes == 200 and est.stderr > 0
    assert abs(est.estimate - np.trace(M)) <= 4 * est.stderr
    assert hutchinson_trace(obj, theta, n_probes=200, seed=1, operator=operator) == est


def test_hutchinson_trace_exact_for_a_diagonal_hessian():
    obj = Objective(Dense(3, 1, bias=False), "squared_error", np.eye(3), np.zeros(3))  # H = I/3
    est = hutchinson_trace(obj, np.zeros(3), n_probes=5)
    assert est.estimate == pytest.approx(1.0) and est.stderr == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="n_probes"):
        hutchinson_trace(obj, np.zeros(3), n_probes=1)


def test_condition_estimate_equals_numpy_cond_of_regularized_gauss_newton():
    lam = 1e-2
    obj, theta = make_objective("cross_entropy", regularizer=lam)
    G = dense_gauss_newton(obj, theta)
    assert condition_estimate(obj, theta) == pytest.approx(np.linalg.cond(G), rel=1e-8)
    bare, _ = make_objective("cross_entropy")
    assert condition_estimate(bare, theta, shift=lam) == pytest.approx(np.linalg.cond(G), rel=1e-8)


def test_condition_estimate_rejects_indefinite_operator():
    obj, theta = make_objective("cross_entropy")
    assert np.linalg.eigvalsh(hessian_dense(obj, theta))[0] < 0
    with pytest.raises(ValueError, match="not positive definite"):
        condition_estimate(obj, theta, operator="hessian")


def test_condition_estimate_resolves_the_softmax_null_space_cluster():
    """Softmax CE: GN has a null space (shifting all logits), so GN + λI has λ many times at the bottom."""
    lam = 1e-3
    obj, theta = make_objective("cross_entropy", regularizer=lam, n=30)
    w = np.linalg.eigvalsh(dense_gauss_newton(obj, theta))
    assert np.sum(np.isclose(w, lam, rtol=1e-9)) >= 5
    assert condition_estimate(obj, theta) == pytest.approx(w[-1] / w[0], rel=1e-7)


def test_generalized_tikhonov_curvature_is_added_exactly(monkeypatch):
    """Non-diagonal λ LᵀL: the generic regularizer paths, and the exact diagonal in 1-sample chunks."""
    L = np.random.default_rng(4).standard_normal((6, 31))
    obj, theta = make_objective("squared_error", regularizer=GeneralizedTikhonov(0.3, L))
    H = hessian_dense(obj, theta)
    assert np.allclose(
        outer_product_hessian(obj, theta), dense_gauss_newton(obj, theta), atol=1e-13
    )
    monkeypatch.setattr("numnet.curvature.diagonal._MAX_BLOCK_ENTRIES", 1)
    assert np.allclose(hessian_diagonal(obj, theta, method="backprop"), np.diag(H), atol=1e-13)
    bl = becker_lecun_diagonal(obj, theta)
    assert np.allclose(bl[obj.net.slices[1]], np.diag(H)[obj.net.slices[1]], atol=1e-13)
