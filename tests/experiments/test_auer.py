"""``numnet auer`` (notes 001, Theorem 12.1) at reduced sizes, each asserting its claim.

Auer et al. in d dimensions: a sigmoid neuron on ⌊n/d⌋ samples per axis has ⌊n/d⌋^d local minima,
counted from a grid of starts (in one, two and three dimensions); the data put k samples on each
axis.
"""

import numpy as np

from numnet.experiments import auer


def test_auer_counts_floor_n_over_d_to_the_d_minima():
    nb = auer.auer_experiment(dims=(1, 2), per_axis=2, extra=1, plot=False).numbers
    assert (nb["n_1"], nb["counted_1"]) == (3, 3)  # d = 1: the extra sample is a third well
    assert (nb["n_2"], nb["formula_2"], nb["counted_2"]) == (5, 4, 4)
    assert nb["bad_2"] == 3 and nb["all_match"]


def test_auer_in_three_dimensions_from_a_coarse_grid():
    X, y = auer.auer_data(3, 7)
    obj = auer._objective(X, y)
    minima = auer.count_minima(obj, auer.start_grid(3, 2, points_per_decade=1))
    assert len(minima) == (7 // 3) ** 3 == 8
    w = np.array([m[0] for m in minima])
    assert (
        len({tuple(np.round(np.log10(v), 3)) for v in w}) == 8
    )  # distinct, every combination of two wells


def test_auer_data_puts_k_samples_on_each_axis():
    X, y = auer.auer_data(3, 11)
    assert X.shape == (11, 3) and np.count_nonzero(X, axis=0).tolist() == [3, 3, 3]
    assert np.all(X[9:] == 0) and np.all(y == y[0])
