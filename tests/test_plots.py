"""numnet.plots: Agg figures saved atomically, and the one decision-region helper."""

import numpy as np

from numnet.plots import grid_points, new_figure, plot_decision_regions, save_figure


def test_grid_points_run_the_first_coordinate_fastest():
    t0, t1, P = grid_points((0.0, 1.0), (-2.0, 2.0), 5)
    assert P.shape == (25, 2) and np.array_equal(t0, np.linspace(0, 1, 5))
    np.testing.assert_array_equal(P[:5, 0], t0)
    np.testing.assert_array_equal(P[::5, 1], t1)


def test_decision_regions_image_is_the_classifier_on_the_grid(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (30, 2))
    y = (X[:, 0] > X[:, 1]).astype(int)
    seen = []

    def classify(P):
        seen.append(P.shape)
        return (P[:, 0] > P[:, 1]).astype(int)

    fig, axes = new_figure()
    ax = axes[0, 0]
    image = plot_decision_regions(ax, classify, X, y, n_grid=40, n_classes=2)
    assert seen == [(1600, 2)]
    labels = image.get_array()
    assert (
        labels.shape == (40, 40) and labels[0, -1] == 1 and labels[-1, 0] == 0
    )  # row = second coordinate
    x0, x1, y0, y1 = image.get_extent()
    assert x0 < X[:, 0].min() and x1 > X[:, 0].max() and y0 < X[:, 1].min() and y1 > X[:, 1].max()
    assert image.get_clim() == (0, 1)
    assert len(ax.collections[0].get_offsets()) == 30
    plot_decision_regions(ax, classify, X, y, extent=(-3, 3, -3, 3), n_grid=10)
    assert ax.images[-1].get_extent() == [-3.0, 3.0, -3.0, 3.0]
    path = save_figure(fig, tmp_path / "regions.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
