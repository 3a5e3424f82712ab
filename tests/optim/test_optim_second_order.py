"""Second-order methods: Krylov solvers, Newton-CG, trust-NCG, Gauss-Newton, LM, block GN, varpro.

The shared table in ``test_optim.py`` runs these methods on its problems
too; this module checks what is specific to them: the CG building blocks,
superlinear convergence, agreement with SciPy, the notes' inverse crime at
full size, rejection of non-finite trial points, the block structure of
block Gauss-Newton and the variable-projection identities.
"""

import numpy as np
import pytest
from scipy.optimize import brentq, rosen, rosen_der, rosen_hess_prod
from scipy.optimize import minimize as scipy_minimize

from numnet.datasets import planted_softmax
from numnet.layers import Dense
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.optim import METHODS, FunctionObjective, Status, minimize
from numnet.optim import NoProgress
from numnet.optim.krylov import CGResult, model_decrease, steihaug_cg, truncated_cg
from numnet.optim.newton import CG, Blocks, Damping, TrustRegion
from numnet.optim.varpro import OutputLayerSolver, output_hessian, project_output_layer
from numnet.regularizers import Tikhonov

SECOND_ORDER = [
    "newton-cg",
    "trust-ncg",
    "gauss-newton",
    "levenberg-marquardt",
    "block-gauss-newton",
    "varpro",
]


# ------------------------------------------------------------------ Krylov solvers


def _spd(n, cond, seed=0, shift=0.0):
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return Q @ np.diag(np.geomspace(1, cond, n) + shift) @ Q.T, rng.standard_normal(n)


def test_truncated_cg_solves_spd_system():
    A, g = _spd(30, 100.0)
    sol = truncated_cg(lambda v: A @ v, g, rtol=1e-10, max_iter=200)
    assert sol.status == "converged"
    np.testing.assert_allclose(sol.p, np.linalg.solve(A, -g), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(sol.Ap, A @ sol.p, atol=1e-8)


def test_truncated_cg_stops_at_forcing_tolerance():
    A, g = _spd(30, 1e4)
    sol = truncated_cg(lambda v: A @ v, g, rtol=0.1, max_iter=200)
    tight = truncated_cg(lambda v: A @ v, g, rtol=1e-10, max_iter=200)
    residual = np.linalg.norm(A @ sol.p + g)
    assert sol.status == "converged" and residual <= 0.1 * np.linalg.norm(g)
    assert sol.n_iter < tight.n_iter


def test_truncated_cg_negative_curvature_first_iteration_gives_minus_g():
    g = np.array([1.0, 2.0])
    sol = truncated_cg(lambda v: -v, g)
    assert sol.status == "negative_curvature" and sol.n_iter == 1
    np.testing.assert_array_equal(sol.p, -g)


def test_truncated_cg_negative_curvature_later_returns_descent_iterate():
    A = np.diag([1.0, 2.0, -1.0])
    g = np.array([1.0, 1.0, 1e-3])
    sol = truncated_cg(lambda v: A @ v, g, rtol=1e-12)
    assert sol.status == "negative_curvature" and sol.n_iter > 1
    assert g @ sol.p < 0 and np.linalg.norm(sol.p + g) > 1e-3


def test_steihaug_interior_equals_newton_step():
    A, g = _spd(10, 10.0)
    p_newton = np.linalg.solve(A, -g)
    sol = steihaug_cg(lambda v: A @ v, g, 2 * np.linalg.norm(p_newton), rtol=1e-12)
    assert sol.status == "converged"
    np.testing.assert_allclose(sol.p, p_newton, rtol=1e-8)


@pytest.mark.parametrize("shift", [0.0, -3.0])
def test_steihaug_stops_on_boundary_with_model_decrease(shift):
    """Small radius (convex) or an indefinite matrix: ‖p‖ = Δ and the model decreases."""
    A, g = _spd(10, 10.0, shift=shift)
    sol = steihaug_cg(lambda v: A @ v, g, 0.1, rtol=1e-12)
    assert sol.status == "boundary"
    assert np.linalg.norm(sol.p) == pytest.approx(0.1, rel=1e-10)
    np.testing.assert_allclose(sol.Ap, A @ sol.p, atol=1e-10)
    assert model_decrease(g, sol) > 0


def test_krylov_rejects_bad_arguments():
    with pytest.raises(ValueError, match="radius"):
        steihaug_cg(lambda v: v, np.ones(2), 0.0)
    with pytest.raises(ValueError, match="max_iter"):
        truncated_cg(lambda v: v, np.ones(2), max_iter=0)


# ------------------------------------------------------------------ Rosenbrock


def rosenbrock():
    return FunctionObjective(rosen, rosen_der, rosen_hess_prod)


def _residual(x):
    return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])


def _jac(x):
    return np.array([[-20 * x[0], 10.0], [-1.0, 0.0]])


def rosenbrock_least_squares():
    """f = ½‖r‖², r(x) = (10(x₂ − x₁²), 1 − x₁): half the Rosenbrock function, GN from the Jacobian."""
    return FunctionObjective(
        lambda x: 0.5 * _residual(x) @ _residual(x),
        lambda x: _jac(x).T @ _residual(x),
        residual=_residual,
        jac=_jac,
    )


X0 = np.array([-1.2, 1.0])


@pytest.mark.parametrize("method", ["newton-cg", "trust-ncg"])
def test_newton_methods_converge_superlinearly_on_rosenbrock(method):
    """‖∇f‖ < 1e-6 is reached, and the last ratios ‖g_{k+1}‖/‖g_k‖ are below 0.1 (superlinear)."""
    res = minimize(rosenbrock(), X0, method, max_iter=200, gtol=1e-10)
    assert res.status is Status.GTOL and res.grad_norm < 1e-10, res
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-8)
    norms = np.array([h["grad_norm"] for h in res.history])
    assert (norms[-2:] / norms[-3:-1] < 0.1).all(), norms[-6:]
    assert minimize(rosenbrock(), X0, method, max_iter=200, gtol=1e-6).grad_norm < 1e-6


@pytest.mark.parametrize("solver", ["cg", "dense", "auto"])
@pytest.mark.parametrize("method", ["gauss-newton", "levenberg-marquardt"])
def test_gauss_newton_methods_solve_rosenbrock_least_squares(method, solver):
    """Both linear solvers converge; the matrix-free one counts products, the dense one (auto at p = 2) none."""
    res = minimize(rosenbrock_least_squares(), X0, method, max_iter=200, gtol=1e-6, solver=solver)
    assert res.status is Status.GTOL and res.grad_norm < 1e-6, res
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-5)
    ran = "cg" if solver == "cg" else "dense"
    assert (res.nhvp > 0) == (ran == "cg") and res.nit < 60
    assert {h["solver"] for h in res.history} == {ran} and f"linear solver: {ran}" in res.message


# ------------------------------------------------------------------ against SciPy


def multinomial_logistic():
    """Strongly convex: Dense(5, 3) + softmax cross-entropy + Tikhonov(0.01) on every parameter."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((150, 5))
    y = np.argmax(X @ rng.standard_normal((5, 3)) + rng.gumbel(size=(150, 3)), axis=1)
    net = Sequential([Dense(5, 3)])
    return Objective(net, "cross_entropy", X, y, regularizer=Tikhonov(0.01)), net


def _dense_newton(obj, theta, gtol=1e-13, max_iter=50):
    """The minimizer of a strongly convex objective by damped Newton on the dense Hessian.

    A reference independent of the methods under test and of any iterative
    solver's state: each step solves the (p × p) Newton system exactly
    (columns from ``hvp``) and halves until J decreases. (SciPy's
    trust-krylov, the earlier reference, once returned NaN depending on test
    order and thread state.)
    """
    eye = np.eye(theta.size)
    for _ in range(max_iter):
        g = obj.grad(theta)
        if np.linalg.norm(g) < gtol:
            return theta
        H = np.column_stack([obj.hvp(theta, e) for e in eye])
        step, value = np.linalg.solve((H + H.T) / 2, -g), obj.value(theta)
        while obj.value(theta + step) > value and np.linalg.norm(step) > 1e-14:
            step /= 2
        theta = theta + step
    raise AssertionError(
        f"reference Newton did not reach ‖g‖ < {gtol}: {np.linalg.norm(obj.grad(theta))}"
    )


@pytest.fixture(scope="module")
def logistic_reference():
    obj, net = multinomial_logistic()
    theta0 = net.init(2)
    return obj, theta0, _dense_newton(obj, theta0)


def test_logistic_reference_agrees_with_scipy_bfgs(logistic_reference):
    """The dense-Newton reference is SciPy's answer too (BFGS, a solver with no Hessian at all)."""
    obj, theta0, ref = logistic_reference
    bfgs = scipy_minimize(obj.value, theta0, jac=obj.grad, method="BFGS", options={"gtol": 1e-9})
    np.testing.assert_allclose(bfgs.x, ref, atol=1e-6)


@pytest.mark.parametrize(
    "method", ["newton-cg", "trust-ncg", "gauss-newton", "levenberg-marquardt"]
)
def test_regularized_logistic_regression_matches_scipy(logistic_reference, method):
    obj, theta0, ref = logistic_reference
    res = minimize(obj, theta0, method, max_iter=100, gtol=1e-10)
    assert res.success, res
    np.testing.assert_allclose(res.x, ref, atol=1e-6)


# ------------------------------------------------------------------ inverse crime (notes 000), full size


@pytest.fixture(scope="module")
def crime():
    """n = 500, n_f = 50, n_c = 10, m = 40; Y = softmax probabilities; θ_true in our layout (output bias 0)."""
    d = planted_softmax(random_state=0)
    net = Sequential([Dense(50, 40, "tanh"), Dense(40, 10)])
    obj = Objective(net, "cross_entropy", d.X, d.Y)
    theta_true = np.concatenate([d.W1.ravel(), d.b, d.W2.ravel(), np.zeros(10)])
    return obj, net, theta_true, obj.value(theta_true)


@pytest.mark.parametrize("method", ["gauss-newton", "newton-cg"])
def test_inverse_crime_excess_loss_below_1e_4(crime, method):
    """E(θ) − E(θ_true) < 1e-4 within 80 iterations, from θ₀ = θ_true + 0.2·N(0, I) (seeded).

    Why not a random init: from ``net.init(seed)`` every method we tried
    (ours and SciPy's) stalls in a long flat valley at an excess of about
    2e-4: measured on this problem, Gauss-Newton reaches 2.2e-4 after 300
    and 1.6e-4 after 800 iterations (12 init seeds: 1.9e-4 to 2.3e-4 after
    300), trust-ncg 1.1e-4 after 600, SciPy trust-krylov 2.7e-4 after 150
    and L-BFGS-B 2.5e-4 after 3000. The last factor of two would cost
    minutes. So this start is in the basin of θ_true but far from it: its
    excess (0.85, checked below) is of the order of a random init's (2.1);
    measured: below 1e-4 after 30 (Gauss-Newton) and 47 (Newton-CG)
    iterations. :func:`test_inverse_crime_from_random_init` covers the
    random start.
    """
    obj, _, theta_true, E_true = crime
    theta0 = theta_true + 0.2 * np.random.default_rng(0).standard_normal(theta_true.size)
    assert obj.value(theta0) - E_true > 0.8
    res = minimize(obj, theta0, method, max_iter=80, gtol=1e-12)
    assert res.fun - E_true < 1e-4, (res, res.fun - E_true)


#: method: (iterations, required excess E − E_true) from net.init(0); measured excess in the comment.
FROM_RANDOM = {
    "gauss-newton": (120, 6e-4),  # 3.4e-4
    "newton-cg": (120, 6e-4),  # 3.6e-4
    "levenberg-marquardt": (120, 6e-4),  # 3.1e-4
    "block-gauss-newton": (30, 2e-2),  # 7.3e-3
    "varpro": (15, 1e-2),
}  # 3.8e-3


@pytest.mark.parametrize("method", sorted(FROM_RANDOM))
def test_inverse_crime_from_random_init(crime, method):
    """From a random (Xavier) init the loss excess falls from 2.1 by orders of magnitude."""
    obj, net, _, E_true = crime
    theta0 = net.init(0)
    n_iter, gap = FROM_RANDOM[method]
    res = minimize(obj, theta0, method, max_iter=n_iter, gtol=1e-12)
    assert obj.value(theta0) - E_true > 2
    assert res.fun - E_true < gap, (res, res.fun - E_true)
    assert all(np.isfinite(h["fun"]) for h in res.history)


# ------------------------------------------------------------------ non-finite regions


class Barrier:
    """f(x) = ½‖x − c‖² − log(1 − ‖x‖²): NaN outside the unit ball; counts NaN evaluations."""

    def __init__(self):
        self.c, self.n_nan, self.n_samples = np.array([3.0, -2.0]), 0, 1

    def _s(self, x):
        s = 1.0 - x @ x
        self.n_nan += not s > 0
        return s

    def value(self, x):
        with np.errstate(invalid="ignore"):
            return float(0.5 * (x - self.c) @ (x - self.c) - np.log(self._s(x)))

    def grad(self, x):
        s = self._s(x)
        return (x - self.c) + 2 * x / s if s > 0 else np.full_like(x, np.nan)

    def hvp(self, x, v):
        s = self._s(x)
        return v + 2 * v / s + 4 * x * (x @ v) / s**2

    def minimizer(self):
        """x* = ρ c/‖c‖ with ρ − ‖c‖ + 2ρ/(1 − ρ²) = 0 (f is symmetric about the ray along c)."""
        nc = np.linalg.norm(self.c)
        rho = brentq(lambda r: r - nc + 2 * r / (1 - r * r), 0.0, 1 - 1e-12, xtol=1e-15)
        return rho * self.c / nc

    def objective(self):
        return FunctionObjective(
            self.value,
            self.grad,
            self.hvp,
            residual=None,
            jac=lambda x: np.linalg.cholesky(self._hess(x)).T,
        )

    def _hess(self, x):
        s = 1.0 - x @ x
        return np.eye(2) * (1 + 2 / s) + 4 * np.outer(x, x) / s**2


@pytest.mark.parametrize(
    "method", ["newton-cg", "trust-ncg", "gauss-newton", "levenberg-marquardt"]
)
def test_nan_region_is_never_accepted(method):
    """Newton steps from near the boundary overshoot into the NaN region; they are rejected."""
    b = Barrier()
    opts = (
        {"initial_radius": 10.0}
        if method == "trust-ncg"
        else {"mu0": 1e-8}
        if "marq" in method
        else {}
    )
    res = minimize(b.objective(), np.array([0.0, 0.0]), method, max_iter=100, gtol=1e-9, **opts)
    assert b.n_nan > 0, "the test must reach the NaN region"
    assert res.status is Status.GTOL and np.isfinite(res.x).all() and res.x @ res.x < 1
    assert all(np.isfinite(h["fun"]) for h in res.history)
    np.testing.assert_allclose(res.x, b.minimizer(), atol=1e-8)


# ------------------------------------------------------------------ block Gauss-Newton


def small_network_problem(loss="cross_entropy", regularizer=None, n_hidden=4):
    d = planted_softmax(n_samples=60, n_features=5, n_classes=3, n_hidden=n_hidden, random_state=1)
    net = Sequential([Dense(5, n_hidden, "tanh"), Dense(n_hidden, 3)])
    Y = d.Y if loss == "cross_entropy" else d.Y * 2 - 0.5
    return Objective(net, loss, d.X, Y, regularizer=regularizer), net


def _dense(product, n):
    return np.column_stack([product(e) for e in np.eye(n)])


def test_block_gauss_newton_step_solves_the_block_diagonal_system():
    """First direction = −[G₁₁⁻¹ g₁; H₂₂⁻¹ g₂] from dense blocks of G and H."""
    obj, net = small_network_problem(regularizer=Tikhonov(1e-3))
    theta0 = net.init(0)
    lin, (s1, s2) = obj.at(theta0), net.slices
    G, H, g = _dense(lin.gnvp, net.n_params), _dense(lin.hvp, net.n_params), lin.grad
    p = np.concatenate([np.linalg.solve(G[s1, s1], -g[s1]), np.linalg.solve(H[s2, s2], -g[s2])])
    res = minimize(
        obj,
        theta0,
        "block-gauss-newton",
        max_iter=1,
        max_cg=200,
        max_forcing=1e-12,
        forcing_power=10.0,
    )
    t = res.history[0]["step"]
    assert 0 < t <= 1 and res.fun < obj.value(theta0)
    np.testing.assert_allclose((res.x - theta0) / t, p, rtol=1e-6, atol=1e-9)


def test_block_gauss_newton_needs_a_single_hidden_layer_network():
    with pytest.raises(TypeError, match="Sequential"):
        minimize(rosenbrock(), X0, "block-gauss-newton")
    d = planted_softmax(n_samples=20, n_features=3, n_classes=2, n_hidden=2, random_state=0)
    deep = Sequential([Dense(3, 2, "tanh"), Dense(2, 2, "tanh"), Dense(2, 2)])
    with pytest.raises(TypeError, match="block-gauss-newton"):
        minimize(Objective(deep, "cross_entropy", d.X, d.Y), deep.init(0), "block-gauss-newton")
    assert METHODS["block-gauss-newton"].needs_network and METHODS["varpro"].needs_network


# ------------------------------------------------------------------ variable projection


def _features(net, theta, X):
    return Sequential(net.layers[:-1]).predict(theta[: net.slices[-1].start], X)


def test_varpro_least_squares_inner_solve_equals_lstsq():
    obj, net = small_network_problem("squared_error")
    theta = net.init(3)
    Z = _features(net, theta, obj.X)
    Wb = np.linalg.lstsq(np.hstack([Z, np.ones((Z.shape[0], 1))]), obj.Y, rcond=None)[0]
    out = net.unpack(project_output_layer(obj, theta))[-1]
    np.testing.assert_allclose(out["W"], Wb[:-1], atol=1e-10)
    np.testing.assert_allclose(out["b"], Wb[-1], atol=1e-10)


def test_varpro_tikhonov_inner_solve_solves_normal_equations():
    """With Tikhonov λ on the weights only: (Z₁ᵀZ₁/n + λ D) w = Z₁ᵀY/n, D = diag(1, …, 1, 0)."""
    lam = 0.05
    obj, net = small_network_problem(
        "squared_error",
        Tikhonov(lam, mask=~Sequential([Dense(5, 4, "tanh"), Dense(4, 3)]).bias_mask()),
    )
    theta = net.init(3)
    Z = _features(net, theta, obj.X)
    Z1, n = np.hstack([Z, np.ones((Z.shape[0], 1))]), Z.shape[0]
    Wb = np.linalg.solve(
        Z1.T @ Z1 / n + lam * np.diag([1.0] * Z.shape[1] + [0.0]), Z1.T @ obj.Y / n
    )
    theta_star = project_output_layer(obj, theta)
    np.testing.assert_allclose(
        theta_star[net.slices[-1]], np.concatenate([Wb[:-1].ravel(), Wb[-1]]), atol=1e-10
    )
    assert np.linalg.norm(obj.grad(theta_star)[net.slices[-1]]) < 1e-12


def test_varpro_cross_entropy_inner_solve_is_stationary():
    obj, net = small_network_problem("cross_entropy", Tikhonov(1e-3))
    theta = net.init(3)
    theta_star = project_output_layer(obj, theta)
    assert np.linalg.norm(obj.grad(theta_star)[net.slices[-1]]) < 1e-10
    assert obj.value(theta_star) < obj.value(theta) - 0.01


@pytest.mark.parametrize("loss", ["cross_entropy", "squared_error"])
def test_output_hessian_equals_dense_hessian_of_the_output_layer(loss):
    obj, net = small_network_problem(loss)
    theta = net.init(1)
    Z, out = _features(net, theta, obj.X), net.layers[-1]
    inner = Objective(Sequential([out]), obj.loss, Z, obj.Y)
    lin = inner.at(theta[net.slices[-1]])
    H = output_hessian(obj.loss, lin.F, obj.Y, np.hstack([Z, np.ones((Z.shape[0], 1))]))
    np.testing.assert_allclose(H, _dense(lin.hvp, out.n_params), atol=1e-14)


def test_varpro_gradient_is_the_hidden_block_of_the_gradient():
    """Central differences of Φ(θ_h) = min_w J(θ_h, w) along v equal ∂J/∂θ_h(θ_h, w*) · v."""
    obj, net = small_network_problem("squared_error", Tikhonov(1e-2))
    theta, n_h = net.init(5), net.slices[-1].start
    v = np.random.default_rng(0).standard_normal(n_h)

    def phi(theta_h):
        return obj.value(project_output_layer(obj, np.concatenate([theta_h, theta[n_h:]])))

    h = 1e-5
    fd = (phi(theta[:n_h] + h * v) - phi(theta[:n_h] - h * v)) / (2 * h)
    grad = obj.grad(project_output_layer(obj, theta))[:n_h]
    assert fd == pytest.approx(grad @ v, rel=1e-7)


@pytest.mark.parametrize("curvature", ["block", "schur"])
def test_varpro_gauss_newton_direction(curvature):
    """After the projection θ₁ = (θ_h, w*) the step solves S p = −∇Φ.

    S = G_hh ("block") or G_hh − G_hw G_ww⁻¹ G_wh ("schur"), from the dense Gauss-Newton matrix G.
    """
    obj, net = small_network_problem("cross_entropy", Tikhonov(1e-3))
    iterates = []
    res = minimize(
        obj,
        net.init(0),
        "varpro",
        curvature=curvature,
        max_iter=2,
        max_cg=500,
        max_forcing=1e-12,
        forcing_power=10.0,
        callback=lambda r: iterates.append(r.x.copy()),
    )
    n_h, (x1, x2) = net.slices[-1].start, iterates
    G, g = _dense(obj.at(x1).gnvp, net.n_params), obj.grad(x1)
    h, w = slice(0, n_h), slice(n_h, None)
    S = G[h, h] - (G[h, w] @ np.linalg.solve(G[w, w], G[w, h]) if curvature == "schur" else 0)
    t = res.history[1]["step"]
    np.testing.assert_allclose((x2[h] - x1[h]) / t, np.linalg.solve(S, -g[h]), rtol=1e-5, atol=1e-8)


def test_varpro_rejects_unsupported_networks_and_options():
    obj, net = small_network_problem()
    with pytest.raises(ValueError, match="outer"):
        minimize(obj, net.init(0), "varpro", outer="newton")
    with pytest.raises(ValueError, match="curvature"):
        minimize(obj, net.init(0), "varpro", curvature="full")
    tanh_out = Sequential([Dense(5, 4, "tanh"), Dense(4, 3, "tanh")])
    with pytest.raises(TypeError, match="identity"):
        OutputLayerSolver(Objective(tanh_out, "squared_error", obj.X, obj.Y))
    with pytest.raises(TypeError, match="smooth loss"):
        OutputLayerSolver(Objective(net, "absolute_error", obj.X, obj.Y))


@pytest.mark.parametrize(
    "options", [{"outer": "gauss-newton"}, {"outer": "lbfgs"}, {"curvature": "schur"}]
)
def test_varpro_iterates_keep_the_output_layer_optimal(options):
    obj, net = small_network_problem("squared_error")
    res = minimize(obj, net.init(0), "varpro", max_iter=15, **options)
    first = res.history[0]["fun"]
    assert res.fun < 0.5 * first and first < obj.value(net.init(0))
    assert np.linalg.norm(obj.grad(res.x)[net.slices[-1]]) < 1e-10


# ------------------------------------------------------------------ options


@pytest.mark.parametrize(
    "method,option",
    [
        ("newton-cg", {"max_cg": 0}),
        ("trust-ncg", {"eta": 0.3}),
        ("trust-ncg", {"initial_radius": -1.0}),
        ("gauss-newton", {"damping": -1.0}),
        ("levenberg-marquardt", {"mu0": 0.0}),
        ("newton-cg", {"max_forcing": 1.5}),
    ],
)
def test_bad_option_values_raise_value_error_naming_them(method, option):
    with pytest.raises(ValueError, match=next(iter(option))):
        minimize(rosenbrock(), X0, method, **option)


@pytest.mark.parametrize("method", SECOND_ORDER)
def test_unknown_option_raises_type_error(method):
    obj, net = small_network_problem()
    with pytest.raises(TypeError):
        minimize(obj, net.init(0), method, max_cgg=3)


# ------------------------------------------------------------------ the shared Newton-steps driver


def test_a_block_curvature_is_solved_one_block_at_a_time():
    """CG on Blocks: p = −[A₁₁⁻¹ g₁; A₂₂⁻¹ g₂] (coupling ignored), products of all blocks counted."""
    A, g = _spd(6, 30.0)
    b1, b2 = slice(0, 2), slice(2, 6)
    solver = CG(
        lambda lin: Blocks(((b1, lambda v: A @ v), (b2, lambda v: A @ v))),
        max_cg=50,
        forcing_power=10.0,
        max_forcing=1e-12,
    )
    sol = solver.solve(None, g)
    expected = np.concatenate(
        [np.linalg.solve(A[b1, b1], -g[b1]), np.linalg.solve(A[b2, b2], -g[b2])]
    )
    np.testing.assert_allclose(sol.p, expected, rtol=1e-8)
    assert sol.status == "converged" and 6 <= sol.n_iter <= 8


def test_damping_follows_nielsens_rule_and_gives_up_above_max_mu():
    d = Damping(1.0, 2.0, max_mu=10.0)
    assert d.update(1.0, None) == (1.0 / 3.0, 2.0, 10.0)  # ρ = 1: μ/3
    assert d.update(0.5, None).mu == 1.0  # ρ = ½: 1 − 0³ = 1
    failures = []
    for _ in range(3):
        d = d.update(-np.inf, None)  # failure: μ ← μν, ν ← 2ν
        failures.append((d.mu, d.nu))
    assert failures == [(2.0, 4.0), (8.0, 8.0), (64.0, 16.0)]
    assert d.accepts(1e-9) and not d.accepts(0.0)
    with pytest.raises(NoProgress, match="max_mu"):
        d.check()


def test_trust_radius_shrinks_to_a_quarter_of_the_step_and_doubles_on_the_boundary():
    region = TrustRegion(1.0, max_radius=3.0, eta=0.15, min_radius=0.1)
    inside = CGResult(np.array([0.3, 0.4]), None, 1, "converged")  # ‖p‖ = 0.5
    boundary = CGResult(np.array([0.6, 0.8]), None, 1, "boundary")  # ‖p‖ = 1
    assert region.update(0.1, inside).radius == 0.125
    assert region.update(0.9, boundary).radius == 2.0 and region.update(0.9, inside).radius == 1.0
    assert region.update(0.9, boundary).update(0.9, boundary).radius == 3.0
    assert region.update(0.5, boundary) == region
    assert region.accepts(0.2) and not region.accepts(0.15)
    with pytest.raises(NoProgress, match="min_radius"):
        region.update(0.0, CGResult(np.array([0.1, 0.0]), None, 1, "converged")).check()


def test_gauss_newton_with_damping_and_levenberg_marquardt_share_one_step():
    """Both solve (G + μI) p = −g through the same solver: with a full step accepted, the first iterates
    are identical bit for bit."""
    A, b = _spd(5, 20.0, seed=3)
    obj = FunctionObjective(
        lambda x: 0.5 * x @ A @ x - b @ x, lambda x: A @ x - b, lambda x, v: A @ v
    )
    x0 = np.zeros(5)
    gn = minimize(
        obj, x0, "gauss-newton", damping=0.5, max_iter=1, max_forcing=1e-12, forcing_power=10.0
    )
    lm = minimize(
        obj, x0, "levenberg-marquardt", mu0=0.5, max_iter=1, max_forcing=1e-12, forcing_power=10.0
    )
    assert gn.history[0]["step"] == 1.0 and gn.history[0]["inner"] == lm.history[0]["inner"] > 0
    np.testing.assert_array_equal(gn.x, lm.x)
