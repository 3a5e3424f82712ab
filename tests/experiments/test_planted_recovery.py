"""``numnet planted-recovery`` (notes 001, Theorem 12.2) at reduced sizes, asserting its rates.

Planted-model recovery for every task: the parameter error falls like 1/√n (a slope near −1/2)
and grows like √d, the gradient and the Hessian are preserved at that rate, and noise-free
regression recovers w* exactly.
"""

import numpy as np
import pytest

from numnet.experiments import planted_recovery


@pytest.fixture(scope="module")
def planted():
    return planted_recovery.planted_recovery_experiment(
        dims=(4, 16), sizes=(200, 800, 3200), n_seeds=10, n_population=40_000, plot=False
    ).numbers


@pytest.mark.parametrize("task", planted_recovery.TASKS)
def test_recovery_error_falls_as_one_over_root_n(planted, task):
    for d in (4, 16):
        assert -0.75 < planted[f"slope_{task}_{d}"] < -0.3, planted[f"slope_{task}_{d}"]


@pytest.mark.parametrize("task", planted_recovery.TASKS)
def test_recovery_error_grows_like_root_d(planted, task):
    ratio = np.mean(planted[f"error_{task}_16"] / planted[f"error_{task}_4"])
    assert 1.4 < ratio < 3.0, ratio  # √(16/4) = 2


@pytest.mark.parametrize("task", planted_recovery.TASKS)
def test_gradient_and_hessian_are_preserved_at_the_rate(planted, task):
    assert -0.75 < planted[f"grad_slope_{task}"] < -0.3
    assert -0.75 < planted[f"hess_slope_{task}"] < -0.3


def test_noise_free_regression_recovers_w_star_exactly():
    rng = np.random.default_rng(0)
    w = rng.standard_normal(6) / np.sqrt(6)
    X, y = planted_recovery.planted_data(300, w, "regression", rng, noise=0.0)
    assert np.linalg.norm(planted_recovery.fit_perceptron(X, y) - w) < 1e-8
