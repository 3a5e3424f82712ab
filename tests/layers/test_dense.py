"""numnet.layers.dense: defaults, the ``affine`` flag and argument errors of Dense and Residual.

The derivative matrix of both layers runs through ``registry.LAYERS``
(tests/layers/test_layers.py); here: what a layer built with its defaults
computes, and the exact argument errors.
"""

import numpy as np
import pytest

from numnet.activations import ACTIVATIONS
from numnet.layers import Dense, Residual


def test_affine_exactly_for_the_identity_activation():
    """affine (Z linear in (W, b), what variable projection needs) is True for "identity" only."""
    assert Dense(3, 2).affine is True and Dense(3, 2, "identity", bias=False).affine is True
    for name in ACTIVATIONS:
        assert Dense(3, 2, name).affine == (name == "identity")


def test_dense_defaults_are_identity_with_bias():
    layer = Dense(3, 2)
    rng = np.random.default_rng(31)
    theta, X = layer.init(rng, scheme="normal"), rng.standard_normal((4, 3))
    W, b = theta[:6].reshape(3, 2), theta[6:]
    assert layer.bias and layer.n_params == 8 and layer.activation.name == "identity"
    np.testing.assert_allclose(layer.forward(theta, X)[0], X @ W + b, rtol=1e-14)


def test_residual_defaults_are_tanh_with_step_one():
    layer = Residual(3)
    assert layer.step == 1.0 and layer.inner.bias and layer.inner.activation.name == "tanh"
    rng = np.random.default_rng(32)
    theta, X = layer.init(rng, scheme="normal"), rng.standard_normal((4, 3))
    W, b = theta[:9].reshape(3, 3), theta[9:]
    np.testing.assert_allclose(layer.forward(theta, X)[0], X + np.tanh(X @ W + b), rtol=1e-14)
    assert repr(layer) == "Residual(3, activation='tanh', step=1.0)"


@pytest.mark.parametrize("bias", [1, "yes", None])
def test_dense_bias_must_be_a_bool(bias):
    with pytest.raises(TypeError, match=f"^bias must be True or False, got {bias!r}$"):
        Dense(2, 2, bias=bias)


@pytest.mark.parametrize("step", ["0.5", True, None, [1.0], 1 + 0j])
def test_residual_step_must_be_a_real_number(step):
    with pytest.raises(TypeError, match=r"^step must be a number, got "):
        Residual(3, step=step)


@pytest.mark.parametrize("step", [np.inf, -np.inf, np.nan])
def test_residual_step_must_be_finite(step):
    with pytest.raises(ValueError, match="^step must be finite"):
        Residual(3, step=step)


def test_residual_accepts_numpy_and_int_steps():
    assert Residual(2, step=np.float32(0.5)).step == 0.5 and Residual(2, step=2).step == 2.0
    assert Residual(2, step=np.int64(3)).step == 3.0
