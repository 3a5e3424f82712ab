"""``numnet landscape`` (notes 000, issue 17) on reduced sizes, each asserting its number.

The non-convex fraction on surfaces with known answers (convex, saddle, weak negative curvature,
rounding noise), the filter-normalized random directions of one layer and of every layer, and the
loss surface of a trained single layer, which passes through the trained point.
"""

import numpy as np
import pytest

from numnet.experiments import depth_landscape
from numnet.experiments import landscape as ls
from numnet.experiments import single_layer_peaks as slp

from experiment_support import _close_figures, _one_blas_thread  # noqa: F401 (autouse fixtures)


def test_nonconvex_fraction_of_convex_and_saddle_surfaces():
    t = np.linspace(-1, 1, 21)
    A, B = np.meshgrid(t, t)
    h = t[1] - t[0]
    assert ls.nonconvex_fraction(A**2 + 0.5 * B**2 + 0.3 * A * B, h, h) == 0.0
    assert ls.nonconvex_fraction(A**2 - B**2, h, h) == 1.0
    assert 0.2 < ls.nonconvex_fraction(np.cos(3 * A) + B**2, h, h) < 0.8


def _grid(n=21):
    t = np.linspace(-1, 1, n)
    A, B = np.meshgrid(t, t)
    return t, A, B, t[1] - t[0]


def test_nonconvex_fraction_counts_weak_negative_curvature():
    """S = α² + 0.01 β³: the 2 × 2 Hessian is diag(2, 0.06 β) exactly (central differences of a cubic), so
    the rows with β < 0 are non-convex: 9 of the 19 interior rows. Its negative eigenvalue is at most 0.054,
    2.7 % of the largest entry: a threshold of 1e-1 · max|H| would miss them all."""
    t, A, B, h = _grid()
    assert ls.nonconvex_fraction(A**2 + 0.01 * B**3, h, h) == pytest.approx(9 / 19, abs=1e-15)
    assert ls.nonconvex_fraction(A**2 - 1e-3 * B**2, h, h) == 1.0  # λ_min / max|H| = −1e-3


def test_nonconvex_fraction_ignores_rounding_noise_on_a_convex_surface():
    """A convex bowl plus noise of 1e-13: second differences of the noise are ~1e-11, far below 1e-8·max|H|."""
    t, A, B, h = _grid()
    noise = 1e-13 * np.random.default_rng(0).standard_normal(A.shape)
    assert ls.nonconvex_fraction(A**2 + B**2 + noise, h, h) == 0.0


def test_filter_normalized_direction_matches_unit_norms():
    prob = slp.peaks_problem(n_samples=100, n_hidden=6, seed=0)
    theta = prob.net.init(0, scheme="normal")
    d = ls.random_direction(prob.net, theta, 0, np.random.default_rng(0), filter_normalize=True)
    layer, s = prob.net.layers[0], prob.net.slices[0]
    unit_norm = lambda v: np.sqrt((layer.unpack(v)["W"] ** 2).sum(0) + layer.unpack(v)["b"] ** 2)  # noqa: E731
    np.testing.assert_allclose(unit_norm(d[s]), unit_norm(theta[s]), rtol=1e-12)
    assert np.all(d[prob.net.slices[1]] == 0)


def test_network_direction_spans_every_layer_with_unit_norms():
    net = depth_landscape.deep_network(3, 4)
    theta = net.init(0)
    d = ls.network_direction(net, theta, np.random.default_rng(0), filter_normalize=True)
    for layer, s in zip(net.layers, net.slices):
        norms = lambda v: np.sqrt((layer.unpack(v)["W"] ** 2).sum(0) + layer.unpack(v)["b"] ** 2)  # noqa: E731
        np.testing.assert_allclose(norms(d[s]), norms(theta[s]), rtol=1e-12)


def test_landscape_surface_passes_through_the_trained_point():
    res = ls.landscape_experiment(
        n_samples=150, n_hidden=6, train_iter=20, radius=2.0, n_grid=9, seed=0
    )
    nb = res.numbers
    assert nb["surface"][4, 4] == pytest.approx(nb["center_loss"], rel=1e-12)
    assert nb["min_loss"] <= nb["center_loss"] < nb["max_loss"]
    assert 0.0 < nb["nonconvex_fraction"] <= 1.0  # a single layer is not convex at this scale
