"""``numnet depth-landscape`` (notes 000) at a reduced size, asserting its claim with a threshold.

At an equal parameter count deeper networks have more non-convex points of the loss surface, at
the start and after training; the equal width matches the parameter count.
"""

from numnet.experiments import depth_landscape


def test_deeper_networks_have_more_nonconvex_points_at_equal_parameter_count():
    nb = depth_landscape.depth_landscape_experiment(
        depths=(1, 8), n_params=450, n_samples=200, n_seeds=2, train_iter=40, n_grid=13, plot=False
    ).numbers
    assert nb["n_params"] == [453, 453] and nb["widths"] == [56, 7]
    assert nb["fraction_start"][1] > nb["fraction_start"][0] + 0.2
    assert nb["fraction_trained"][1] > nb["fraction_trained"][0]


def test_equal_width_matches_the_parameter_count():
    for depth in (1, 2, 4, 8):
        w = depth_landscape.equal_width(depth, 1000)
        assert abs(depth_landscape.n_params_of(depth, w) - 1000) <= depth_landscape.n_params_of(
            depth, w + 1
        ) - depth_landscape.n_params_of(depth, w)
        assert depth_landscape.deep_network(depth, w).n_params == depth_landscape.n_params_of(
            depth, w
        )
