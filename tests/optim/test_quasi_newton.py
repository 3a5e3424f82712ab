"""Quasi-Newton memories: secant equations, two-loop = dense BFGS, skip rules, quadratic termination."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from numnet.optim import FunctionObjective, Problem, minimize
from numnet.optim.linesearch import get_line_search
from numnet.optim.quasi_newton import LBFGS, BFGSInverse, SR1Inverse, quasi_newton_steps


def spd(rng, n, cond=50.0):
    Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return Q @ np.diag(np.geomspace(1.0, cond, n)) @ Q.T


def curvature_pairs(seed, n, k):
    """k pairs (s, y = A s) of a random SPD A, so every yᵀs > 0."""
    rng = np.random.default_rng(seed)
    A = spd(rng, n)
    S = rng.standard_normal((k, n))
    return A, S, S @ A


@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 8), k=st.integers(1, 6))
@pytest.mark.parametrize("Memory", [BFGSInverse, SR1Inverse])
def test_secant_equation_after_update(Memory, seed, n, k):
    """H⁺ y = s for the pair just added (h0 = 1, so the first pair is a real update)."""
    _, S, Y = curvature_pairs(seed, n, k)
    H = Memory(n, h0=1.0)
    for s, y in zip(S, Y):
        if H.update(s, y):
            np.testing.assert_allclose(H @ y, s, rtol=1e-8, atol=1e-8 * np.linalg.norm(s))
    assert H.n_updates + H.n_skipped == k and H.n_updates >= 1


@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 8), k=st.integers(1, 8))
def test_two_loop_equals_dense_bfgs(seed, n, k):
    """L-BFGS (memory ≥ k) equals dense BFGS from H₀ = γ_k I with the same pairs."""
    _, S, Y = curvature_pairs(seed, n, k)
    lbfgs = LBFGS(memory=k)
    for s, y in zip(S, Y):
        assert lbfgs.update(s, y)
    dense = BFGSInverse(n, h0=lbfgs.gamma)
    for s, y in zip(S, Y):
        dense.update(s, y)
    v = np.random.default_rng(seed + 1).standard_normal(n)
    np.testing.assert_allclose(lbfgs @ v, dense @ v, rtol=1e-9, atol=1e-12)


def test_lbfgs_forgets_old_pairs():
    """With memory m only the last m pairs count: equal to a fresh memory fed those m pairs."""
    _, S, Y = curvature_pairs(0, 6, 5)
    full, short, last = LBFGS(10), LBFGS(2), LBFGS(2)
    for s, y in zip(S, Y):
        full.update(s, y), short.update(s, y)
    for s, y in zip(S[-2:], Y[-2:]):
        last.update(s, y)
    v = np.ones(6)
    np.testing.assert_allclose(short @ v, last @ v)
    assert not np.allclose(short @ v, full @ v) and len(short.pairs) == 2


def test_first_pair_scales_bfgs_by_6_20():
    _, S, Y = curvature_pairs(1, 4, 1)
    s, y = S[0], Y[0]
    H = BFGSInverse(4)
    H.update(s, y)
    H0 = (y @ s) / (y @ y) * np.eye(4)
    rho = 1 / (y @ s)
    V = np.eye(4) - rho * np.outer(y, s)
    np.testing.assert_allclose(H.H, V.T @ H0 @ V + rho * np.outer(s, s))


@pytest.mark.parametrize("Memory", [BFGSInverse, LBFGS])
def test_bfgs_skip_rule_fires_on_negative_curvature(Memory):
    """yᵀs ≤ eps‖s‖‖y‖: refused, counted, H unchanged."""
    H = Memory(3) if Memory is BFGSInverse else Memory(5)
    s, y = np.array([1.0, 0.0, 0.0]), np.array([1.0, 2.0, 0.0])
    assert H.update(s, y)
    v = np.array([0.3, -1.0, 2.0])
    before = H @ v
    assert not H.update(s, -y) and not H.update(s, np.array([0.0, 0.0, 5.0]))
    assert H.n_skipped == 2 and H.n_updates == 1
    np.testing.assert_array_equal(H @ v, before)


def test_sr1_skip_rule_fires_when_denominator_vanishes():
    """u = s − H y orthogonal to y: |yᵀu| < r‖y‖‖u‖, refused; also refused when u = 0."""
    H = SR1Inverse(3, h0=1.0)
    y = np.array([1.0, 1.0, 0.0])
    assert not H.update(y + np.array([1.0, -1.0, 0.0]), y)  # u ⟂ y
    assert not H.update(y.copy(), y)  # u = 0: secant already holds
    assert H.n_skipped == 2 and H.n_updates == 0 and H.H is None
    assert H.update(2 * y, y) and H.n_updates == 1


def test_sr1_first_pair_only_scales():
    """Without h0 the first pair sets H = (yᵀs/yᵀy) I (the rank-one update from there is degenerate)."""
    s, y = np.array([1.0, 2.0]), np.array([3.0, 1.0])
    H = SR1Inverse(2)
    assert H.update(s, y)
    np.testing.assert_allclose(H.H, (y @ s) / (y @ y) * np.eye(2))


def test_sr1_recovers_inverse_hessian_from_n_independent_steps():
    """N&W Theorem 6.1: on a quadratic, SR1 from n independent steps gives H = A⁻¹."""
    A, S, Y = curvature_pairs(2, 5, 5)
    H = SR1Inverse(5, h0=1.0)
    for s, y in zip(S, Y):
        H.update(s, y)
    np.testing.assert_allclose(H.H, np.linalg.inv(A), rtol=1e-8, atol=1e-10)


def test_bfgs_with_exact_line_search_terminates_on_a_quadratic():
    """Quadratic termination: n BFGS steps with exact line searches give x* and H = A⁻¹."""
    rng = np.random.default_rng(4)
    n = 6
    A, b = spd(rng, n), rng.standard_normal(n)
    x, H = np.zeros(n), BFGSInverse(n, h0=1.0)
    for _ in range(n):
        g = A @ x - b
        p = -(H @ g)
        t = -(g @ p) / (p @ A @ p)
        H.update(t * p, t * (A @ p))
        x = x + t * p
    np.testing.assert_allclose(x, np.linalg.solve(A, b), atol=1e-9)
    np.testing.assert_allclose(H.H, np.linalg.inv(A), atol=1e-8)


def _drive(memory, obj, x0, line_search, gtol=1e-10, max_iter=300):
    """Run the quasi-Newton loop with a given memory until ‖g‖ ≤ gtol: [(iterate, H copy)]."""
    pr = Problem(obj)
    f, g = pr.value_and_grad(x0)
    steps = quasi_newton_steps(
        pr, x0, f, g, memory, get_line_search(line_search), fallback=isinstance(memory, SR1Inverse)
    )
    run = []
    for _, it in zip(range(max_iter), steps):
        run.append((it, memory.H.copy()))
        if it.grad_norm <= gtol:
            break
    return run


def test_bfgs_stays_positive_definite_under_wolfe():
    """Strong Wolfe gives yᵀs > 0: no pair is skipped and H stays SPD all the way to x*."""
    rng = np.random.default_rng(5)
    A = spd(rng, 8, cond=1e3)
    obj = FunctionObjective(
        lambda x: 0.25 * (x @ A @ x) ** 2 + x @ x, lambda x: (x @ A @ x) * (A @ x) + 2 * x
    )
    memory = BFGSInverse(8)
    run = _drive(memory, obj, rng.standard_normal(8), "wolfe")
    assert memory.n_skipped == 0 and memory.n_updates == len(run)
    assert all(np.linalg.eigvalsh(H).min() > 0 for _, H in run)
    assert run[-1][0].grad_norm <= 1e-10 and run[-1][0].fun < 1e-18


def test_sr1_falls_back_to_steepest_descent_on_indefinite_models():
    """f = x₁⁴ − x₁² + x₂²: SR1's H turns indefinite and −H g points uphill at some iterate;
    the loop then steps along −g, and every step still decreases f down to a minimizer."""
    obj = FunctionObjective(
        lambda x: x[0] ** 4 - x[0] ** 2 + x[1] ** 2,
        lambda x: np.array([4 * x[0] ** 3 - 2 * x[0], 2 * x[1]]),
    )
    memory = SR1Inverse(2)
    run = _drive(memory, obj, np.array([0.1, 1.0]), "armijo")
    uphill = [float(it.grad @ (H @ it.grad)) < 0 for it, H in run]
    assert any(uphill)
    assert all(b.fun < a.fun for (a, _), (b, _) in zip(run, run[1:]))
    assert abs(abs(run[-1][0].x[0]) - np.sqrt(0.5)) < 1e-8 and run[-1][0].grad_norm < 1e-10


@pytest.mark.parametrize("method", ["sr1", "bfgs", "lbfgs"])
@pytest.mark.parametrize("line_search", ["armijo", "wolfe"])
def test_methods_with_both_line_searches(method, line_search):
    from scipy.optimize import rosen, rosen_der

    res = minimize(
        FunctionObjective(rosen, rosen_der),
        np.array([-1.2, 1.0]),
        method,
        line_search=line_search,
        max_iter=500,
    )
    assert res.success and np.allclose(res.x, 1.0, atol=1e-5), res


def test_memory_option_errors():
    with pytest.raises(ValueError, match="memory"):
        LBFGS(0)
    with pytest.raises(ValueError, match="h0"):
        BFGSInverse(3, h0=-1.0)
    with pytest.raises(ValueError, match="line_search"):
        minimize(
            FunctionObjective(lambda x: x @ x, lambda x: 2 * x),
            np.ones(2),
            "bfgs",
            line_search="exact",
        )


@pytest.mark.parametrize(
    "make", [lambda: BFGSInverse(5), lambda: SR1Inverse(5, h0=1.0), lambda: LBFGS(3)]
)
def test_a_snapshot_restores_the_memory_exactly(make):
    """snapshot() is plain data (what a checkpoint stores); restore() into a fresh memory gives the same H."""
    _, S, Y = curvature_pairs(3, 5, 5)
    memory = make()
    for s, y in zip(S, Y):
        memory.update(s, y)
    memory.update(np.full(5, np.nan), Y[0])  # skipped: counted
    snap = memory.snapshot()
    copy = make().restore(snap)
    v = np.arange(5.0)
    np.testing.assert_array_equal(copy @ v, memory @ v)
    assert (copy.n_updates, copy.n_skipped) == (
        memory.n_updates,
        memory.n_skipped,
    ) and memory.n_skipped >= 1
    memory.update(S[1], 2 * Y[1])
    np.testing.assert_array_equal(make().restore(snap) @ v, copy @ v)  # the snapshot did not move
