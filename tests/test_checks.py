"""numnet.checks: the public derivative check, adjoint test and check_layer.

A check is only worth having if it fails on wrong derivatives: each
"passes" test here has a twin that feeds a slightly wrong product.
"""

import numpy as np
import pytest
from registry import LAYERS, Shape, data

from numnet.checks import DerivativeCheck, adjoint_check, check_layer, derivative_check
from numnet.layers import Dense

M = np.random.default_rng(0).standard_normal((5, 4))


def _f(x):
    return np.tanh(M @ x) + x[0] * x[1]


def _jvp(x):
    return lambda v: (1 - np.tanh(M @ x) ** 2) * (M @ v) + v[0] * x[1] + x[0] * v[1]


def test_derivative_check_passes_with_orders_one_and_two():
    x = np.linspace(-1, 1, 4)
    res = derivative_check(_f, x, _jvp(x))
    assert res.passed
    tail = slice(-6, None)
    assert np.nanmedian(res.order0[tail]) == pytest.approx(1, abs=0.1)
    assert np.nanmedian(res.order1[:6]) == pytest.approx(2, abs=0.2)


@pytest.mark.parametrize("scale", [1.01, 0.99, -1.0, 0.0])
def test_derivative_check_fails_for_scaled_jvp(scale):
    x = np.linspace(-1, 1, 4)
    jvp = _jvp(x)
    assert not derivative_check(_f, x, lambda v: scale * jvp(v)).passed


def test_derivative_check_fails_for_jvp_of_another_direction():
    x = np.linspace(-1, 1, 4)
    jvp = _jvp(x)
    assert not derivative_check(_f, x, lambda v: jvp(v[::-1])).passed


def test_derivative_check_accepts_a_linear_map_as_exact():
    x = np.arange(4.0)
    res = derivative_check(lambda y: M @ y, x, lambda v: M @ v)
    assert res.passed and res.E1.max() < 1e-12 * res.E0.max()


def test_nonsmooth_check_judges_first_order_only():
    x = np.array([0.3, -0.2, 1.0, -1.5])
    res = derivative_check(np.abs, x, lambda v: np.sign(x) * v, smooth=False)
    assert res.passed
    assert not derivative_check(np.abs, x, lambda v: 1.01 * np.sign(x) * v, smooth=False).passed


def test_table_prints_one_row_per_step_and_the_verdict():
    x = np.linspace(-1, 1, 4)
    res = derivative_check(_f, x, _jvp(x), n_steps=6, name="tanh-net")
    lines = str(res).splitlines()
    assert isinstance(res, DerivativeCheck) and len(lines) == 2 + 6
    assert "tanh-net" in lines[0] and "passed" in lines[0]
    assert "|f(x+hv)-f(x)-hJv|" in lines[1]
    bad = derivative_check(_f, x, lambda v: 1.01 * _jvp(x)(v))
    assert "FAILED" in str(bad).splitlines()[0]


def test_adjoint_check_passes_for_transpose_and_fails_for_wrong_vjp():
    good = adjoint_check(lambda v: M @ v, lambda u: M.T @ u, (4,), (5,))
    assert good.passed and good.rel_error < 1e-14 and "passed" in str(good)
    M2 = M.copy()
    M2[2, 1] += 1e-6
    bad = adjoint_check(lambda v: M @ v, lambda u: M2.T @ u, (4,), (5,))
    assert not bad.passed and "FAILED" in str(bad)


def test_adjoint_check_float32_default_tolerance():
    M32 = M.astype(np.float32)
    res = adjoint_check(lambda v: M32 @ v, lambda u: M32.T @ u, (4,), (5,), dtype=np.float32)
    assert res.passed and res.tol == pytest.approx(1e3 * np.finfo(np.float32).eps)


def test_check_layer_reports_four_checks_that_all_pass():
    layer = Dense(3, 2, "tanh")
    res = check_layer(layer, np.random.default_rng(1).standard_normal((4, 3)))
    assert res.passed and len(res.results) == 4
    assert str(res).count("passed") == 4


class _WrongVjp(Dense):
    """A Dense layer whose vjp forgets σ′: check_layer must catch it."""

    def vjp(self, theta, cache, gZ, **kw):
        gtheta = self._param_grad(cache.X, gZ, None)
        return gtheta, gZ @ self.unpack(theta)["W"].T


class _WrongRop(Dense):
    """A Dense layer whose rop drops the σ″ term."""

    def rop(self, theta, cache, dtheta, dX, gZ, dgZ, **kw):
        Rg, RgX = super().rop(theta, cache, dtheta, dX, 0 * gZ, dgZ, **kw)
        return Rg, RgX


@pytest.mark.parametrize("cls, broken", [(_WrongVjp, 1), (_WrongRop, 2)])
def test_check_layer_fails_on_a_broken_product(cls, broken):
    res = check_layer(cls(3, 2, "tanh"), np.random.default_rng(1).standard_normal((4, 3)))
    assert not res.passed
    assert not res.results[broken].passed and res.results[0].passed


def test_adjoint_check_is_not_fooled_by_cancellation_in_u_Jv():
    s = Shape(n_samples=7, d_in=4, hidden=5, d_out=6, seed=7)
    layer = LAYERS["mlp3"]("sigmoid", s)
    _, theta, X = data(layer, s)
    assert check_layer(layer, X, theta, seed=s.seed).passed


def test_correct_gradient_near_a_minimum_passes_with_default_steps():
    x = np.full(4, 1e-3)
    assert derivative_check(lambda y: 0.5 * y @ y, x, lambda v: x @ v).passed


def test_correct_gradient_near_a_minimum_passes_from_a_small_first_step():
    x = np.full(4, 1e-3)
    assert derivative_check(lambda y: 0.5 * y @ y, x, lambda v: x @ v, h0=1e-4).passed


def test_correct_quadratic_gradient_passes_with_default_steps():
    rng = np.random.default_rng(75)  # the registry's squared_error case with seed 75, n=5, k=2
    rng.integers(1, 8), rng.integers(1, 7)
    Y = rng.standard_normal((5, 2))
    F = 2 * rng.standard_normal((5, 2))
    f = lambda G: 0.5 * np.sum((G - Y) ** 2) / 5
    assert derivative_check(f, F, lambda v: np.vdot(F - Y, v) / 5, seed=75).passed
