"""``numnet linear-pca`` (notes 001, Baldi–Hornik) on a reduced size, asserting its claim.

A linear autoencoder reaches the PCA subspace from every start at the PCA-optimal loss, with no
negative curvature there, while the critical point of eigenvectors {1, 3} is a saddle above it.
"""

import pytest

from numnet.experiments import linear_pca


def test_linear_autoencoder_reaches_the_pca_subspace_from_every_start():
    res = linear_pca.linear_pca_experiment(
        seed=0, n_features=5, n_components=2, n_samples=200, n_starts=4, plot=False
    )
    n = res.numbers
    assert len(n["max_angle"]) == 4
    assert max(n["max_angle"]) < 1e-6
    assert n["spurious_minima"] == 0
    assert max(abs(e) for e in n["loss_excess"]) < 1e-10 * n["pca_optimal_loss"] + 1e-14
    assert min(n["min_hessian_eig"]) > -1e-8  # no negative curvature: minima, not saddles
    lam = n["eigenvalues"]
    assert n["pca_optimal_loss"] == pytest.approx(0.5 * lam[2:].sum())
    # The critical point with eigenvectors {1, 3} is a saddle above the optimum by (λ2 − λ3)/2.
    assert n["saddle_loss_excess"] == pytest.approx(0.5 * (lam[1] - lam[2]), rel=1e-10)
    assert n["saddle_min_hessian_eig"] < -1e-3
