"""The minimize method "kfac": damped KFAC natural-gradient steps, damping by the gain ratio.

The method also joins every table of test_optim.py (the inverse-crime problem,
callbacks, non-finite regions, float32, bad options) and test_resume.py
(bitwise resume); here: its step is the documented formula, it lowers the
objective on every network KFAC supports, never accepts an increase, and
refuses what it cannot handle before any work.
"""

import numpy as np
import pytest
from registry import Shape, make_objective, rel_err

from numnet.curvature import kfac as kfac_operator
from numnet.curvature import outer_product_hessian
from numnet.optim import METHODS, minimize
from numnet.optim.problem import Problem

SHAPE = Shape(8, 3, 4, 3, 6)


@pytest.mark.parametrize(
    "layer", ["mlp3", "nested", "graph_inception", "conv_pool_max", "conv1d", "dropout"]
)
def test_kfac_lowers_the_objective_on_every_supported_network(layer):
    _, obj, theta = make_objective("cross_entropy", "tikhonov", "tanh", SHAPE, layer=layer)
    res = minimize(obj, theta, "kfac", max_iter=15)
    assert np.isfinite(res.x).all() and res.fun < obj.value(theta)
    funs = [h["fun"] for h in res.history]
    assert all(
        b <= a for a, b in zip(funs, funs[1:])
    )  # gain ratio > 0: every accepted step decreases J


@pytest.mark.parametrize("bias", ["joint", "separate"])
def test_the_first_step_is_the_rescaled_damped_kfac_step(bias):
    """x₁ − x₀ = α p, p = −(K + μ₀I)⁻¹ g, α = −gᵀp / pᵀ(G + μ₀I)p, with dense K and G."""
    _, obj, theta = make_objective("squared_error", "none", "tanh", SHAPE, layer="mlp3")
    mu0 = 0.5
    lin = obj.at(theta)
    K = kfac_operator(lin, bias=bias).to_dense()
    G, g, eye = outer_product_hessian(lin), lin.grad, np.eye(obj.n_params)
    p = -np.linalg.solve(K + mu0 * eye, g)
    alpha = -(g @ p) / (p @ (G + mu0 * eye) @ p)
    problem = Problem(obj)
    f, g0 = problem.value_and_grad(theta)
    it = next(METHODS["kfac"](problem, theta, f, g0, mu0=mu0, bias=bias))
    assert rel_err(it.x - theta, alpha * p) < 1e-10


def test_mc_kind_draws_new_targets_each_iteration_reproducibly():
    _, obj, theta = make_objective("cross_entropy", "none", "tanh", SHAPE, layer="mlp3")
    a = minimize(obj, theta, "kfac", max_iter=5, kind="mc", mc_samples=2, seed=3)
    b = minimize(obj, theta, "kfac", max_iter=5, kind="mc", mc_samples=2, seed=3)
    c = minimize(obj, theta, "kfac", max_iter=5, kind="mc", mc_samples=2, seed=4)
    assert np.array_equal(a.x, b.x) and not np.array_equal(a.x, c.x)
    assert a.fun < obj.value(theta)


def test_refuses_what_it_cannot_handle_before_any_work():
    _, obj, theta = make_objective("cross_entropy", "none", "tanh", SHAPE, layer="graph_shared")
    with pytest.raises(ValueError, match="shares the parameters"):
        minimize(obj, theta, "kfac")
    _, obj, theta = make_objective("hinge", "none", "tanh", SHAPE, layer="mlp3")
    with pytest.raises(TypeError, match="kind='mc' needs a loss with a predictive distribution"):
        minimize(obj, theta, "kfac", kind="mc")
    assert minimize(obj, theta, "kfac", max_iter=2).nit >= 1  # type-2 takes any loss with an hvp
