"""``numnet random-features`` (notes 000) on reduced sizes, each asserting its number.

Random features on the peaks data: the rank of σ(X Kᵀ + b) is at most n_features + 1 for the
identity and far larger for sin, tanh and relu; the smoother σ, the faster the singular values
decay (effective rank sin < tanh < relu); random features beat the linear model; and the
experiment's numbers, its width sweep and its figure.
"""

import pytest

from numnet.experiments import random_features_peaks as rfp
from numnet.random_features import random_features

from experiment_support import _close_figures, _one_blas_thread  # noqa: F401 (autouse fixtures)


@pytest.fixture(scope="module")
def peaks_data():
    return rfp.peaks_split(400, seed=0)


def test_identity_rank_is_at_most_n_features_plus_one(peaks_data):
    spectra = rfp.activation_spectra(peaks_data[0], 100, seed=0)
    assert spectra["identity"].rank <= 2 + 1
    assert spectra["identity"].rank == spectra["identity"].rank_bound == 3
    assert all(spectra[a].rank > 50 for a in ("sin", "tanh", "relu"))


def test_singular_value_decay_orders_sin_tanh_relu(peaks_data):
    """Smoother σ, faster decay: effective rank sin < tanh < relu (notes 000, module docstring)."""
    spectra = rfp.activation_spectra(peaks_data[0], 100, seed=0)
    r = {a: rfp.effective_rank(spectra[a].singular_values) for a in ("sin", "tanh", "relu")}
    assert r["sin"] + 10 < r["tanh"] < r["relu"]
    s_sin, s_relu = spectra["sin"].singular_values, spectra["relu"].singular_values
    assert s_sin[80] / s_sin[0] < 1e-3 * s_relu[80] / s_relu[0]


def test_random_features_beat_the_linear_model(peaks_data):
    errors = {
        a: rfp.fit_and_score(random_features(2, 100, a, random_state=0), peaks_data)
        for a in ("sin", "tanh", "relu", "identity")
    }
    assert errors["identity"][1] > 0.5
    for act in ("sin", "tanh", "relu"):
        train, val = errors[act]
        assert train < 0.15 and val < 0.3


def test_random_features_experiment_numbers():
    res = rfp.random_features_peaks_experiment(n_samples=300, n_hidden=60, widths=(5, 60), seed=1)
    nb = res.numbers
    assert nb["identity_rank"] <= nb["identity_rank_bound"] == 3
    assert nb["sin_effective_rank"] < nb["relu_effective_rank"]
    assert nb["tanh_sweep_train_val"].shape == (2, 2)
    assert nb["tanh_sweep_train_val"][1, 0] < nb["tanh_sweep_train_val"][0, 0]  # wider fits better
    assert "random_features.png" in res.figures
