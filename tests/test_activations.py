"""numnet.activations: σ, σ′, σ″ of every registered activation.

Properties over ACTIVATIONS × DTYPES: σ′ and σ″ match finite differences,
the cheaper output forms σ′(Z), σ″(Z) equal σ′(A), σ″(A), values are
stable (no overflow warning) for |a| up to 1e4, dtypes are preserved, and
the capability flags (smooth, odd) tell the truth.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from registry import DTYPES, PROPERTY

from numnet.activations import ACTIVATIONS, Activation, get_activation
from numnet.checks import derivative_check

NAMES = sorted(ACTIVATIONS)
KINK_FREE = 1e-2  # central differences below stay this far from a = 0


def _points(seed, n=40):
    A = np.random.default_rng(seed).normal(scale=2.0, size=n)
    return A[np.abs(A) > KINK_FREE]


def _central(f, A, h=1e-6):
    return (f(A + h) - f(A - h)) / (2 * h)


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(seed=st.integers(0, 2**31 - 1))
def test_first_derivative_matches_central_differences(name, seed):
    act, A = ACTIVATIONS[name], _points(seed)
    np.testing.assert_allclose(act.df(A), _central(act.f, A), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(seed=st.integers(0, 2**31 - 1))
def test_second_derivative_matches_central_differences_of_first(name, seed):
    act, A = ACTIVATIONS[name], _points(seed)
    np.testing.assert_allclose(act.d2f(A), _central(act.df, A), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name", NAMES)
def test_taylor_test_of_sigma_and_sigma_prime(name):
    act = ACTIVATIONS[name]
    A = _points(3)
    first = derivative_check(act.f, A, lambda v: act.df(A) * v, smooth=act.smooth, h0=0.5)
    second = derivative_check(act.df, A, lambda v: act.d2f(A) * v, smooth=act.smooth, h0=0.5)
    assert first.passed, str(first)
    assert second.passed, str(second)


@pytest.mark.parametrize("name", [n for n in NAMES if ACTIVATIONS[n].df_from_output is not None])
def test_output_forms_equal_pre_activation_forms(name):
    act = ACTIVATIONS[name]
    A = np.linspace(-30, 30, 121)
    Z = act.f(A)
    np.testing.assert_allclose(act.df_from_output(Z), act.df(A), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(act.d2f_from_output(Z), act.d2f(A), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_stable_and_finite_for_large_arguments(name, dtype):
    act = ACTIVATIONS[name]
    A = np.array([-1e4, -800.0, -50.0, 0.0, 50.0, 800.0, 1e4], dtype=dtype)
    with np.errstate(all="raise", under="ignore"):  # exp(-1e4) -> 0 is exact enough
        out = [fn(A) for fn in (act.f, act.df, act.d2f)]
    for y in out:
        assert np.isfinite(y).all() and y.dtype == dtype


def test_large_argument_limits_are_exact():
    A = np.array([-1e4, 1e4])
    sig, sp = ACTIVATIONS["sigmoid"], ACTIVATIONS["softplus"]
    np.testing.assert_array_equal(sig.f(A), [0.0, 1.0])
    np.testing.assert_array_equal(sp.f(A), [0.0, 1e4])
    np.testing.assert_array_equal(sp.df(A), [0.0, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_has_relative_accuracy_in_the_negative_tail(dtype):
    A = np.array([-7.4, -16.0, -20.0, -40.0])
    exact = 1 / (1 + np.exp(-A))  # no cancellation: exp(-A) is huge, 1 + exp(-A) exact enough
    got = ACTIVATIONS["sigmoid"].f(A.astype(dtype))
    np.testing.assert_allclose(got, exact, rtol=50 * np.finfo(dtype).eps)


@pytest.mark.parametrize("name", NAMES)
def test_odd_flag_matches_symmetry(name):
    act, A = ACTIVATIONS[name], _points(5)
    assert np.allclose(act.f(-A), -act.f(A)) == act.odd


@pytest.mark.parametrize("name", NAMES)
def test_smooth_flag_is_false_exactly_when_sigma_or_sigma_prime_jumps_at_zero(name):
    act, h = ACTIVATIONS[name], np.array([1e-9, -1e-9])
    jumps = [abs(np.diff(fn(h))[0]) for fn in (act.f, act.df)]
    assert (max(jumps) < 1e-6) == act.smooth, jumps


def test_get_activation_by_name_and_passthrough():
    act = get_activation("tanh")
    assert isinstance(act, Activation) and get_activation(act) is act
    np.testing.assert_allclose(act(np.array([0.5])), np.tanh([0.5]))


@pytest.mark.parametrize("bad", ["tanhh", "", None, 3])
def test_unknown_activation_raises_naming_argument(bad):
    with pytest.raises(ValueError, match="activation must be one of"):
        get_activation(bad)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", NAMES)
def test_out_forms_write_the_same_values_into_out(name, dtype):
    act = ACTIVATIONS[name]
    A = np.random.default_rng(1).normal(scale=3.0, size=(4, 5)).astype(dtype)
    Z = act.f(A)
    assert act.writes_out
    for fn, x in [
        (act.f, A),
        (act.df, A),
        (act.d2f, A),
        (act.df_from_output, Z),
        (act.d2f_from_output, Z),
    ]:
        if fn is None:
            continue
        out = np.full_like(x, np.nan)
        got = fn(x, out=out)
        assert got is out
        np.testing.assert_array_equal(out, fn(x))
    for method, plain in [
        (act.sigma, act.f(A)),
        (act.dsigma, act.df(A)),
        (act.d2sigma, act.d2f(A)),
    ]:
        args = (A,) if method == act.sigma else (A, Z)
        np.testing.assert_allclose(
            method(*args, out=np.empty_like(A)),
            plain,
            rtol=1e-5 if dtype == np.float32 else 1e-12,
            atol=1e-6,
        )


def test_a_custom_activation_without_out_forms_still_evaluates():
    cube = Activation("cube", lambda A: A**3, lambda A: 3 * A**2, lambda A: 6 * A)
    A, buf = np.array([1.0, -2.0]), np.zeros(2)
    np.testing.assert_array_equal(cube.sigma(A, out=buf), [1.0, -8.0])
    np.testing.assert_array_equal(cube.dsigma(A, None, out=buf), [3.0, 12.0])
    assert not buf.any()  # never written: the record does not promise out=


def test_derivatives_at_the_kink_follow_pytorch():
    """At a = 0 exactly: relu′ = 0, leaky_relu′ = 0.01 (the slope), σ″ = 0 — PyTorch's convention —
    with and without ``out``."""
    A = np.array([[-1.0, 0.0, 2.0]])
    for name, want in (("relu", [0.0, 0.0, 1.0]), ("leaky_relu", [0.01, 0.01, 1.0])):
        act = ACTIVATIONS[name]
        np.testing.assert_array_equal(act.df(A), [want])
        np.testing.assert_array_equal(act.df(A, out=np.empty_like(A)), [want])
        np.testing.assert_array_equal(act.d2f(A), np.zeros_like(A))
