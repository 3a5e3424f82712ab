"""``numnet inverse-crime`` (notes 000) on a reduced size, each asserting its number.

The alignment undoes the hidden units' permutation, their sign flips (odd activations only) and
the softmax shift; on a small identifiable planted model Gauss-Newton fits to rounding and the
aligned parameter error vanishes while the raw parameters differ.
"""

import numpy as np

from numnet.experiments import inverse_crime as ic

from experiment_support import _close_figures, _one_blas_thread  # noqa: F401 (autouse fixtures)


def test_alignment_undoes_permutation_sign_flips_and_softmax_shift():
    rng = np.random.default_rng(3)
    W1, b1, W2 = rng.standard_normal((5, 4)), rng.standard_normal(4), rng.standard_normal((4, 3))
    perm, signs = np.array([2, 0, 3, 1]), np.array([1.0, -1.0, -1.0, 1.0])
    W1p, b1p = (W1 * signs)[:, perm], (b1 * signs)[perm]
    W2p = (W2 * signs[:, None])[perm] + rng.standard_normal((4, 1))  # + u 1ᵀ: the softmax shift
    al = ic.align(W1p, b1p, W2p, W1, b1, W2)
    np.testing.assert_allclose(al.W1, W1, atol=1e-12)
    np.testing.assert_allclose(al.b1, b1, atol=1e-12)
    np.testing.assert_allclose(al.W2, W2 - W2.mean(axis=1, keepdims=True), atol=1e-12)
    np.testing.assert_array_equal(perm[al.perm], np.arange(4))
    assert (al.signs < 0).sum() == 2


def test_alignment_without_odd_symmetry_keeps_signs():
    rng = np.random.default_rng(4)
    W1, b1, W2 = rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal((3, 2))
    al = ic.align(-W1, -b1, -W2, W1, b1, W2, odd=False)
    assert np.all(al.signs == 1.0)
    assert np.linalg.norm(al.W1 - W1) > 1.0


def test_inverse_crime_recovers_the_planted_parameters():
    """A small identifiable instance: Gauss-Newton fits to rounding and the aligned error vanishes."""
    nb = ic.inverse_crime_experiment(
        n_samples=300, n_features=4, n_classes=5, n_hidden=3, max_iter=60, seed=0
    ).numbers
    assert nb["kl_misfit"] < 1e-10 and nb["max_prob_error"] < 1e-8
    assert nb["error_all"] < 1e-6
    assert nb["error_unaligned"] > 0.1  # the raw parameters differ: alignment is needed
