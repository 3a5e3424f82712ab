"""``numnet hessian-study`` (notes 004) on a reduced size, each asserting its claim with a number.

The errors of the Hessian approximations (finite differences, Becker–LeCun, the exact diagonal,
Gauss-Newton, Lanczos) at the start and after training, and each method's cost in W: the counted
passes grow with the exponent the method claims.
"""

import numpy as np
import pytest

from numnet.experiments import hessian_study


SMALL_COST = {
    "hvp": (1, (64, 128, 256), 500),
    "becker-lecun": (1, (64, 128, 256), 500),
    "exact (W hvps)": (2, (2, 4, 8), 1000),
    "fd-grads": (2, (2, 4, 8), 1000),
    "fd-values": (3, (1, 2, 3), 1000),
}


@pytest.fixture(scope="module")
def hessian_result():
    return hessian_study.hessian_study_experiment(
        seed=0,
        hidden=(4, 4),
        n_samples=80,
        train_iter=200,
        cost_methods=SMALL_COST,
        repeats=1,
        plot=False,
    )


def test_hessian_approximation_errors(hessian_result):
    n = hessian_result.numbers
    for tag in ("init", "trained"):
        e = n[f"errors_{tag}"]
        assert e["fd-values"] < 1e-5 and e["fd-grads"] < 1e-7
        assert 1e-3 < e["becker-lecun"] < 1.0 and 1e-3 < e["exact diagonal"] < 1.0
        assert n[f"lanczos_error_{tag}"] < 1e-8
        assert n[f"symmetry_error_{tag}"] < 1e-12
        assert (
            n[f"bl_diagonal_error_{tag}"] > 1e-6
        )  # Becker–LeCun drops cross terms: not exact here
    # Gauss-Newton drops Σ (y − t) ∇²y: a better approximation once the residuals are small.
    assert n["errors_trained"]["gauss-newton"] < n["errors_init"]["gauss-newton"] / 10
    assert np.all(n["eig_GN_trained"] > -1e-12)  # Gauss-Newton is positive semi-definite


def test_hessian_cost_exponents(hessian_result):
    cost = hessian_result.numbers["cost"]
    counted = hessian_result.numbers["count_exponent"]
    for method, (target, _, _) in SMALL_COST.items():
        assert len(cost[method]["W"]) == 3
        if method != "becker-lecun":
            assert counted[method] == pytest.approx(target, abs=0.1)
    assert counted["fd-values"] > counted["fd-grads"] > counted["hvp"]
    # measured CPU-time exponents are reported, not asserted: they move with the machine's load
    # (1.85 against a bound of 1.52 + 0.5 was seen at load 9); the counted passes above are the claim
    timed = hessian_result.numbers["time_exponent"]
    assert set(counted) <= set(timed) and all(np.isfinite(e) for e in timed.values())
