"""``numnet perceptron`` (notes 001) on reduced sizes, each asserting its claim with a number.

The Auer et al. construction has one local minimum per sample (wells merge when the samples are
close), the minimum counter refuses more than one parameter, and the delta rule recovers w*.
"""

import numpy as np
import pytest

from numnet import Dense, Objective, Sequential
from numnet.experiments import perceptron


@pytest.mark.parametrize("n", [1, 3, 5])
def test_auer_construction_has_one_local_minimum_per_sample(n):
    minima = perceptron.count_local_minima(perceptron.auer_objective(*perceptron.auer_samples(n)))
    assert len(minima) == n
    assert all(h > 0 for _, _, h in minima)
    values = [v for _, v, _ in minima]
    assert np.all(np.diff(values) > 0)  # distinct minima: all but the first are bad


def test_auer_wells_merge_when_the_samples_are_close():
    # The count is a measurement: with minimizers only 1.5x apart the wells overlap and merge.
    minima = perceptron.count_local_minima(
        perceptron.auer_objective(*perceptron.auer_samples(5, ratio=1.5))
    )
    assert len(minima) < 5


def test_count_local_minima_rejects_many_parameters():
    obj = Objective(Sequential([Dense(2, 1)]), "squared_error", np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="one parameter"):
        perceptron.count_local_minima(obj)


def test_perceptron_experiment_counts_minima_and_recovers_w_star():
    res = perceptron.perceptron_experiment(
        seed=1, n_minima=4, n_samples=200, n_features=5, epochs=12, plot=False
    )
    assert res.numbers["auer_local_minima"] == res.numbers["auer_samples"] == 4
    assert res.numbers["auer_bad_minima"] == 3
    errors = res.numbers["recovery_error"]
    assert errors[0] == 1.0 and len(errors) == 13
    assert res.numbers["final_recovery_error"] < 1e-3
    assert errors[-1] < errors[len(errors) // 2] < errors[0]
