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
    res = derivative_check(
        lambda G: loss.value(G, Y),
        F,
        lambda v: np.vdot(loss.grad(F, Y), v),
        smooth=loss.smooth,
        h0=H0,
        seed=draw[0],
    )
    assert res.passed, str(res)


@pytest.mark.parametrize("name", LOSSES)
@PROPERTY
@given(draw=sizes)
def test_hvp_is_derivative_of_grad(name, draw):
    _, loss, F, Y = _case(name, *draw)
    res = derivative_check(
        lambda G: loss.grad(G, Y), F, lambda v: loss.hvp(F, Y, v), smooth=loss.smooth, seed=draw[0]
    )
    assert res.passed, str(res)


@pytest.mark.parametrize("name", LOSSES)
@PROPERTY
@given(draw=sizes)
def test_hessian_is_symmetric_positive_semidefinite(name, draw):
    rng, loss, F, Y = _case(name, *draw)
    sym = adjoint_check(
        lambda v: loss.hvp(F, Y, v),
        lambda u: loss.hvp(F, Y, u),
        F.shape,
        F.shape,
        tol=1e-12,
        seed=draw[0],
    )
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
    for single, double in [
        (loss.grad(F32, Y32), loss.grad(F, Y)),
        (loss.hvp(F32, Y32, dF32), loss.hvp(F, Y, dF)),
    ]:
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


@pytest.mark.parametrize(
    "name, F, Y, expected",
    [
        ("squared_error", [[1.0, 2.0], [0.0, 0.0]], [[0.0, 0.0], [0.0, 2.0]], (5 + 4) / 2 / 2),
        ("absolute_error", [[1.0, -2.0]], [[0.0, 0.0]], 3.0),
        ("hinge", [[0.0], [2.0]], [[1.0], [-1.0]], (1 + 3) / 2),
        ("binomial", [[0.0]], [[1.0]], np.log(2)),
        ("binary_cross_entropy", [[0.0], [0.0]], [[1.0], [0.0]], np.log(2)),
        ("cross_entropy", [[0.0, 0.0, 0.0]], [2], np.log(3)),
    ],
)
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


def test_huber_values_away_from_delta_one_and_default_delta():
    """ρ(r) = ½r² inside, δ(|r| − δ/2) outside, for δ = 0.5 (where δ/2 ≠ 1/(2δ)); the default δ is 1."""
    loss = Huber(delta=0.5)
    F, Y = np.array([[0.25, -2.0]]), np.zeros((1, 2))
    assert loss.value(F, Y) == pytest.approx(0.5 * 0.25**2 + 0.5 * (2.0 - 0.25), rel=1e-14)
    assert Huber().delta == 1.0


def test_kink_conventions_are_the_documented_ones():
    """At the kink itself: Huber's Hessian is 1{|r| ≤ δ}, the hinge subgradient −y 1{yF < 1}."""
    huber, dF = Huber(delta=0.5), np.ones((1, 3))
    F, Y = np.array([[0.5, -0.5, 0.75]]), np.zeros((1, 3))
    np.testing.assert_array_equal(huber.hvp(F, Y, dF), [[1.0, 1.0, 0.0]])
    np.testing.assert_array_equal(huber.grad(F, Y), [[0.5, -0.5, 0.5]])
    hinge = Hinge()
    F, Y = np.array([[1.0, -1.0, 0.5]]), np.array([[1.0, -1.0, 1.0]])
    np.testing.assert_array_equal(hinge.grad(F, Y), [[0.0, 0.0, -1.0]])


def test_links_are_the_probabilities_of_the_fused_losses():
    """P(y = 1) = σ(2F) for the binomial loss (y ∈ {−1, 1}), σ(F) for binary cross-entropy."""
    F = np.array([[-1.5, 0.0, 0.25], [2.0, -0.5, 1.0]])
    sig = lambda t: 1 / (1 + np.exp(-t))  # noqa: E731
    np.testing.assert_allclose(get_loss("binomial").link(F), sig(2 * F), rtol=1e-14)
    np.testing.assert_allclose(get_loss("binary_cross_entropy").link(F), sig(F), rtol=1e-14)


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


@pytest.mark.parametrize(
    "loss, Y, k, match",
    [
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
    ],
)
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


# ------------------------------------------------ precision of values (issue 18, item 10)


def _mp_cross_entropy(F, labels):
    """Mean softmax cross-entropy of float64 logits F at integer labels, in 50-digit arithmetic."""
    import mpmath as mp

    with mp.workdps(50):
        rows = [
            mp.log(mp.fsum(mp.exp(mp.mpf(float(f))) for f in row)) - mp.mpf(float(row[k]))
            for row, k in zip(F, labels)
        ]
        return float(mp.fsum(rows) / len(rows))


@pytest.mark.parametrize("k", [2, 3, 10])
@pytest.mark.parametrize("level", [1e16, -1e16, 1e300])
def test_cross_entropy_of_equal_huge_logits_is_ln_k(k, level):
    loss = SoftmaxCrossEntropy()
    F = np.full((3, k), level)
    for Y in (loss.targets(np.arange(3) % k, k), np.eye(k)[np.arange(3) % k]):
        assert loss.value(F, Y) == pytest.approx(np.log(k), rel=1e-15)
        assert loss.value_and_grad(F, Y)[0] == pytest.approx(np.log(k), rel=1e-15)


@pytest.mark.parametrize("level", [1e4, -1e4, 1e8])
@pytest.mark.parametrize("margin", [None, 8.0, 25.0])
def test_cross_entropy_near_large_logits_matches_mpmath(level, margin):
    """Random labels, or labels at the row maximum raised by a margin (a loss of 1e-3 … 1e-10)."""
    rng = np.random.default_rng(18)
    F = level + rng.standard_normal((7, 4))
    labels = rng.integers(0, 4, 7)
    if margin is not None:
        labels = F.argmax(axis=1)
        F[np.arange(7), labels] += margin
    expected = _mp_cross_entropy(F, labels)
    loss = SoftmaxCrossEntropy()
    assert abs(loss.value(F, loss.targets(labels, 4)) - expected) <= 1e-12 * expected


def test_cross_entropy_float32_near_1e4_stays_float32_accurate():
    rng = np.random.default_rng(3)
    F = (1e4 + rng.standard_normal((5, 3))).astype(np.float32)
    labels = rng.integers(0, 3, 5)
    loss = SoftmaxCrossEntropy()
    Y = loss.targets(labels, 3, np.float32)
    expected = _mp_cross_entropy(F.astype(np.float64), labels)
    assert abs(loss.value(F, Y) - expected) <= 1e-5 * expected
    assert loss.grad(F, Y).dtype == np.float32


def test_cross_entropy_with_probability_rows_keeps_value_consistent():
    """Rows summing to 1 up to 1e-7 are accepted; the value stays ln s − Σ T F exactly as the gradient assumes."""
    loss = SoftmaxCrossEntropy()
    F = np.array([[3.0, 1.0, -2.0]])
    T = np.array([[0.5, 0.3, 0.2 - 1e-7]])
    lse = np.log(np.exp(F).sum())
    assert loss.value(F, loss.targets(T, 3)) == pytest.approx(lse - float(T[0] @ F[0]), rel=1e-14)


@pytest.mark.parametrize(
    "F, Y, expected",
    [
        (
            [[1e308], [-1e308]],
            [[0.0], [1.0]],
            1e308,
        ),  # each term 1e308: the sum overflows, the mean does not
        ([[1.5e308], [1.5e308]], [[0.0], [0.0]], 1.5e308),
        ([[1e308], [-1e308]], [[1.0], [0.0]], 0.0),
        ([[-1e308]], [[0.5]], 0.5e308),
    ],
)
def test_binary_cross_entropy_on_extreme_logits_is_finite(F, Y, expected):
    loss = get_loss("binary_cross_entropy")
    F = np.array(F)
    with np.errstate(all="raise", under="ignore"):
        value = loss.value(F, loss.targets(Y, 1))
    assert value == pytest.approx(expected, rel=1e-15, abs=0)


@pytest.mark.parametrize("f", [40.0, 700.0, -40.0])
def test_binary_cross_entropy_keeps_relative_accuracy_of_tiny_losses(f):
    """softplus(F) − F cancels to 0 for F = 40, y = 1; the value is log1p(e^−F) = 4.25e-18."""
    import mpmath as mp

    loss = get_loss("binary_cross_entropy")
    y = 1.0 if f > 0 else 0.0
    expected = float(mp.log1p(mp.exp(-abs(mp.mpf(f)))))
    assert loss.value(np.array([[f]]), np.array([[y]])) == pytest.approx(expected, rel=1e-14)


def test_binomial_on_extreme_logits_is_finite():
    loss = get_loss("binomial")
    F, Y = np.array([[-4e307], [-4e307]]), np.array([[1.0], [1.0]])
    assert loss.value(F, Y) == pytest.approx(8e307, rel=1e-15)


# ------------------------------------------------ target conversion and exact messages


def test_repr_is_the_class_name_or_its_parameters():
    assert repr(get_loss("squared_error")) == "LeastSquares()"
    assert repr(Hinge()) == "Hinge()" and repr(SoftmaxCrossEntropy()) == "SoftmaxCrossEntropy()"
    assert repr(Huber(0.5)) == "Huber(delta=0.5)"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", LOSSES)
def test_targets_are_returned_in_the_requested_dtype(name, dtype):
    """Valid targets of every kind (labels, ±1, probabilities) come back in ``dtype``, values kept."""
    rng = np.random.default_rng(3)
    raw = LOSSES[name].targets(rng, 4, 3)
    loss = LOSSES[name].make()
    T = loss.targets(raw, 3, dtype)
    assert T.dtype == dtype and T.shape == (4, 3)
    np.testing.assert_array_equal(T, loss.targets(raw, 3).astype(dtype))


def test_integral_float_labels_are_class_labels():
    """1-D float labels with integer values are accepted as class labels (one-hot rows)."""
    T = SoftmaxCrossEntropy().targets(np.array([2.0, 0.0, 1.0]), 3)
    np.testing.assert_array_equal(T, np.eye(3)[[2, 0, 1]])


def test_probability_rows_are_accepted_within_the_documented_tolerance():
    """Row sums within 1e-6 + 1e-5 of 1 are probabilities (float32-rounded rows pass)."""
    loss = SoftmaxCrossEntropy()
    loss.targets(np.array([[0.5, 0.5 + 1.05e-5]]), 2)
    with pytest.raises(ValueError, match="Y rows must be probabilities"):
        loss.targets(np.array([[0.5, 0.5 + 1.2e-5]]), 2)


@pytest.mark.parametrize(
    "loss, Y, k, match",
    [
        (SoftmaxCrossEntropy(), [0.5, 1.0], 3, r"^Y given as 1-D must hold integer class labels$"),
        (
            SoftmaxCrossEntropy(),
            [[1.5, -0.5]],
            2,
            r"^Y rows must be probabilities \(non-negative, summing to 1\)$",
        ),
        (Hinge(), [[1.0], [0.0]], 1, r"^Y must contain only -1 and 1 for Hinge\(\)$"),
        (get_loss("binomial"), [[2.0]], 1, r"^Y must contain only -1 and 1 for Binomial\(\)$"),
        (get_loss("squared_error"), [[np.nan]], 1, r"^Y contains NaN or inf$"),
    ],
)
def test_invalid_target_messages_are_exact(loss, Y, k, match):
    with pytest.raises(ValueError, match=match):
        loss.targets(np.array(Y), k)


def test_invalid_delta_message_names_delta():
    with pytest.raises(ValueError, match=r"^delta must be a positive finite number, got 0\.0$"):
        Huber(delta=0.0)


@pytest.mark.parametrize("name, F", [("binomial", 372.0), ("binary_cross_entropy", 744.0)])
def test_mean_of_equal_subnormal_terms_is_that_term(name, F):
    """A mean of n equal tiny per-sample losses is that loss (the sum is divided once, so
    subnormal terms are not rounded away one by one)."""
    loss = get_loss(name)
    one = loss.value(np.array([[F]]), np.ones((1, 1)))
    assert 0 < one < 1e-320
    assert loss.value(np.full((3, 1), F), np.ones((3, 1))) == one
