"""numnet._linalg: the dense kernels shared by variable projection, the ELM solvers and the SR1 updates."""

import numpy as np
import pytest

from numnet._linalg import psd_solver, ridge_lstsq, ridge_lstsq_intercept, spd_solve, sr1_update
from numnet.curvature import sr1_update as public_sr1_update
from numnet.optim.quasi_newton import SR1Inverse


def test_sr1_rule_is_shared_and_skips_at_equality():
    rng = np.random.default_rng(0)
    H = np.eye(4)
    s, y = rng.standard_normal(4), rng.standard_normal(4)
    new = sr1_update(H, s, y, 1e-8)
    np.testing.assert_allclose(new @ y, s, rtol=1e-12)
    np.testing.assert_array_equal(public_sr1_update(H, s, y), new)
    memory = SR1Inverse(4, h0=1.0)
    assert memory.update(s, y)
    np.testing.assert_array_equal(memory.H, new)
    # u = s − H y ⟂ y with u ≠ 0: |yᵀu| = 0 = r‖y‖‖u‖ for r = 0; both skip (no division by zero)
    u = np.array([1.0, -1.0, 0.0, 0.0])
    y = np.array([1.0, 1.0, 0.0, 0.0])
    assert sr1_update(H, y + u, y, 0.0) is None
    assert public_sr1_update(H, y + u, y, r=0.0) is H
    memory = SR1Inverse(4, h0=1.0, r=0.0)
    assert not memory.update(y + u, y) and memory.n_skipped == 1


def test_solvers_solve():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((30, 5))
    G, B = A.T @ A, rng.standard_normal((5, 2))
    np.testing.assert_allclose(G @ spd_solve(G, B), B, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(G @ psd_solver(G)(B[:, 0]), B[:, 0], rtol=1e-6)
    # singular G: the minimum-norm solution, orthogonal to the null space
    Z, Y = np.column_stack([A[:, :2], A[:, :1]]), rng.standard_normal((30, 2))
    x = spd_solve(Z.T @ Z, Z.T @ Y)
    np.testing.assert_allclose(x, np.linalg.pinv(Z) @ Y, rtol=1e-8, atol=1e-12)
    assert abs(x[0, 0] - x[2, 0]) < 1e-8


def test_ridge_solvers_agree_with_the_normal_equations():
    rng = np.random.default_rng(2)
    n, m = 40, 6
    Z, Y = rng.standard_normal((n, m)), rng.standard_normal((n, 2))
    alpha = 0.3
    A = np.hstack([Z, np.ones((n, 1))])
    d = np.r_[np.full(m, alpha), 0.0]
    expected = np.linalg.solve(A.T @ A / n + np.diag(d), A.T @ Y / n)
    np.testing.assert_allclose(ridge_lstsq(A, Y, d), expected, rtol=1e-10)
    np.testing.assert_allclose(ridge_lstsq_intercept(Z, Y, alpha, True), expected, rtol=1e-10)
    np.testing.assert_allclose(
        ridge_lstsq_intercept(Z, Y, 0.0, False), np.linalg.lstsq(Z, Y, rcond=None)[0], rtol=1e-10
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_psd_solver_keeps_the_dtype(dtype):
    H = np.diag([2.0, 1.0, 0.0]).astype(dtype)
    x = psd_solver(H)(np.array([2.0, 1.0, 0.0], dtype))
    assert x.dtype == dtype
    np.testing.assert_allclose(x[:2], [1.0, 1.0], rtol=1e-3)
