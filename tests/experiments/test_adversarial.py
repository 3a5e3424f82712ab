"""``numnet adversarial`` (notes 000) on reduced sizes, each asserting its number.

A small digits classifier is accurate; projected-gradient attacks succeed more often as ε grows
and stay in the ball ‖d‖ ≤ ε; the FGSM baseline is weaker; the Tikhonov attack's exact input
Hessian passes the derivative check, and its penalty trades the perturbation's norm for success.
"""

import numpy as np
import pytest

from numnet.checks import derivative_check
from numnet.experiments import adversarial as adv

from experiment_support import _close_figures, _one_blas_thread  # noqa: F401 (autouse fixtures)


@pytest.fixture(scope="module")
def attack():
    net, theta, Xte, yte, acc = adv.train_digits(n_hidden=16, train_iter=40, seed=0)
    X, c, c_hat = adv.attack_set(net, theta, Xte, yte, 30)
    return net, theta, X, c_hat, acc


def test_digit_classifier_is_accurate(attack):
    assert attack[4] > 0.9


def test_pgd_success_grows_with_eps_and_respects_the_ball(attack):
    net, theta, X, c_hat, _ = attack
    obj = adv.AttackObjective(net, theta, X, c_hat)
    rates = []
    for eps in (0.25, 1.0, 2.0, 3.0):
        D = adv.pgd_attack(obj, eps, steps=25)
        assert np.linalg.norm(D, axis=1).max() <= eps * (1 + 1e-12)
        rates.append(adv.success_rate(obj, D))
    assert all(a <= b for a, b in zip(rates, rates[1:]))
    assert rates[0] < 0.2 and rates[-1] > 0.8


def test_fgsm_baseline_is_weaker_than_pgd(attack):
    net, theta, X, c_hat, _ = attack
    obj = adv.AttackObjective(net, theta, X, c_hat)
    D = adv.fgm_attack(obj, 1.5)
    np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1.5, rtol=1e-12)
    assert adv.success_rate(obj, D) < adv.success_rate(obj, adv.pgd_attack(obj, 1.5, steps=25))


def test_tikhonov_attack_hessian_passes_the_derivative_check(attack):
    """The input Hessian by the R-operator, H V = R{J_Xᵀ ∇E}[V] + λV, against gradients."""
    net, theta, X, c_hat, _ = attack
    obj = adv.AttackObjective(net, theta, X[:5], c_hat[:5], lam=0.3)
    d0 = 0.1 * np.random.default_rng(0).standard_normal(X[:5].size)
    chk = derivative_check(obj.grad, d0, lambda v: obj.hvp(d0, v))
    assert chk.passed and np.nanmedian(chk.order1) > 1.9
    v = np.random.default_rng(1).standard_normal(d0.size)
    fd = (obj.grad(d0 + 1e-6 * v) - obj.grad(d0 - 1e-6 * v)) / 2e-6
    np.testing.assert_allclose(obj.hvp(d0, v), fd, rtol=1e-6, atol=1e-8)
    assert np.linalg.norm(obj.gnvp(d0, v) - obj.hvp(d0, v)) > 1e-6 * np.linalg.norm(fd)


def test_tikhonov_attack_trades_norm_for_success(attack):
    net, theta, X, c_hat, _ = attack
    rows = adv.tikhonov_sweep(net, theta, X, c_hat, [30.0, 3.0])
    assert rows[0]["mean_norm"] < rows[1]["mean_norm"]
    assert rows[0]["success"] <= rows[1]["success"] and rows[1]["success"] > 0.8
