"""``numnet inverse-crime-global`` (notes 000) at a reduced size, asserting its counts.

The inverse crime from random starts: on a small planted model Gauss-Newton from start 0
saturates a unit while VarPro and Tikhonov continuation recover every unit, and the floor evidence
at the failed end point says why; an unnamed solver and an unknown strategy are refused.
"""

import pytest


def test_inverse_crime_global_counts_successes_and_explains_the_failures():
    """A small planted model (n = 200, n_f = 10, n_c = 4, m = 4): from start 0 Gauss-Newton (dense solver, named:
    the scenario is that solver's) saturates a unit (its weights run off to infinity, the excess stays at 3e-2);
    VarPro and Tikhonov continuation from the same start recover every unit. The floor evidence at the failed
    end point says why."""
    from numnet.experiments import inverse_crime_global as icg

    res = icg.inverse_crime_global_experiment(
        n_samples=200,
        n_features=10,
        n_classes=4,
        n_hidden=4,
        n_seeds=1,
        strategies=("gauss-newton", "varpro", "continuation"),
        budget=600.0,
        max_iter=300,
        solver="dense",
        plot=False,
        log=None,
    )
    nb = res.numbers
    assert nb["solver"] == "dense" and nb["seeds"] == [0]
    assert (
        nb["successes_gauss-newton"] == 0
        and nb["successes_varpro"] == 1
        and nb["successes_continuation"] == 1
    )
    for won in (r for r in nb["runs"] if r["success"]):
        assert (
            won["polished_excess"] < 1e-10
            and won["error_all"] < 1e-6
            and won["units_recovered"] == 4
        )
    assert nb["floor_true_zero_eigs"] == 4  # the softmax shift of each of W's 4 rows
    assert nb["floor_stall_excess"] > 1e-2 and nb["floor_norm_stall"] > 10 * nb["floor_norm_true"]
    assert nb["floor_stall_fresh_excess"] > 1e-3
    assert "continuation" in res.table and "1/1" in res.table


def test_inverse_crime_global_refuses_an_unnamed_solver_and_an_unknown_strategy():
    from numnet.experiments import inverse_crime_global as icg
    from numnet.experiments.inverse_crime import planted_problem

    p = planted_problem(20, 3, 2, 2)
    with pytest.raises(ValueError, match="solver"):
        icg.run_strategy(p, "gauss-newton", 0, solver="auto")
    with pytest.raises(ValueError, match="strategy"):
        icg.run_strategy(p, "simulated-annealing", 0)
