"""``numnet xor`` (notes 002) on a reduced size, each asserting its claim with a number.

The linear logistic model's gradient is exactly zero at the origin, where the loss is ln 2; no
linear classifier gets more than 75 % of XOR (while separable labels reach 100 %); one hidden
layer separates XOR from every start.
"""

import math

import numpy as np
import pytest

from numnet.experiments import xor


@pytest.fixture(scope="module")
def xor_result():
    return xor.xor_experiment(seed=0, n_starts=3, plot=False)


def test_xor_linear_gradient_is_exactly_zero_at_the_origin(xor_result):
    assert xor_result.numbers["grad_norm_at_zero"] == 0.0
    assert xor_result.numbers["loss_at_zero"] == pytest.approx(math.log(2), rel=1e-15)


def test_xor_linear_model_cannot_separate(xor_result):
    assert max(xor_result.numbers["linear_accuracy"]) <= 0.75
    assert xor_result.numbers["linear_accuracy_bound"] == 0.75
    assert min(xor_result.numbers["linear_loss"]) == pytest.approx(math.log(2), abs=1e-8)


def test_xor_one_hidden_layer_separates(xor_result):
    assert xor_result.numbers["hidden_accuracy"] == [1.0, 1.0, 1.0]
    assert max(xor_result.numbers["hidden_loss"]) < 1e-4


def test_linear_accuracy_bound_is_one_on_separable_points():
    X = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    assert xor.linear_accuracy_bound(X, np.array([-1, -1, 1, 1])) == 1.0  # AND-like split x1 > 0
    assert xor.linear_accuracy_bound(X, np.array([-1, 1, 1, 1])) == 1.0  # OR
