"""``numnet rnn`` (notes 002) on a reduced size, each asserting its claim.

The adding problem has one marker per half; the unrolled RNN and the MLP of its size have verified
derivatives; on held-out sequences the RNN reaches a small error that the MLP does not come near,
with Adam and with Gauss-Newton; the numbers are plain JSON.
"""

import numpy as np
import pytest

from numnet.checks import check_layer
from numnet.experiments import rnn

from experiment_support import assert_plain_json
from experiment_support import _one_blas_thread  # noqa: F401 (autouse fixture)


@pytest.fixture(scope="module")
def rnn_result():
    return rnn.rnn_experiment(
        n_steps=6,
        n_hidden=4,
        n_train=300,
        n_test=500,
        passes=150,
        n_seeds=2,
        seed=0,
        methods=("adam", "gauss-newton"),
    )


def test_adding_problem_has_one_marker_per_half():
    X, y = rnn.adding_problem(50, 8, np.random.default_rng(1))
    u, m = X.reshape(50, 8, 2)[..., 0], X.reshape(50, 8, 2)[..., 1]
    np.testing.assert_array_equal(m[:, :4].sum(1), 1)
    np.testing.assert_array_equal(m[:, 4:].sum(1), 1)
    np.testing.assert_allclose(y[:, 0], (u * m).sum(1))


def test_rnn_and_mlp_have_similar_sizes_and_verified_derivatives():
    nets = rnn.rnn_and_mlp(6, 4)
    assert abs(nets["mlp"].n_params - nets["rnn"].n_params) <= 0.25 * nets["rnn"].n_params
    X, _ = rnn.adding_problem(4, 6, np.random.default_rng(2))
    for net in nets.values():
        assert check_layer(net, X, seed=3).passed


def test_rnn_beats_the_mlp_of_its_size_on_held_out_sequences(rnn_result):
    nb = rnn_result.numbers
    for m in ("adam", "gauss-newton"):
        assert nb[f"rnn_{m}_test_nmse_mean"] < 0.1  # the mean predictor scores 1
        assert nb[f"mlp_{m}_test_nmse_mean"] > 0.4
    assert nb["best_rnn_test_nmse"] < 0.05 * nb["best_mlp_test_nmse"]
    assert (
        nb["rnn_gauss-newton_test_within_0.04_mean"]
        > 3 * nb["mlp_gauss-newton_test_within_0.04_mean"]
    )


def test_rnn_numbers_curves_and_table(rnn_result):
    nb = rnn_result.numbers
    assert_plain_json(nb)
    assert set(nb["curves"]) == {"rnn_adam", "rnn_gauss-newton", "mlp_adam", "mlp_gauss-newton"}
    assert all(nb[f"rnn_{m}_passes_mean"] >= 150 for m in ("adam", "gauss-newton"))
    assert "gauss-newton" in rnn_result.table and set(rnn_result.figures) == {"rnn.png"}
