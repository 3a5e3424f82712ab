"""``numnet dag`` (notes 002) on a reduced size, each asserting its claim.

Chain, residual and inception networks of about equal size on spirals, their derivatives
verified; at equal passes every architecture learns and the residual network is far ahead of the
chain (ratio ≤ 0.04 at seeds 0–4 of this size, asserted ≤ 0.1); the numbers are plain JSON.
"""

import numpy as np
import pytest

from numnet.checks import check_layer
from numnet.experiments import dag

from experiment_support import assert_plain_json
from experiment_support import _one_blas_thread  # noqa: F401 (autouse fixture)


@pytest.fixture(scope="module")
def dag_result():
    return dag.dag_experiment(n_samples=400, width=12, n_modules=4, passes=120, n_seeds=2, seed=0)


def test_dag_networks_have_similar_sizes_and_verified_derivatives():
    nets = dag.dag_networks(width=6, n_modules=2)
    n = {a: net.n_params for a, net in nets.items()}
    assert n["chain"] == n["residual"]
    assert abs(n["inception"] - n["chain"]) <= 0.25 * n["chain"]
    X = np.random.default_rng(0).standard_normal((5, 2))
    for net in nets.values():
        assert check_layer(net, X, seed=1).passed


def test_dag_every_architecture_learns_and_the_residual_is_far_ahead(dag_result):
    nb = dag_result.numbers
    for a in dag.ARCHITECTURES:
        assert (
            nb[f"{a}_loss_mean"] < 0.5 < np.log(2)
        )  # from ln 2 at the start (two balanced classes)
        assert nb[f"{a}_train_accuracy_mean"] > 0.7
        assert nb[f"{a}_passes_mean"] <= 135  # the budget of 120 and at most one iteration more
    assert nb["residual_loss_mean"] < 0.1 * nb["chain_loss_mean"]
    assert nb["inception_loss_mean"] < nb["chain_loss_mean"]
    assert nb["residual_val_accuracy_mean"] > nb["chain_val_accuracy_mean"] + 0.05


def test_dag_numbers_curves_and_table(dag_result):
    nb = dag_result.numbers
    assert_plain_json(nb)
    assert all(len(nb[f"{a}_runs"]["loss"]) == 2 for a in dag.ARCHITECTURES)
    loss = nb["curves"]["residual"]["loss"]
    assert loss.shape == nb["passes_grid"].shape and loss[-1] < 0.1 * loss[0]
    assert all(a in dag_result.table for a in dag.ARCHITECTURES)
    assert set(dag_result.figures) == {"dag.png"}
