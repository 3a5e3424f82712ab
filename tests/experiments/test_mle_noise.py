"""``numnet mle-noise`` (notes 004) on a reduced size, each asserting its claim with a number.

The maximum-likelihood noise precision β matches the true precision within sampling error for
1-D and K-dimensional regression, and its interval has the coverage it claims.
"""

import numpy as np
import pytest
from scipy import stats

from numnet.experiments import mle_noise


def test_beta_ml_matches_the_true_precision_within_sampling_error():
    res = mle_noise.mle_noise_experiment(
        seed=0, beta=25.0, n_samples=1000, n_replicates=1, max_iter=800, plot=False
    )
    n = res.numbers
    for case in ("1d", "kd"):
        assert n[f"within_{case}"]
        assert abs(n[f"z_{case}"]) < 3
        lo, hi = n[f"interval_{case}"]
        assert lo < 25.0 < hi


def test_beta_interval_has_its_coverage():
    rng = np.random.default_rng(0)
    dof, beta = 300, 4.0
    draws = beta * dof / rng.chisquare(dof, size=200_000)
    lo, hi = mle_noise.beta_interval(beta, dof, n_sigma=2.0)
    assert np.mean((draws >= lo) & (draws <= hi)) == pytest.approx(
        1 - 2 * stats.norm.sf(2.0), abs=3e-3
    )
