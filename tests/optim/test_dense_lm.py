"""The dense small-p path of Gauss-Newton and Levenberg–Marquardt (``numnet.optim.dense``).

The formed matrix equals the matrix-free Gauss-Newton product for every
loss and regularizer kind; the dense and CG paths take the same steps when
CG is solved tightly; the dense LM reaches the minimizers of Moré–Garbow–
Hillstrom problems (Rosenbrock, Freudenstein–Roth with its local minimum,
Powell singular) and of a planted network fit, as SciPy's ``least_squares``
does; Marquardt's scaling makes the iterates invariant to rescaled
parameters; ``solver="auto"`` picks dense for small p and CG for large p and
the result says which; option errors name the option.
"""

import numpy as np
import pytest
from scipy.optimize import least_squares

import numnet.optim.dense as dense
import numnet.optim.geodesic as geodesic
import numnet.optim.linear_solver as linear_solver
from numnet.curvature import per_sample_output_gradients
from numnet.datasets import planted_softmax
from numnet.graph import Add, Graph, Node
from numnet.layers import Dense, Dropout, Residual
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.optim import FunctionObjective, Status, minimize
from numnet.optim.dense import DenseLinearization, solve_damped
from numnet.optim.problem import Problem
from numnet.regularizers import GeneralizedTikhonov, L1Penalty, Tikhonov

GN_METHODS = ["gauss-newton", "levenberg-marquardt"]


# ------------------------------------------------------------------ problems


def classification(regularizer=None, n_samples=60, loss="cross_entropy"):
    d = planted_softmax(n_samples=n_samples, n_features=5, n_classes=3, n_hidden=4, random_state=0)
    net = Sequential([Dense(5, 4, "tanh"), Dense(4, 3)])
    return Objective(net, loss, d.X, d.Y, regularizer=regularizer), net.init(0)


def regression(regularizer=None, widths=(2, 6, 3), n_samples=40, seed=0):
    rng = np.random.default_rng(seed)
    acts = ["tanh"] * (len(widths) - 2) + ["identity"]
    net = Sequential([Dense(a, b, f) for a, b, f in zip(widths, widths[1:], acts)])
    X = rng.standard_normal((n_samples, widths[0]))
    Y = np.sin(X @ rng.standard_normal((widths[0], widths[-1])))
    return Objective(net, "squared_error", X, Y, regularizer=regularizer), net.init(seed)


def binary():
    rng = np.random.default_rng(1)
    net = Sequential([Dense(3, 4, "tanh"), Dense(4, 1)])
    X = rng.standard_normal((50, 3))
    return Objective(net, "binary_cross_entropy", X, (X[:, 0] > 0).astype(float)), net.init(1)


def graph_network():
    """Two branches added, then a read-out: the Jacobian comes from tangent passes, not the Dense fast path."""
    rng = np.random.default_rng(2)
    net = Graph(
        2,
        [
            Node("a", Dense(2, 3, "tanh")),
            Node("b", Dense(2, 3, "sin")),
            Node("s", Add(), ["a", "b"]),
            Node("out", Dense(3, 2), "s"),
        ],
    )
    return Objective(
        net, "squared_error", rng.standard_normal((30, 2)), rng.standard_normal((30, 2))
    ), net.init(2)


def residual_network():
    rng = np.random.default_rng(4)
    net = Sequential([Dense(2, 4, "tanh"), Residual(4, "tanh"), Dense(4, 3)])
    X = rng.standard_normal((30, 2))
    return Objective(net, "cross_entropy", X, rng.integers(0, 3, 30)), net.init(4)


def gauss_newton_matrix(lin, p):
    """The matrix of ``lin.gnvp``, column by column (the matrix-free reference)."""
    return np.column_stack([lin.gnvp(e) for e in np.eye(p)])


def least_squares_objective(residual, jac):
    """f = ½‖r‖² with ∇f = Jᵀr, as a FunctionObjective the dense path can use."""
    return FunctionObjective(
        lambda x: 0.5 * float(residual(x) @ residual(x)),
        lambda x: jac(x).T @ residual(x),
        residual=residual,
        jac=jac,
    )


def rosenbrock_residual(x):
    return np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])


def rosenbrock_jac(x):
    return np.array([[-20 * x[0], 10.0], [-1.0, 0.0]])


def freudenstein_roth_residual(x):
    return np.array(
        [-13 + x[0] + ((5 - x[1]) * x[1] - 2) * x[1], -29 + x[0] + ((x[1] + 1) * x[1] - 14) * x[1]]
    )


def freudenstein_roth_jac(x):
    return np.array([[1.0, 10 * x[1] - 3 * x[1] ** 2 - 2], [1.0, 3 * x[1] ** 2 + 2 * x[1] - 14]])


def powell_singular_residual(x):
    return np.array(
        [
            x[0] + 10 * x[1],
            np.sqrt(5) * (x[2] - x[3]),
            (x[1] - 2 * x[2]) ** 2,
            np.sqrt(10) * (x[0] - x[3]) ** 2,
        ]
    )


def powell_singular_jac(x):
    a, b = 2 * (x[1] - 2 * x[2]), 2 * np.sqrt(10) * (x[0] - x[3])
    return np.array(
        [[1.0, 10.0, 0, 0], [0, 0, np.sqrt(5), -np.sqrt(5)], [0, a, -2 * a, 0], [b, 0, 0, -b]]
    )


MGH = {  # name: residual, Jacobian, MGH start
    "rosenbrock": (rosenbrock_residual, rosenbrock_jac, np.array([-1.2, 1.0])),
    "freudenstein_roth": (freudenstein_roth_residual, freudenstein_roth_jac, np.array([0.5, -2.0])),
    "powell_singular": (
        powell_singular_residual,
        powell_singular_jac,
        np.array([3.0, -1.0, 0.0, 1.0]),
    ),
}


def scipy_solution(residual, jac, x0, method):
    return least_squares(
        residual, x0, jac=jac, method=method, xtol=1e-15, ftol=1e-15, gtol=1e-15, max_nfev=10_000
    ).x


def dense_lm(obj, x0, gtol=1e-13, **options):
    return minimize(
        obj, x0, "levenberg-marquardt", solver="dense", max_iter=2000, gtol=gtol, **options
    )


# ------------------------------------------------------------------ the formed matrix

OBJECTIVES = {
    "squared_error": lambda: regression(),
    "squared_error+tikhonov": lambda: regression(Tikhonov(0.1)),
    "cross_entropy": lambda: classification(),
    "cross_entropy+masked_tikhonov": lambda: classification(
        Tikhonov(0.05, mask=np.arange(39) % 2 == 0)
    ),
    "binary_cross_entropy": binary,
    "squared_error+generalized_tikhonov": lambda: regression(
        GeneralizedTikhonov(0.3, np.diff(np.eye(39), axis=0))
    ),
    "squared_error+l1": lambda: regression(L1Penalty(0.1)),
    "graph": graph_network,
    "residual": residual_network,
}


@pytest.mark.parametrize("name", OBJECTIVES)
def test_formed_matrix_and_gradient_equal_the_matrix_free_products(name):
    obj, theta = OBJECTIVES[name]()
    lin = obj.at(theta)
    dlin = DenseLinearization(lin)
    G = gauss_newton_matrix(lin, obj.n_params)
    np.testing.assert_allclose(dlin.matrix, G, rtol=1e-12, atol=1e-13 * np.abs(G).max())
    np.testing.assert_allclose(dlin.grad, lin.grad, rtol=1e-12, atol=1e-14)


def test_row_chunks_give_the_same_matrix(monkeypatch):
    """J built in chunks of 7 rows (a forward pass each) sums to the one-piece G and g."""
    obj, theta = classification()
    whole = DenseLinearization(obj.at(theta))
    monkeypatch.setattr(dense, "CHUNK_ENTRIES", 7 * 3 * obj.n_params)
    assert len(dense._row_chunks(obj.n_samples, 3 * obj.n_params, obj.net)) == 9
    chunked = DenseLinearization(obj.at(theta))
    np.testing.assert_allclose(chunked.matrix, whole.matrix, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(chunked.grad, whole.grad, rtol=1e-12, atol=1e-15)


def test_a_network_with_dropout_is_never_chunked(monkeypatch):
    """Dropout masks depend on the number of rows: its J comes from the kept forward pass."""
    rng = np.random.default_rng(0)
    net = Sequential([Dense(3, 6, "tanh"), Dropout(6, 0.3, seed=1, key=2), Dense(6, 1)])
    obj = Objective(
        net, "squared_error", rng.standard_normal((20, 3)), rng.standard_normal((20, 1))
    )
    monkeypatch.setattr(dense, "CHUNK_ENTRIES", 1)
    lin = obj.at(net.init(0))
    assert dense._row_chunks(20, net.n_params, net) == [None]
    np.testing.assert_allclose(
        DenseLinearization(lin).matrix,
        gauss_newton_matrix(lin, net.n_params),
        rtol=1e-12,
        atol=1e-15,
    )


def test_float32_stays_float32():
    obj, theta = classification()
    obj32 = Objective(obj.net, "cross_entropy", obj.X.astype(np.float32), obj.Y.astype(np.float32))
    res = minimize(
        obj32, theta.astype(np.float32), "levenberg-marquardt", solver="dense", max_iter=5
    )
    assert (
        res.x.dtype == np.float32
        and res.history[-1]["solver"] == "dense"
        and res.fun < obj32.value(theta.astype(np.float32))
    )


# ------------------------------------------------------------------ the damped solves


def spd_and_singular(p=12, rank=8, seed=0):
    rng = np.random.default_rng(seed)
    R = rng.standard_normal((rank, p)) * np.geomspace(1, 30, p)
    return R.T @ R, rng.standard_normal(p)


class _Fixed:
    """A linearization whose dense matrix is given (for the solver alone)."""

    def __init__(self, G):
        self.lin = self
        self.theta, self.value = np.zeros(G.shape[0]), 0.0
        self.objective = None


def fixed(G, g):
    d = DenseLinearization(_Fixed(G), grad=g)
    d._G = G
    return d


@pytest.mark.parametrize("scaling", ["identity", "marquardt"])
def test_cholesky_and_eigendecomposition_solve_the_same_system(scaling, monkeypatch):
    monkeypatch.setattr(dense, "CHOLESKY_SOLVES", 2)
    G, g = spd_and_singular()
    D = np.ones(12) if scaling == "identity" else np.diagonal(G)
    lin = fixed(G, g)
    first = [solve_damped(lin, g, mu, scaling).p for mu in (1.0, 0.1)]  # Cholesky
    later = [solve_damped(lin, g, mu, scaling).p for mu in (1.0, 0.1)]  # the eigendecomposition
    assert lin.n_solves == 4 and scaling in lin._eigen
    for mu, a, b in zip((1.0, 0.1), first, later):
        exact = np.linalg.solve(G + mu * np.diag(D), -g)
        np.testing.assert_allclose(a, exact, rtol=1e-9, atol=1e-10 * np.abs(exact).max())
        np.testing.assert_allclose(b, exact, rtol=1e-9, atol=1e-10 * np.abs(exact).max())


def test_a_singular_system_gets_the_minimum_norm_solution():
    """μ = 0 on a rank-8 G of size 12: Cholesky fails, the eigendecomposition gives −G⁺g."""
    G, g = spd_and_singular()
    sol = solve_damped(fixed(G, g), g, 0.0)
    np.testing.assert_allclose(sol.p, -np.linalg.pinv(G, rcond=1e-10) @ g, rtol=1e-6)
    np.testing.assert_allclose(sol.Ap, G @ sol.p, rtol=1e-12, atol=1e-12)


def test_ap_is_the_curvature_plus_mu_times_p_for_any_scaling():
    """Damping's predicted decrease subtracts μp from Ap: it must be Gp + μp, also with D = diag(G)."""
    G, g = spd_and_singular(rank=12)
    sol = solve_damped(fixed(G, g), g, 0.5, "marquardt")
    np.testing.assert_allclose(sol.Ap, G @ sol.p + 0.5 * sol.p, rtol=1e-12)
    np.testing.assert_allclose(
        (G + 0.5 * np.diag(np.diagonal(G))) @ sol.p, -g, rtol=1e-8, atol=1e-10
    )


def test_floored_solve_keeps_the_well_determined_directions_and_drops_the_null_space():
    """w_i = max(λ_i, ρ λ_max) for λ_i above rounding; the rank-8 G's null space gets no step."""
    G, g = spd_and_singular()
    lam, V = np.linalg.eigh(G)
    rho = 1e-3
    sol = dense.solve_floored(fixed(G, g), g, 0.0, rho)
    keep = lam > 12 * np.finfo(float).eps * lam.max()
    expected = -V[:, keep] @ ((V[:, keep].T @ g) / np.maximum(lam[keep], rho * lam.max()))
    np.testing.assert_allclose(sol.p, expected, rtol=1e-8, atol=1e-12 * np.abs(expected).max())
    assert keep.sum() == 8 and np.abs(V[:, ~keep].T @ sol.p).max() < 1e-8 * np.abs(sol.p).max()
    big = lam >= rho * lam.max()
    np.testing.assert_allclose((V[:, big].T @ sol.p), -(V[:, big].T @ g) / lam[big], rtol=1e-8)


def softmax_shift_problem():
    """peaks in 5 classes, 2-8-5 softmax: G is singular (adding a constant to every output changes nothing)."""
    from numnet.datasets import peaks

    X, y = peaks(300, 5, random_state=0)
    net = Sequential([Dense(2, 8, "tanh"), Dense(8, 5)])
    return Objective(net, "cross_entropy", X, y), net.init(3)


def test_undamped_dense_gauss_newton_progresses_on_a_singular_g_like_cg(monkeypatch):
    """The exact step −G⁺g is huge along G's near-null space; the floored trials keep the run going.

    With halving alone (FLOOR_GROWTH = 1: every "floored" trial is the exact step again) the run stalls
    near the start; with the floor it reaches a loss within 2× of CG's after the same iterations.
    """
    obj, theta = softmax_shift_problem()
    assert np.linalg.matrix_rank(DenseLinearization(obj.at(theta)).matrix, tol=1e-10) < obj.n_params
    run = lambda solver: minimize(obj, theta, "gauss-newton", solver=solver, max_iter=60, gtol=0.0)  # noqa: E731
    cg, floored = run("cg"), run("dense")
    assert floored.fun <= 2 * cg.fun and any(h.get("floor", 0) > 0 for h in floored.history)
    assert {h["solver"] for h in floored.history[1:]} == {"dense"}
    monkeypatch.setattr(dense, "FLOOR_GROWTH", 1.0)
    halved = run("dense")
    assert halved.fun > 3 * floored.fun, (halved.fun, floored.fun)


# ------------------------------------------------------------------ dense and CG take the same steps

TIGHT_CG = {"max_cg": 5000, "max_forcing": 1e-14, "forcing_power": 10.0}


def iterates(obj, theta, method, solver, **options):
    xs = []
    res = minimize(
        obj,
        theta,
        method,
        solver=solver,
        max_iter=8,
        gtol=0.0,
        callback=lambda r: xs.append(r.x.copy()),
        **options,
    )
    return np.array(xs), res


@pytest.mark.parametrize(
    "problem,method,options",
    [
        ("cross_entropy", "levenberg-marquardt", {"geodesic": False}),
        ("squared_error+tikhonov", "levenberg-marquardt", {"tau": 1e-2, "geodesic": False}),
        ("squared_error", "gauss-newton", {"damping": 1e-2}),
        ("binary_cross_entropy", "gauss-newton", {"damping": 1e-3}),
    ],
)
def test_dense_and_cg_paths_take_the_same_steps(problem, method, options):
    obj, theta = OBJECTIVES[problem]()
    xd, rd = iterates(obj, theta, method, "dense", **options)
    xc, rc = iterates(obj, theta, method, "cg", **options, **TIGHT_CG)
    assert len(xd) == len(xc) == 8 and rd.nhvp == 0 and rc.nhvp > 0
    assert np.abs(xd - xc).max() <= 1e-10, np.abs(xd - xc).max(axis=1)
    np.testing.assert_allclose(
        [h["fun"] for h in rd.history], [h["fun"] for h in rc.history], rtol=1e-10
    )


# ------------------------------------------------------------------ Moré–Garbow–Hillstrom problems


@pytest.mark.parametrize(
    "name,gtol,rtol", [("rosenbrock", 1e-11, 1e-10), ("freudenstein_roth", 1e-5, 1e-6)]
)
def test_dense_lm_reaches_the_mgh_minimizer_scipy_reaches(name, gtol, rtol):
    """Freudenstein–Roth stops at its local minimum, where f = 24.49 leaves ‖∇f‖ ≈ 1e-6 at the rounding
    level of the values (SciPy's "lm" and "trf" differ from each other in the 8th digit there)."""
    residual, jac, x0 = MGH[name]
    res = dense_lm(least_squares_objective(residual, jac), x0, gtol=gtol)
    assert res.status is Status.GTOL, res
    for method in ("lm", "trf"):
        np.testing.assert_allclose(res.x, scipy_solution(residual, jac, x0, method), rtol=rtol)


def test_freudenstein_roth_local_and_global_minima():
    """From the MGH start LM stops at the local minimum Σr² = 48.9842…; from (6, 3) it finds (5, 4), Σr² = 0."""
    obj = least_squares_objective(freudenstein_roth_residual, freudenstein_roth_jac)
    local = dense_lm(obj, np.array([0.5, -2.0]), gtol=1e-5)
    np.testing.assert_allclose(2 * local.fun, 48.98425367924, rtol=1e-10)
    np.testing.assert_allclose(local.x, [11.4127789, -0.8968052], rtol=1e-6)
    best = dense_lm(obj, np.array([6.0, 3.0]))
    np.testing.assert_allclose(best.x, [5.0, 4.0], rtol=1e-10)
    assert best.fun < 1e-20


def test_powell_singular_converges_to_zero_like_scipy():
    """J is singular at x* = 0: convergence is linear, both methods end within 1e-4 of it."""
    residual, jac, x0 = MGH["powell_singular"]
    res = minimize(
        least_squares_objective(residual, jac),
        x0,
        "levenberg-marquardt",
        solver="dense",
        max_iter=2000,
        gtol=1e-20,
    )
    for x in (
        res.x,
        scipy_solution(residual, jac, x0, "lm"),
        scipy_solution(residual, jac, x0, "trf"),
    ):
        assert np.abs(x).max() < 1e-4 and 0.5 * residual(x) @ residual(x) < 1e-16


def test_planted_network_fit_is_recovered_like_scipy():
    """Targets from a 1-3-1 tanh network at θ* (cond J = 1.1e3): from θ* + noise LM and SciPy return to θ*.

    Forming G = JᵀJ squares the condition number, so θ is found to about ε·cond(J)², SciPy's QR-based
    "lm" to ε·cond(J): this θ* is well enough conditioned for both to agree to 1e-7 when ‖∇f‖ ≤ 1e-13.
    """
    net = Sequential([Dense(1, 3, "tanh"), Dense(3, 1)])
    rng = np.random.default_rng(3)
    theta_star = rng.standard_normal(net.n_params)
    X = np.linspace(-2, 2, 40)[:, None]
    obj = Objective(net, "squared_error", X, net.forward(theta_star, X)[0])
    theta0 = theta_star + 0.05 * rng.standard_normal(net.n_params)
    res = dense_lm(obj, theta0)
    assert res.fun < 1e-20 and res.status is Status.GTOL, res
    np.testing.assert_allclose(res.x, theta_star, rtol=1e-7, atol=1e-8)

    def residual(theta):
        return (net.forward(theta, X)[0] - obj.Y).ravel() / np.sqrt(40)

    def jac(theta):
        return per_sample_output_gradients(net, theta, X).reshape(40, -1) / np.sqrt(40)

    for method in ("lm", "trf"):
        np.testing.assert_allclose(
            scipy_solution(residual, jac, theta0, method), res.x, rtol=1e-7, atol=1e-8
        )


def test_dense_lm_reaches_the_inverse_crime_optimum_and_dense_gn_a_stationary_point():
    d = planted_softmax(n_samples=100, n_features=8, n_classes=3, n_hidden=6, random_state=0)
    net = Sequential([Dense(8, 6, "tanh"), Dense(6, 3)])
    obj = Objective(net, "cross_entropy", d.X, d.Y)
    f_star = float(-(d.Y * np.log(d.Y)).sum(axis=1).mean())
    lm = minimize(obj, net.init(0), "levenberg-marquardt", max_iter=200)
    gn = minimize(obj, net.init(0), "gauss-newton", max_iter=200)
    assert lm.status is gn.status is Status.GTOL and lm.fun - f_star < 1e-8
    assert {h["solver"] for h in lm.history + gn.history} == {"dense"}


# ------------------------------------------------------------------ geodesic acceleration


def test_geodesic_step_on_squared_residuals_is_exact():
    """r(x) = x² elementwise: r_vv = 2v² exactly (the difference quotient is exact for quadratics)."""
    obj = least_squares_objective(lambda x: x**2 - 1, lambda x: np.diag(2 * x))
    x, mu = np.array([0.5, 2.0, -1.5]), 10.0
    problem = Problem(obj)
    lin = dense.Direct().wrap(problem, problem.at(x), obj.grad(x))
    v = solve_damped(lin, lin.grad, mu).p
    A = lin.matrix + mu * np.eye(3)
    a = -np.linalg.solve(A, np.diag(2 * x) @ (2 * v**2))
    expected = v + 0.5 * a if 2 * np.linalg.norm(a) <= geodesic.ALPHA * np.linalg.norm(v) else None
    step = geodesic.geodesic_step(problem, lin, v)
    assert expected is not None
    np.testing.assert_allclose(step, expected, rtol=1e-12)
    assert problem.counts.nfev == 2  # the linearization and the extra residual evaluation


def test_geodesic_step_is_v_for_linear_residuals_and_none_when_the_correction_is_large():
    R = np.random.default_rng(0).standard_normal((6, 3))
    linear = least_squares_objective(lambda x: R @ x - 1, lambda x: R)
    problem = Problem(linear)
    lin = dense.Direct().wrap(problem, problem.at(np.zeros(3)), linear.grad(np.zeros(3)))
    v = solve_damped(lin, lin.grad, 0.1).p
    np.testing.assert_allclose(geodesic.geodesic_step(problem, lin, v), v, atol=1e-12)
    cubic = least_squares_objective(lambda x: x**3 - 1, lambda x: np.diag(3 * x**2))
    problem = Problem(cubic)
    lin = dense.Direct().wrap(problem, problem.at(np.full(2, 0.1)), cubic.grad(np.full(2, 0.1)))
    v = solve_damped(lin, lin.grad, 1e-3).p  # a long step where the curvature dominates
    assert geodesic.geodesic_step(problem, lin, v) is None


def test_geodesic_acceleration_saves_iterations_on_a_smooth_fit():
    """sin(3x) + 0.3x², 1-6-6-1 tanh, to a loss of 1e-8: geodesic LM needs fewer than half the iterations."""
    net = Sequential([Dense(1, 6, "tanh"), Dense(6, 6, "tanh"), Dense(6, 1)])
    X = np.linspace(-2, 2, 100)[:, None]
    obj = Objective(net, "squared_error", X, np.sin(3 * X) + 0.3 * X**2)

    def iterations(geodesic):
        def stop(result):
            if result.fun <= 1e-8:
                raise StopIteration

        res = minimize(
            obj,
            net.init(0),
            "levenberg-marquardt",
            max_iter=3000,
            gtol=0.0,
            geodesic=geodesic,
            callback=stop,
        )
        assert res.status is Status.CALLBACK, res
        return res.nit

    with_geodesic, without = iterations(True), iterations(False)
    assert with_geodesic < 0.5 * without, (with_geodesic, without)


# ------------------------------------------------------------------ Marquardt's scaling


def test_marquardt_scaling_makes_the_iterates_invariant_to_rescaled_parameters():
    """f(φ) = h(Sφ): with D = diag(G) the iterates are φ_k = S⁻¹θ_k; with D = I they are not."""
    S = np.array([1e3, 1e-2])
    scaled = least_squares_objective(
        lambda z: rosenbrock_residual(S * z), lambda z: rosenbrock_jac(S * z) * S
    )
    plain = least_squares_objective(rosenbrock_residual, rosenbrock_jac)
    x0 = np.array([-1.2, 1.0])
    for scaling, same in (("marquardt", True), ("identity", False)):
        theta, _ = iterates(
            plain, x0, "levenberg-marquardt", "dense", scaling=scaling, geodesic=False
        )
        phi, _ = iterates(
            scaled, x0 / S, "levenberg-marquardt", "dense", scaling=scaling, geodesic=False
        )
        assert np.allclose(phi * S, theta, rtol=1e-8, atol=1e-12) is same


def test_marquardt_scaling_solves_rosenbrock():
    res = dense_lm(
        least_squares_objective(rosenbrock_residual, rosenbrock_jac),
        np.array([-1.2, 1.0]),
        gtol=1e-11,
        scaling="marquardt",
    )
    assert res.status is Status.GTOL
    np.testing.assert_allclose(res.x, [1.0, 1.0], rtol=1e-10)


# ------------------------------------------------------------------ which path runs


@pytest.mark.parametrize("method", GN_METHODS)
def test_auto_picks_dense_for_small_p_and_says_so(method):
    obj, theta = classification()
    res = minimize(obj, theta, method, max_iter=3)
    assert [h["solver"] for h in res.history] == ["dense"] * 3 and res.nhvp == 0
    assert "linear solver: dense (39 × 39" in res.message
    assert (
        f"p·n_outputs = 39·3 = 117 ≤ dense_max_params = {linear_solver.DENSE_MAX_PARAMS}"
        in res.message
    )


@pytest.mark.parametrize("method", GN_METHODS)
def test_auto_picks_cg_for_large_p_and_says_so(method):
    obj, theta = regression(widths=(40, 25, 5))
    assert obj.n_params == 1155 > linear_solver.DENSE_MAX_PARAMS
    res = minimize(obj, theta, method, max_iter=2)
    assert [h["solver"] for h in res.history] == ["cg"] * 2 and res.nhvp > 0
    assert "linear solver: cg" in res.message
    assert (
        f"p·n_outputs = 1155·5 = 5775 > dense_max_params = {linear_solver.DENSE_MAX_PARAMS}"
        in res.message
    )
    small = minimize(*classification(), method, max_iter=1, dense_max_params=116)
    assert (
        small.history[0]["solver"] == "cg"
        and "p·n_outputs = 39·3 = 117 > dense_max_params = 116" in small.message
    )


@pytest.mark.parametrize("outputs,solver", [(1, "dense"), (3, "cg")])
def test_auto_counts_the_outputs(outputs, solver):
    """G costs n·n_outputs·p², a Gauss-Newton product about n·p: p ≈ 370 is dense with 1 output, CG with 3."""
    obj, theta = regression(widths=(2, 19, 15, 1) if outputs == 1 else (2, 18, 14, 3))
    assert (obj.n_params, outputs * obj.n_params) == ((373, 373) if outputs == 1 else (365, 1095))
    res = minimize(obj, theta, "levenberg-marquardt", max_iter=1)
    assert res.history[0]["solver"] == solver
    rosen = least_squares_objective(rosenbrock_residual, rosenbrock_jac)
    assert (
        minimize(rosen, np.zeros(2), "levenberg-marquardt", max_iter=1).history[0]["solver"]
        == "dense"
    )


@pytest.mark.parametrize("width,solver", [(4, "dense"), (8, "cg")])
def test_auto_wants_p_at_most_max_cg_when_the_jacobian_takes_tangent_passes(width, solver):
    """A Graph builds J by p tangent passes: p = 41 ≤ max_cg = 50 runs dense, p = 113 CG."""
    net = Graph(
        1,
        [
            Node("a", Dense(1, width, "tanh")),
            Node("b", Dense(1, width, "sin")),
            Node("s", Add(), ["a", "b"]),
            Node("c", Dense(width, width, "tanh"), "s"),
            Node("out", Dense(width, 1), "c"),
        ],
    )
    X = np.linspace(-2, 2, 50)[:, None]
    res = minimize(
        Objective(net, "squared_error", X, np.sin(3 * X)),
        net.init(0),
        "levenberg-marquardt",
        max_iter=1,
    )
    assert res.history[0]["solver"] == solver
    assert (
        f"J by p tangent passes, p = {net.n_params} {'≤' if solver == 'dense' else '>'} max_cg = 50"
        in res.message
    )


def test_auto_uses_cg_for_an_objective_without_a_dense_form():
    obj = FunctionObjective(lambda x: float(x @ x), lambda x: 2 * x, lambda x, v: 2 * v)
    res = minimize(obj, np.ones(3), "levenberg-marquardt", max_iter=2)
    assert (
        res.history[0]["solver"] == "cg" and "no dense form for a FunctionObjective" in res.message
    )
    with pytest.raises(ValueError, match="solver='dense'"):
        minimize(obj, np.ones(3), "levenberg-marquardt", solver="dense")


def test_a_dense_problem_builds_no_matrix_for_rejected_trials(monkeypatch):
    """The Jacobian and G are built once per accepted point (and at the start), never for a rejected trial."""
    obj, theta = regression()
    built = []
    real = dense._network_system
    monkeypatch.setattr(
        dense, "_network_system", lambda lin, need: built.append(1) or real(lin, need)
    )
    res = minimize(obj, theta, "levenberg-marquardt", max_iter=20, gtol=0.0, mu0=1e-12)
    assert res.nfev > res.nit + 2  # some trials were rejected (μ₀ far too small)
    assert len(built) == res.nit + 1 and res.ngev == res.nit + 1


# ------------------------------------------------------------------ option errors


@pytest.mark.parametrize("method", GN_METHODS)
@pytest.mark.parametrize(
    "options,error,name",
    [
        ({"solver": "qr"}, ValueError, "solver"),
        ({"solver": None}, ValueError, "solver"),
        ({"dense_max_params": -1}, ValueError, "dense_max_params"),
        ({"dense_max_params": 2.5}, TypeError, "dense_max_params"),
        ({"dense_max_params": True}, TypeError, "dense_max_params"),
        ({"scaling": "diag"}, ValueError, "scaling"),
        ({"solver": "cg", "scaling": "marquardt"}, ValueError, "scaling"),
        ({"dense_max_params": 10, "scaling": "marquardt"}, ValueError, "scaling"),
        ({"solvr": "dense"}, TypeError, "solvr"),
    ],
)
def test_option_errors_name_the_option_before_any_evaluation(method, options, error, name):
    obj, theta = classification()

    def boom(*args):
        raise AssertionError("evaluated")

    problem_free = Objective(obj.net, obj.loss, obj.X, obj.Y)
    problem_free.value_and_grad = boom
    with pytest.raises(error, match=name):
        minimize(problem_free, theta, method, **options)


def test_problem_counts_one_gradient_per_accepted_dense_point():
    obj, theta = regression()
    problem = Problem(obj)
    lin = dense.Direct().point(problem, theta)
    assert problem.counts.ngev == 0 and lin.usable() and problem.counts.ngev == 1
    lin.grad, lin.matrix
    assert problem.counts.ngev == 1 and problem.counts.nhvp == 0


def test_the_memory_estimate_counts_the_dense_matrix_when_the_dense_path_runs():
    """cli._memory: p = 897 with one output runs dense; its p × p matrices dominate, and the estimate is
    within a factor 2 of the traced peak of a dense run (the estimate without them is far below it)."""
    import tracemalloc

    from numnet.cli import _memory

    net = Sequential([Dense(1, 28, "tanh"), Dense(28, 28, "tanh"), Dense(28, 1)])
    X = np.linspace(-1, 1, 50)[:, None]
    obj = Objective(net, "squared_error", X, np.sin(3 * X))
    assert _memory.dense_path_runs(net, "levenberg-marquardt") and not _memory.dense_path_runs(
        net, "lbfgs"
    )
    assert not _memory.dense_path_runs(net, "levenberg-marquardt", "cg")
    dense_est = _memory.training_bytes(net, 50, "levenberg-marquardt")
    cg_est = _memory.training_bytes(net, 50, "levenberg-marquardt", solver="cg")
    assert dense_est - cg_est == 8 * _memory.dense_floats(net, 50)
    theta = net.init(0)
    tracemalloc.start()
    try:
        res = minimize(obj, theta, "levenberg-marquardt", max_iter=3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert res.history[-1]["solver"] == "dense"
    assert 0.5 < dense_est / peak < 2.0 and cg_est < 0.5 * peak, (dense_est, cg_est, peak)
