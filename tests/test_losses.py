"""numnet.losses: every registered loss × random outputs and valid targets.

Properties, through the public checks: grad is the derivative of value,
hvp the derivative of grad (``smooth`` capability flag for kinks), the
Hessian is symmetric positive semi-definite (all losses here are convex in
F), float32 is preserved; then known values, links, stability for large
logits and target validation naming ``Y``.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from registry import LOSSES, PROPERTY, rel_err

from numnet.checks import adjoint_check, derivative_check
from numnet.losses import LOSSES as LIBRARY_LOSSES
from numnet.losses import Hinge, Huber, Loss, SoftmaxCrossEntropy, get_loss, softmax

# Scalar Taylor tables start where the linear term dominates, so f(x+hv) - f(x) does not
# pass through 0 in the judged tail (the false negative pinned in test_checks.py).
H0 = 1e-3


def _case(name, seed, n, k, dtype=np.float64):
    rng = np.random.default_rng(seed)
    loss = LOSSES[name].make()
    Y = loss.targets(LOSSES[name].targets(rng, n, k), k, dtype)
    return rng, loss, (2 * rng.standard_normal((n, k))).astype(dtype), Y


sizes = st.tuples(st.integers(0, 2**31 - 1), st.integers(1, 7), st.integers(1, 6))


@pytest.mark.parametrize("name", LOSSES)
@PROPERTY
@given(draw=sizes)
def test_grad_is_derivative_of_value(name, draw):
    _, loss, F, Y = _case(name, *draw)
    res = derivative_check(lambda G: loss.value(G, Y), F, lambda v: np.vdot(loss.grad(F, Y), v),
                           smooth=loss.smooth, h0=H0, seed=draw[0])
    assert res.passed, str(res)


@pytest.mark.parametrize("name", LOSSES)
@PROPERTY
@given(draw=sizes)
def test_hvp_is_derivative_of_grad(name, draw):
    _, loss, F, Y = _case(name, *draw)
    res = derivative_check(lambda G: loss.grad(G, Y), F, lambda v: loss.hvp(F, Y, v),
                           smooth=loss.smooth, seed=draw[0])
    assert res.passed, str(res)


@pytest.mark.parametrize("name", LOSSES)
@PROPERTY
@given(draw=sizes)
def test_hessian_is_symmetric_positive_semidefinite(name, draw):
    rng, loss, F, Y = _case(name, *draw)
    sym = adjoint_check(lambda v: loss.hvp(F, Y, v), lambda u: loss.hvp(F, Y, u), F.shape, F.shape,
                        tol=1e-12, seed=draw[0])
    assert sym.passed, str(sym)
    V = rng.standard_normal((8,) + F.shape)
    assert min(np.vdot(v, loss.hvp(F, Y, v)) for v in V) >= -1e-14


@pytest.mark.parametrize("name", LOSSES)
@PROPERTY
@given(draw=sizes)
def test_float32_keeps_dtype_and_agrees_with_float64(name, draw):
    rng, loss, F, Y = _case(name, *draw)
    dF = rng.standard_normal(F.shape)
    F32, Y32, dF32 = F.astype(np.float32), Y.astype(np.float32), dF.astype(np.float32)
    assert loss.value(F32, Y32) == pytest.approx(loss.value(F, Y), rel=1e-4, abs=1e-6)
    for single, double in [(loss.grad(F32, Y32), loss.grad(F, Y)),
                           (loss.hvp(F32, Y32, dF32), loss.hvp(F, Y, dF))]:
        assert single.dtype == np.float32 and rel_err(single, double) < 1e-4


@pytest.mark.parametrize("name", LOSSES)
def test_mean_over_samples_and_value_and_grad(name):
    _, loss, F, Y = _case(name, 3, 5, 3)
    F2, Y2 = np.vstack([F, F]), np.vstack([Y, Y])
    assert loss.value(F2, Y2) == pytest.approx(loss.value(F, Y), rel=1e-14)
    np.testing.assert_allclose(loss.grad(F2, Y2)[:5], loss.grad(F, Y) / 2, rtol=1e-14)
    value, grad = loss.value_and_grad(F, Y)
    assert value == loss.value(F, Y) and np.array_equal(grad, loss.grad(F, Y))


@pytest.mark.parametrize("name", LOSSES)
def test_large_logits_are_stable(name):
    _, loss, F, Y = _case(name, 4, 6, 3)
    F = 1e3 * np.sign(F)
    with np.errstate(all="raise", under="ignore"):
        value, grad, hv = loss.value(F, Y), loss.grad(F, Y), loss.hvp(F, Y, F)
    assert np.isfinite(value) and np.isfinite(grad).all() and np.isfinite(hv).all()


@pytest.mark.parametrize("name, F, Y, expected", [
    ("squared_error", [[1.0, 2.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 2.0]], (5 + 4) / 2 / 2),
    ("absolute_error", [[1.0, -2.0]], [[0.0, 0.0]], 3.0),
    ("hinge", [[0.0], [2.0]], [[1.0], [-1.0]], (1 + 3) / 2),
    ("binomial", [[0.0]], [[1.0]], np.log(2)),
    ("binary_cross_entropy", [[0.0], [0.0]], [[1.0], [0.0]], np.log(2)),
    ("cross_entropy", [[0.0, 0.0, 0.0]], [2], np.log(3)),
])
def test_known_values(name, F, Y, expected):
    loss = get_loss(name)
    F = np.array(F)
    assert loss.value(F, loss.targets(Y, F.shape[1])) == pytest.approx(expected, rel=1e-14)


def test_huber_both_branches():
    loss = Huber(delta=1.0)
    F, Y = np.array([[0.5], [3.0]]), np.zeros((2, 1))
    assert loss.value(F, Y) == pytest.approx((0.125 + 2.5) / 2, rel=1e-14)
    np.testing.assert_allclose(loss.grad(F, Y), [[0.25], [0.5]])


@pytest.mark.parametrize("name", LOSSES)
def test_link_maps_to_predictions(name):
    _, loss, F, _ = _case(name, 5, 4, 3)
    P = loss.link(F)
    assert P.shape == F.shape
    if loss.name == "cross_entropy":
        np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-14)
    if loss.name in ("cross_entropy", "binomial", "binary_cross_entropy"):
        assert ((P > 0) & (P < 1)).all()
    if loss.name == "hinge":
        np.testing.assert_array_equal(P, np.sign(F))


def test_softmax_is_shift_invariant_and_stable():
    F = np.array([[1e4, 1e4 - 1, -1e4], [0.0, 1.0, 2.0]])
    with np.errstate(all="raise", under="ignore"):
        P = softmax(F)
    np.testing.assert_allclose(P.sum(axis=1), 1, rtol=1e-15)
    np.testing.assert_allclose(P[0, :2], np.exp([0, -1]) / (1 + np.exp(-1)), rtol=1e-14)
    np.testing.assert_allclose(softmax(F + 7.0), P, rtol=1e-14)


def test_registry_covers_every_library_loss():
    assert {case.make().name for case in LOSSES.values()} == set(LIBRARY_LOSSES)


def test_get_loss_by_name_instance_and_unknown():
    assert all(isinstance(get_loss(name), Loss) for name in LIBRARY_LOSSES)
    huber = Huber(0.3)
    assert get_loss(huber) is huber
    with pytest.raises(ValueError, match="loss must be one of"):
        get_loss("mse")
    with pytest.raises(ValueError, match="delta"):
        Huber(delta=0.0)


@pytest.mark.parametrize("loss, Y, k, match", [
    (SoftmaxCrossEntropy(), [0, 3], 3, r"Y labels must lie in 0..2"),
    (SoftmaxCrossEntropy(), [-1, 0], 3, "Y labels"),
    (SoftmaxCrossEntropy(), [0.5, 1.0], 3, "Y given as 1-D must hold integer class labels"),
    (SoftmaxCrossEntropy(), [[0.5, 0.6], [1.0, 0.0]], 2, "Y rows must be probabilities"),
    (SoftmaxCrossEntropy(), [[1.5, -0.5]], 2, "Y rows must be probabilities"),
    (Hinge(), [[1.0], [0.0]], 1, "Y must contain only -1 and 1"),
    (get_loss("binomial"), [[1.0], [2.0]], 1, "Y must contain only -1 and 1"),
    (get_loss("binary_cross_entropy"), [[1.5]], 1, r"Y must lie in \[0, 1\]"),
    (get_loss("squared_error"), [[1.0, 2.0]], 3, r"Y must have shape \(n_samples, 3\)"),
    (get_loss("squared_error"), [[np.nan]], 1, "Y contains NaN or inf"),
    (get_loss("squared_error"), [[np.inf]], 1, "Y contains NaN or inf"),
])
def test_invalid_targets_raise_value_error_naming_Y(loss, Y, k, match):
    with pytest.raises(ValueError, match=match):
        loss.targets(np.array(Y), k)


def test_non_numeric_targets_raise_type_error():
    with pytest.raises(TypeError, match="Y must be numeric"):
        get_loss("squared_error").targets(np.array([["a"]]), 1)


def test_targets_accept_1d_labels_and_one_column():
    T = SoftmaxCrossEntropy().targets([2, 0], 3, np.float32)
    assert T.dtype == np.float32
    np.testing.assert_array_equal(T, [[0, 0, 1], [1, 0, 0]])
    assert get_loss("hinge").targets(np.array([1, -1]), 1).shape == (2, 1)
