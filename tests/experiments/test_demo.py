"""``numnet demo`` (the one-minute tour) in-process at a tiny size, asserting what each stop shows.

Random features: the identity's rank is at the bound n_features + 1 and the other activations'
far above it; the derivative checks of the gradient and of the Hessian-vector product pass with
second-order Taylor errors; at the Gauss-Newton point the exact Hessian is symmetric and
indefinite, the Gauss-Newton matrix positive semi-definite, and Lanczos finds the dense spectrum's
ends. The result saves ``demo.png``, ``demo.json`` and ``report.md``.
(``tests/cli/test_cli.py`` runs the same tour through the console command.)
"""

import json

import numpy as np
import pytest

from numnet.experiments import demo

from experiment_support import _one_blas_thread  # noqa: F401 (autouse fixture)


@pytest.fixture(scope="module")
def tour():
    """One tour for the module; its figure stays open until the last test has saved it."""
    result = demo.demo_experiment(n_samples=100, passes=20, seed=0)
    yield result
    from numnet.plots import plt

    plt.close("all")


def test_demo_random_features_rank_bound(tour):
    nb = tour.numbers
    assert nb["rf_identity_rank"] == nb["rf_identity_bound"] == 2 + 1
    assert all(nb[f"rf_{a}_effective_rank"] > 10 * nb["rf_identity_rank"] for a in ("sin", "relu"))
    assert all(0.0 <= nb[f"rf_{a}_val_error"] <= 1.0 for a in ("sin", "tanh", "relu"))


def test_demo_trains_every_method_on_the_budget(tour):
    nb = tour.numbers
    for m in demo.TOUR_METHODS:
        assert np.isfinite(nb[f"{m}_loss"]) and nb[f"{m}_loss"] < np.log(5)  # below chance
        assert nb[f"{m}_iterations"] >= 1 and m in tour.table
    assert tour.passes == 20 and "single layer, 20 passes" in tour.table


def test_demo_derivative_checks_pass_at_second_order(tour):
    nb = tour.numbers
    assert nb["check_gradient_passed"] and nb["check_hessian_passed"]
    assert nb["check_gradient_order"] > 1.8 and nb["check_hessian_order"] > 1.8
    assert tour.table.count("passed") == 2 and "FAILED" not in tour.table


def test_demo_hessian_spectrum_gauss_newton_and_lanczos(tour):
    nb = tour.numbers
    assert nb["hessian_asymmetry"] < 1e-12
    assert nb["hessian_min"] < 0 < nb["hessian_max"] and nb["hessian_n_negative"] > 0
    assert nb["gauss_newton_min"] > -1e-10 * nb["gauss_newton_max"]  # positive semi-definite
    np.testing.assert_allclose(
        nb["lanczos_min_max"], [nb["hessian_min"], nb["hessian_max"]], rtol=1e-6
    )


def test_demo_saves_figure_json_and_report(tour, tmp_path):
    paths = tour.save(tmp_path)
    assert {p.name for p in paths} == {"demo.png", "demo.json", "report.md"}
    assert 0 < (tmp_path / "demo.png").stat().st_size < 150_000
    numbers = json.loads((tmp_path / "demo.json").read_text())
    assert numbers["n_params"] == tour.numbers["n_params"] > 0
    report = (tmp_path / "report.md").read_text()
    assert "![demo](demo.png)" in report and "| part | quantity | result |" in report
    assert tour.numbers["check_table"] in report
