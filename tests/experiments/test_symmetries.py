"""``numnet symmetries`` (notes 004) on a reduced size, each asserting its claim with a number.

All 2^M M! sign and permutation transforms of a tanh layer keep the outputs and gradients; sign
flips break relu while permutations do not; a transformed minimum is equivalent but separated by a
barrier; sampled transforms are distinct, and the transform validates its arguments.
"""

import math

import numpy as np
import pytest

from numnet.experiments import symmetries


@pytest.fixture(scope="module")
def sym_result():
    return symmetries.symmetries_experiment(seed=0, n_hidden=4, n_transforms=1000, plot=False)


def test_all_sign_permutation_transforms_keep_the_outputs(sym_result):
    n = sym_result.numbers
    assert n["n_symmetries"] == 2**4 * math.factorial(4) == 384
    assert n["n_checked"] == n["n_distinct"] == 384
    assert n["max_output_change"] <= 1e-12
    assert n["max_grad_change"] <= 1e-12


def test_sign_flips_break_relu_but_permutations_do_not(sym_result):
    assert sym_result.numbers["relu_max_output_change"] > 1e-2
    assert sym_result.numbers["relu_perm_output_change"] <= 1e-12


def test_transformed_minimum_is_equivalent_with_a_barrier(sym_result):
    assert sym_result.numbers["path_end_difference"] <= 1e-12
    assert sym_result.numbers["path_barrier"] > 1e-4


def test_sampled_transforms_are_distinct_when_not_enumerated():
    rng = np.random.default_rng(0)
    ts = symmetries.sample_transforms(6, 50, rng)
    assert len(ts) == 50 and len({p.tobytes() + s.tobytes() for p, s in ts}) == 50
    assert symmetries.n_symmetries(6) == 46080


def test_hidden_unit_transform_validates_its_arguments():
    net = symmetries._net(2, 3, 1, "tanh")
    theta = net.init(0)
    with pytest.raises(ValueError, match="perm"):
        symmetries.hidden_unit_transform(net, theta, [0, 0, 1], [1, 1, 1])
    with pytest.raises(ValueError, match="signs"):
        symmetries.hidden_unit_transform(net, theta, [0, 1, 2], [1, 2, 1])
