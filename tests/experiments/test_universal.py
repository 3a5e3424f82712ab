"""``numnet universal`` (notes 002) on reduced sizes, each asserting its claim with a number.

The approximation error of n hidden units falls at least at the O(1/n) rate and stays below the
4 r² C(f)² / n bound in one and two dimensions; the Barron constant matches Monte Carlo, and the
ball samples lie in the ball and fill it uniformly.
"""

import numpy as np
import pytest

from numnet.experiments import universal


def test_universal_approximation_error_decreases_with_n():
    res = universal.universal_experiment(
        seed=0,
        units=(1, 2, 4, 8),
        n_train=(150, 400),
        n_test=1000,
        max_iter=200,
        n_starts=1,
        plot=False,
    )
    n = res.numbers
    for d in (1, 2):
        err = n[f"errors_{d}d"]
        assert err[-1] < err[0] / 10
        assert n[f"rate_{d}d"] < -1.0  # at least the O(1/n) rate of the bound
        assert all(e <= b for e, b in zip(err, n[f"bound_{d}d"]))
    assert "(bound: -1)" in res.table


@pytest.mark.parametrize("d", [1, 2])
def test_barron_constant_matches_monte_carlo(d):
    rng = np.random.default_rng(1)
    omega = rng.standard_normal((400_000, d))
    omega[:, 0] += 2.0
    mc = np.linalg.norm(omega, axis=1).mean()
    assert universal.barron_constant(d, 2.0) == pytest.approx(mc, rel=5e-3)


def test_ball_samples_lie_in_the_ball_and_fill_it():
    X = universal.ball_samples(5000, 2, 2.5, np.random.default_rng(0))
    r = np.linalg.norm(X, axis=1)
    assert r.max() <= 2.5
    assert np.mean(r < 2.5 / np.sqrt(2)) == pytest.approx(0.5, abs=0.03)  # uniform: half the area
