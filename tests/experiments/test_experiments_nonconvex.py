"""The non-convexity experiments of issue 17, at reduced sizes: each asserts its claim with a threshold.

Auer et al. (a count equal to ⌊n/d⌋^d), Baldi–Hornik for Y ≠ X (every
critical point but one a saddle, every start global), depth (the non-convex
fraction grows), quasi-Newton with mini-batches (the naive pairs are noise,
the overlapping ones are not), planted recovery (a slope near −1/2) and the
non-convex fraction itself on surfaces with known answers.
"""

import numpy as np
import pytest

from numnet.experiments import auer, baldi_hornik, depth_landscape, planted_recovery, qn_minibatch
from numnet.experiments import landscape as ls
from numnet.objective import Objective
from numnet.optim.quasi_newton import LBFGS, BFGSInverse
from numnet.regularizers import Tikhonov

# ------------------------------------------------------------- the non-convex fraction, known answers


def _grid(n=21):
    t = np.linspace(-1, 1, n)
    A, B = np.meshgrid(t, t)
    return t, A, B, t[1] - t[0]


def test_nonconvex_fraction_counts_weak_negative_curvature():
    """S = α² + 0.01 β³: the 2 × 2 Hessian is diag(2, 0.06 β) exactly (central differences of a cubic), so
    the rows with β < 0 are non-convex: 9 of the 19 interior rows. Its negative eigenvalue is at most 0.054,
    2.7 % of the largest entry: a threshold of 1e-1 · max|H| would miss them all."""
    t, A, B, h = _grid()
    assert ls.nonconvex_fraction(A**2 + 0.01 * B**3, h, h) == pytest.approx(9 / 19, abs=1e-15)
    assert ls.nonconvex_fraction(A**2 - 1e-3 * B**2, h, h) == 1.0  # λ_min / max|H| = −1e-3


def test_nonconvex_fraction_ignores_rounding_noise_on_a_convex_surface():
    """A convex bowl plus noise of 1e-13: second differences of the noise are ~1e-11, far below 1e-8·max|H|."""
    t, A, B, h = _grid()
    noise = 1e-13 * np.random.default_rng(0).standard_normal(A.shape)
    assert ls.nonconvex_fraction(A**2 + B**2 + noise, h, h) == 0.0


def test_network_direction_spans_every_layer_with_unit_norms():
    net = depth_landscape.deep_network(3, 4)
    theta = net.init(0)
    d = ls.network_direction(net, theta, np.random.default_rng(0), filter_normalize=True)
    for layer, s in zip(net.layers, net.slices):
        norms = lambda v: np.sqrt((layer.unpack(v)["W"] ** 2).sum(0) + layer.unpack(v)["b"] ** 2)  # noqa: E731
        np.testing.assert_allclose(norms(d[s]), norms(theta[s]), rtol=1e-12)


# ------------------------------------------------------------- Auer et al. in d dimensions


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


# ------------------------------------------------------------- Baldi–Hornik, Y ≠ X


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


# ------------------------------------------------------------- depth makes it worse


def test_deeper_networks_have_more_nonconvex_points_at_equal_parameter_count():
    nb = depth_landscape.depth_landscape_experiment(
        depths=(1, 8), n_params=450, n_samples=200, n_seeds=2, train_iter=40, n_grid=13, plot=False
    ).numbers
    assert nb["n_params"] == [453, 453] and nb["widths"] == [56, 7]
    assert nb["fraction_start"][1] > nb["fraction_start"][0] + 0.2
    assert nb["fraction_trained"][1] > nb["fraction_trained"][0]


def test_equal_width_matches_the_parameter_count():
    for depth in (1, 2, 4, 8):
        w = depth_landscape.equal_width(depth, 1000)
        assert abs(depth_landscape.n_params_of(depth, w) - 1000) <= depth_landscape.n_params_of(
            depth, w + 1
        ) - depth_landscape.n_params_of(depth, w)
        assert depth_landscape.deep_network(depth, w).n_params == depth_landscape.n_params_of(
            depth, w
        )


# ------------------------------------------------------------- quasi-Newton and mini-batches


@pytest.fixture(scope="module")
def qn_runs():
    """600 of the digits (the experiment's problem on fewer rows), batches of 64, 6 passes."""
    full = qn_minibatch.digits_problem()
    obj = Objective(full.net, "cross_entropy", full.X[:600], full.Y[:600], Tikhonov(1e-3))
    x0 = obj.net.init(0)
    out = {}
    for name, b, scheme in (
        ("full", 10**6, "naive"),
        ("naive", 64, "naive"),
        ("overlap", 64, "overlap"),
    ):
        memory = LBFGS(10)
        res = qn_minibatch.minibatch_quasi_newton(
            obj, x0, memory, batch_size=b, scheme=scheme, epochs=6, step_size=1.0, seed=0
        )
        out[name] = (res, qn_minibatch.preconditioned_condition(memory, obj, res["x"]))
    return out


def test_full_batch_pairs_are_exact_and_lbfgs_converges(qn_runs):
    res, _ = qn_runs["full"]
    assert max(res["pair_error"]) < 1e-12
    assert res["loss"][-1] < res["loss"][0] - 1.0


def test_naive_minibatch_pairs_are_mostly_noise_and_overlapping_pairs_are_not(qn_runs):
    naive, overlap = qn_runs["naive"][0], qn_runs["overlap"][0]
    assert (
        np.median(naive["pair_error"]) > 1.5
    )  # y_k is dominated by the difference of two batches' gradients
    assert np.median(overlap["pair_error"]) < 0.9 * np.median(naive["pair_error"]) / 2
    assert overlap["skipped"] == 0


def test_naive_pairs_make_h_a_worse_preconditioner_than_none(qn_runs):
    kappa_naive, kappa_hessian = qn_runs["naive"][1]
    kappa_overlap, _ = qn_runs["overlap"][1]
    assert kappa_naive > kappa_hessian > kappa_overlap


def test_bfgs_breaks_the_same_way_and_overlapping_pairs_fix_it():
    """Dense BFGS on the same 600 digits, batches of 64, fixed step 1: the naive pairs' error exceeds ‖y_full‖,
    their H is a far worse preconditioner (measured 14500 against 1700 with the overlapping pairs; 470 for
    ∇²J itself) and the loss spikes late in the run (15.8 against 0.30)."""
    full = qn_minibatch.digits_problem()
    obj = Objective(full.net, "cross_entropy", full.X[:600], full.Y[:600], Tikhonov(1e-3))
    x0, out = obj.net.init(0), {}
    for scheme in qn_minibatch.SCHEMES:
        memory = BFGSInverse(obj.n_params)
        res = qn_minibatch.minibatch_quasi_newton(
            obj, x0, memory, batch_size=64, scheme=scheme, epochs=6, step_size=1.0, seed=0
        )
        kappa, _ = qn_minibatch.preconditioned_condition(memory, obj, res["x"])
        out[scheme] = (
            np.median(res["pair_error"]),
            kappa,
            max(res["loss"][len(res["loss"]) // 2 :]),
            res["skipped"],
        )
    (e_naive, k_naive, late_naive, _), (e_overlap, k_overlap, late_overlap, skipped) = (
        out["naive"],
        out["overlap"],
    )
    assert e_naive > 1.0 and e_overlap < 0.5 * e_naive and skipped == 0
    assert k_naive > 5 * k_overlap
    assert late_naive > 10 * late_overlap


def test_chunk_stream_is_a_permutation_per_epoch():
    chunks = qn_minibatch.chunk_stream(10, 3, np.random.default_rng(0))
    epoch = np.concatenate([next(chunks) for _ in range(3)])
    assert len(set(epoch.tolist())) == 9


# ------------------------------------------------------------- planted-model recovery


@pytest.fixture(scope="module")
def planted():
    return planted_recovery.planted_recovery_experiment(
        dims=(4, 16), sizes=(200, 800, 3200), n_seeds=10, n_population=40_000, plot=False
    ).numbers


@pytest.mark.parametrize("task", planted_recovery.TASKS)
def test_recovery_error_falls_as_one_over_root_n(planted, task):
    for d in (4, 16):
        assert -0.75 < planted[f"slope_{task}_{d}"] < -0.3, planted[f"slope_{task}_{d}"]


@pytest.mark.parametrize("task", planted_recovery.TASKS)
def test_recovery_error_grows_like_root_d(planted, task):
    ratio = np.mean(planted[f"error_{task}_16"] / planted[f"error_{task}_4"])
    assert 1.4 < ratio < 3.0, ratio  # √(16/4) = 2


@pytest.mark.parametrize("task", planted_recovery.TASKS)
def test_gradient_and_hessian_are_preserved_at_the_rate(planted, task):
    assert -0.75 < planted[f"grad_slope_{task}"] < -0.3
    assert -0.75 < planted[f"hess_slope_{task}"] < -0.3


def test_noise_free_regression_recovers_w_star_exactly():
    rng = np.random.default_rng(0)
    w = rng.standard_normal(6) / np.sqrt(6)
    X, y = planted_recovery.planted_data(300, w, "regression", rng, noise=0.0)
    assert np.linalg.norm(planted_recovery.fit_perceptron(X, y) - w) < 1e-8


# ------------------------------------------------------------- the inverse crime from random starts


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
