"""The course's experiments of notes 000 on reduced sizes, each asserting its number.

random features (ranks and spectra per activation), training a single layer
(second order against SGD at equal work), inverse crime (aligned parameter
error), non-convexity (grid measure, filter normalization) and adversarial
examples (success against ε, the ball constraint, the exact input Hessian).
"""

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from numnet.checks import derivative_check
from numnet.experiments import adversarial as adv
from numnet.experiments import inverse_crime as ic
from numnet.experiments import landscape as ls
from numnet.experiments import random_features_peaks as rfp
from numnet.experiments import single_layer_peaks as slp
from numnet.random_features import random_features


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small matrices: one BLAS thread is fastest and keeps the shared cores free."""
    with threadpool_limits(limits=1):
        yield


# ------------------------------------------------------------- random features


@pytest.fixture(scope="module")
def peaks_data():
    return rfp.peaks_split(400, seed=0)


def test_identity_rank_is_at_most_n_features_plus_one(peaks_data):
    spectra = rfp.activation_spectra(peaks_data[0], 100, seed=0)
    assert spectra["identity"].rank <= 2 + 1
    assert spectra["identity"].rank == spectra["identity"].rank_bound == 3
    assert all(spectra[a].rank > 50 for a in ("sin", "tanh", "relu"))


def test_singular_value_decay_orders_sin_tanh_relu(peaks_data):
    """Smoother σ, faster decay: effective rank sin < tanh < relu (notes 000, module docstring)."""
    spectra = rfp.activation_spectra(peaks_data[0], 100, seed=0)
    r = {a: rfp.effective_rank(spectra[a].singular_values) for a in ("sin", "tanh", "relu")}
    assert r["sin"] + 10 < r["tanh"] < r["relu"]
    s_sin, s_relu = spectra["sin"].singular_values, spectra["relu"].singular_values
    assert s_sin[80] / s_sin[0] < 1e-3 * s_relu[80] / s_relu[0]


def test_random_features_beat_the_linear_model(peaks_data):
    errors = {
        a: rfp.fit_and_score(random_features(2, 100, a, random_state=0), peaks_data)
        for a in ("sin", "tanh", "relu", "identity")
    }
    assert errors["identity"][1] > 0.5
    for act in ("sin", "tanh", "relu"):
        train, val = errors[act]
        assert train < 0.15 and val < 0.3


def test_random_features_experiment_numbers():
    res = rfp.random_features_peaks_experiment(n_samples=300, n_hidden=60, widths=(5, 60), seed=1)
    nb = res.numbers
    assert nb["identity_rank"] <= nb["identity_rank_bound"] == 3
    assert nb["sin_effective_rank"] < nb["relu_effective_rank"]
    assert nb["tanh_sweep_train_val"].shape == (2, 2)
    assert nb["tanh_sweep_train_val"][1, 0] < nb["tanh_sweep_train_val"][0, 0]  # wider fits better
    assert "random_features.png" in res.figures


# ------------------------------------------------------------- single layer


def test_second_order_beats_sgd_at_equal_passes():
    """Same start, same budget of 800 passes over the data: GN and Newton-CG end lower than SGD."""
    prob = slp.peaks_problem(n_samples=200, n_hidden=16, seed=0)
    theta0 = prob.net.init(0)
    loss = {
        m: slp.train_method(prob.train, theta0, m, passes=800, max_iter=5000).result.fun
        for m in ("sgd", "gauss-newton", "newton-cg")
    }
    assert loss["gauss-newton"] < 0.85 * loss["sgd"]
    assert loss["newton-cg"] < 0.85 * loss["sgd"]


def test_trace_records_every_iterate_and_stops_at_the_budget():
    prob = slp.peaks_problem(n_samples=200, n_hidden=8, seed=1)
    tr = slp.train_method(prob.train, prob.net.init(1), "gauss-newton", passes=60, max_iter=500)
    assert len(tr.thetas) == len(tr.loss) == len(tr.passes) == tr.result.nit + 1
    assert tr.passes[-2] < 60 <= tr.passes[-1]
    assert np.all(np.diff(tr.passes) > 0) and tr.loss[-1] < tr.loss[0]
    assert tr.result.status.name == "CALLBACK"


def test_single_layer_experiment_table_and_accuracy():
    res = slp.single_layer_peaks_experiment(
        methods=("lbfgs", "gauss-newton"), n_samples=200, n_hidden=8, passes=100, seed=0
    )
    nb = res.numbers
    for m in ("lbfgs", "gauss-newton"):
        assert nb[f"{m}_passes"] >= 100 and nb[f"{m}_train_accuracy"] > 0.6
        assert m in res.table
    assert set(res.figures) == {"single_layer.png", "single_layer_boundaries.png"}


# ------------------------------------------------------------- inverse crime


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


# ------------------------------------------------------------- landscape


def test_nonconvex_fraction_of_convex_and_saddle_surfaces():
    t = np.linspace(-1, 1, 21)
    A, B = np.meshgrid(t, t)
    h = t[1] - t[0]
    assert ls.nonconvex_fraction(A**2 + 0.5 * B**2 + 0.3 * A * B, h, h) == 0.0
    assert ls.nonconvex_fraction(A**2 - B**2, h, h) == 1.0
    assert 0.2 < ls.nonconvex_fraction(np.cos(3 * A) + B**2, h, h) < 0.8


def test_filter_normalized_direction_matches_unit_norms():
    prob = slp.peaks_problem(n_samples=100, n_hidden=6, seed=0)
    theta = prob.net.init(0, scheme="normal")
    d = ls.random_direction(prob.net, theta, 0, np.random.default_rng(0), filter_normalize=True)
    layer, s = prob.net.layers[0], prob.net.slices[0]
    unit_norm = lambda v: np.sqrt((layer.unpack(v)["W"] ** 2).sum(0) + layer.unpack(v)["b"] ** 2)  # noqa: E731
    np.testing.assert_allclose(unit_norm(d[s]), unit_norm(theta[s]), rtol=1e-12)
    assert np.all(d[prob.net.slices[1]] == 0)


def test_landscape_surface_passes_through_the_trained_point():
    res = ls.landscape_experiment(
        n_samples=150, n_hidden=6, train_iter=20, radius=2.0, n_grid=9, seed=0
    )
    nb = res.numbers
    assert nb["surface"][4, 4] == pytest.approx(nb["center_loss"], rel=1e-12)
    assert nb["min_loss"] <= nb["center_loss"] < nb["max_loss"]
    assert 0.0 < nb["nonconvex_fraction"] <= 1.0  # a single layer is not convex at this scale


# ------------------------------------------------------------- adversarial


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


@pytest.fixture(autouse=True)
def _close_figures():
    """Experiments return open matplotlib figures; close them after each test."""
    yield
    from numnet.plots import plt

    plt.close("all")
