"""numnet.regularizers: every registered regularizer on every registered layer.

grad is the derivative of value, hvp the derivative of grad (``smooth``
flag for L1), the Hessian is symmetric PSD, masks leave the masked entries
alone, L1's prox is soft thresholding and minimizes its prox objective.
"""

import numpy as np
import pytest
from hypothesis import given
from registry import LAYERS, PROPERTY, REGULARIZERS, Shape, data, shapes

from numnet.checks import adjoint_check, derivative_check
from numnet.regularizers import (
    GeneralizedTikhonov,
    L1Penalty,
    Tikhonov,
    get_regularizer,
)

# Scalar Taylor tables start where the linear term dominates, so f(x+hv) - f(x) does not
# pass through 0 in the judged tail (the false negative pinned in test_checks.py).
H0 = 1e-3
ACTIVE = [name for name in REGULARIZERS if name != "none"]


def _setup(reg_name, layer_name, s):
    net = LAYERS[layer_name]("tanh", s)
    rng, theta, _ = data(net, s)
    return rng, net, theta, REGULARIZERS[reg_name](net, rng)


@pytest.mark.parametrize("layer_name", LAYERS)
@pytest.mark.parametrize("reg_name", ACTIVE)
@PROPERTY
@given(s=shapes())
def test_grad_and_hvp_are_derivatives(reg_name, layer_name, s):
    rng, net, theta, reg = _setup(reg_name, layer_name, s)
    reg.check(net.n_params)
    g = derivative_check(
        reg.value,
        theta,
        lambda v: np.vdot(reg.grad(theta), v),
        smooth=reg.smooth,
        h0=H0,
        seed=s.seed,
    )
    h = derivative_check(
        reg.grad, theta, lambda v: reg.hvp(theta, v), smooth=reg.smooth, seed=s.seed
    )
    assert g.passed, str(g)
    assert h.passed, str(h)
    sym = adjoint_check(
        lambda v: reg.hvp(theta, v),
        lambda u: reg.hvp(theta, u),
        theta.shape,
        theta.shape,
        tol=1e-12,
        seed=s.seed,
    )
    v = rng.standard_normal(theta.shape)
    assert sym.passed and v @ reg.hvp(theta, v) >= 0


@pytest.mark.parametrize("reg_name", ACTIVE)
def test_float32_is_preserved(reg_name):
    theta, reg = _setup(reg_name, "mlp3", Shape(3, 2, 3, 2, 0))[2:]
    t32 = theta.astype(np.float32)
    assert reg.grad(t32).dtype == np.float32 and reg.hvp(t32, t32).dtype == np.float32
    assert reg.value(t32) == pytest.approx(reg.value(theta), rel=1e-5)


def test_tikhonov_values_and_mask():
    theta = np.array([1.0, -2.0, 3.0])
    mask = np.array([True, False, True])
    assert Tikhonov(0.5).value(theta) == pytest.approx(0.25 * 14)
    reg = Tikhonov(0.5, mask=mask)
    assert reg.value(theta) == pytest.approx(0.25 * 10)
    np.testing.assert_array_equal(reg.grad(theta), [0.5, 0.0, 1.5])
    np.testing.assert_array_equal(reg.hvp(theta, np.ones(3)), [0.5, 0.0, 0.5])


def test_generalized_tikhonov_with_identity_equals_tikhonov():
    theta = np.random.default_rng(0).standard_normal(6)
    a, b = GeneralizedTikhonov(0.3, np.eye(6)), Tikhonov(0.3)
    assert a.value(theta) == pytest.approx(b.value(theta), rel=1e-14)
    np.testing.assert_allclose(a.grad(theta), b.grad(theta), rtol=1e-14)
    np.testing.assert_allclose(a.hvp(theta, theta[::-1]), b.hvp(theta, theta[::-1]), rtol=1e-14)


def test_l1_prox_is_soft_thresholding_and_respects_mask():
    theta = np.array([3.0, -0.05, -2.0, 0.5])
    reg = L1Penalty(0.1, mask=np.array([True, True, True, False]))
    np.testing.assert_allclose(reg.prox(theta, 1.0), [2.9, 0.0, -1.9, 0.5], rtol=1e-15)
    assert reg.value(theta) == pytest.approx(0.1 * 5.05)
    np.testing.assert_array_equal(reg.grad(theta), [0.1, -0.1, -0.1, 0.0])


def test_l1_prox_minimizes_the_prox_objective(rng):
    theta, step = rng.standard_normal(8), 0.7
    reg = L1Penalty(0.4)
    p = reg.prox(theta, step)
    obj = lambda z: 0.5 * np.sum((z - theta) ** 2) + step * reg.value(z)
    assert all(obj(p) <= obj(p + 1e-3 * rng.standard_normal(8)) for _ in range(50))


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: Tikhonov(-1.0), "lam"),
        (lambda: Tikhonov(np.nan), "lam"),
        (lambda: L1Penalty(np.inf), "lam"),
        (lambda: GeneralizedTikhonov(-0.1, np.eye(2)), "lam"),
    ],
)
def test_invalid_lambda_names_the_argument(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_shape_checks_name_the_argument():
    with pytest.raises(ValueError, match=r"mask must have shape \(5,\)"):
        Tikhonov(0.1, mask=np.ones(4, bool)).check(5)
    with pytest.raises(ValueError, match="L must have 5 columns"):
        GeneralizedTikhonov(0.1, np.eye(4)).check(5)


def test_get_regularizer():
    reg = L1Penalty(0.1)
    assert get_regularizer(None) is None and get_regularizer(reg) is reg
    assert isinstance(get_regularizer(0.5), Tikhonov) and get_regularizer(0.5).lam == 0.5
    with pytest.raises(TypeError, match="regularizer must be None"):
        get_regularizer("l2")


@pytest.mark.parametrize("masked", [False, True])
def test_tikhonov_diagonal_is_the_diagonal_of_its_hessian(masked):
    """``diagonal(n)`` equals the diagonal of the Hessian that ``hvp`` applies, column by column."""
    n = 7
    reg = Tikhonov(0.3, mask=np.arange(n) % 3 != 0) if masked else Tikhonov(0.3)
    H = np.column_stack([reg.hvp(np.zeros(n), e) for e in np.eye(n)])
    d = reg.diagonal(n)
    assert d.shape == (n,) and d.dtype == np.float64
    np.testing.assert_array_equal(d, np.diag(H))
    np.testing.assert_array_equal(H, np.diag(d))


def test_default_lambda_and_repr():
    assert Tikhonov().lam == 1e-4 and L1Penalty().lam == 1e-4
    assert repr(Tikhonov(0.5)) == "Tikhonov(lam=0.5)" and repr(L1Penalty(2)) == "L1Penalty(lam=2.0)"


@pytest.mark.parametrize("make", [Tikhonov, L1Penalty])
def test_mask_is_converted_to_booleans(make):
    """A mask given as numbers means "nonzero entries are regularized" and keeps float32."""
    reg, ref = make(0.5, mask=[1, 0, 0.5]), make(0.5, mask=np.array([True, False, True]))
    assert reg.mask.dtype == bool
    theta = np.array([1.0, -2.0, 3.0], np.float32)
    assert reg.value(theta) == ref.value(theta)
    for a, b in (
        (reg.grad(theta), ref.grad(theta)),
        (reg.hvp(theta, theta), ref.hvp(theta, theta)),
    ):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a, b)


def test_invalid_lambda_message_is_exact():
    with pytest.raises(ValueError, match=r"^lam must be a non-negative finite number, got -1\.0$"):
        Tikhonov(-1.0)
