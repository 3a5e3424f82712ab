"""``numnet baldi-hornik`` (notes 001, Theorem 12.3, Lemma 12.5) at a reduced size.

Baldi–Hornik for Y ≠ X: every critical point of the linear two-layer network but the global one
is a saddle, the global minimum has the p² zero eigenvalues of its symmetry, and every start ends
there.
"""

from numnet.experiments import baldi_hornik


def test_baldi_hornik_every_critical_point_but_the_global_one_is_a_saddle():
    nb = baldi_hornik.baldi_hornik_experiment(
        n_inputs=5, n_outputs=4, n_components=2, n_samples=200, n_starts=4, plot=False
    ).numbers
    assert nb["n_critical"] == 1 + 4 + 6
    assert (
        nb["n_saddles"] == nb["n_critical"] - 1 and nb["n_minima"] == 1 and nb["global_is_minimum"]
    )
    assert nb["max_grad_norm"] < 1e-10 and nb["max_value_error"] < 1e-10
    assert nb["zero_eigs_at_global"] == 4  # p²: AB = (AC)(C⁻¹B)
    assert nb["min_gap"] > 1e-3
    assert nb["n_global"] == 4
