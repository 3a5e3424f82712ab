"""The theory experiments of the notes, on reduced sizes: each asserts its claim with a number."""

import argparse
import math

import numpy as np
import pytest
from scipy import stats

from numnet import Dense, Objective, Sequential
from numnet.cli import _commands, build_parser
from numnet.experiments import (
    ExperimentResult,
    discover,
    entry_point,
    hessian_study,
    linear_pca,
    mle_noise,
    perceptron,
    symmetries,
    universal,
    xor,
)

THEORY = {
    "xor": xor,
    "perceptron": perceptron,
    "linear-pca": linear_pca,
    "symmetries": symmetries,
    "universal": universal,
    "mle-noise": mle_noise,
    "hessian-study": hessian_study,
}


# --- XOR (notes 002) -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def xor_result():
    return xor.xor_experiment(seed=0, n_starts=3, plot=False)


def test_xor_linear_gradient_is_exactly_zero_at_the_origin(xor_result):
    assert xor_result.numbers["grad_norm_at_zero"] == 0.0
    assert xor_result.numbers["loss_at_zero"] == pytest.approx(math.log(2), rel=1e-15)


def test_xor_linear_model_cannot_separate(xor_result):
    assert max(xor_result.numbers["linear_accuracy"]) <= 0.75
    assert xor_result.numbers["linear_accuracy_bound"] == 0.75
    assert min(xor_result.numbers["linear_loss"]) == pytest.approx(math.log(2), abs=1e-8)


def test_xor_one_hidden_layer_separates(xor_result):
    assert xor_result.numbers["hidden_accuracy"] == [1.0, 1.0, 1.0]
    assert max(xor_result.numbers["hidden_loss"]) < 1e-4


def test_linear_accuracy_bound_is_one_on_separable_points():
    X = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
    assert xor.linear_accuracy_bound(X, np.array([-1, -1, 1, 1])) == 1.0  # AND-like split x1 > 0
    assert xor.linear_accuracy_bound(X, np.array([-1, 1, 1, 1])) == 1.0  # OR


# --- perceptron: Auer et al. and the delta rule (notes 001) ----------------------------------


@pytest.mark.parametrize("n", [1, 3, 5])
def test_auer_construction_has_one_local_minimum_per_sample(n):
    minima = perceptron.count_local_minima(perceptron.auer_objective(*perceptron.auer_samples(n)))
    assert len(minima) == n
    assert all(h > 0 for _, _, h in minima)
    values = [v for _, v, _ in minima]
    assert np.all(np.diff(values) > 0)  # distinct minima: all but the first are bad


def test_auer_wells_merge_when_the_samples_are_close():
    # The count is a measurement: with minimizers only 1.5x apart the wells overlap and merge.
    minima = perceptron.count_local_minima(
        perceptron.auer_objective(*perceptron.auer_samples(5, ratio=1.5))
    )
    assert len(minima) < 5


def test_count_local_minima_rejects_many_parameters():
    obj = Objective(Sequential([Dense(2, 1)]), "squared_error", np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="one parameter"):
        perceptron.count_local_minima(obj)


def test_perceptron_experiment_counts_minima_and_recovers_w_star():
    res = perceptron.perceptron_experiment(
        seed=1, n_minima=4, n_samples=200, n_features=5, epochs=12, plot=False
    )
    assert res.numbers["auer_local_minima"] == res.numbers["auer_samples"] == 4
    assert res.numbers["auer_bad_minima"] == 3
    errors = res.numbers["recovery_error"]
    assert errors[0] == 1.0 and len(errors) == 13
    assert res.numbers["final_recovery_error"] < 1e-3
    assert errors[-1] < errors[len(errors) // 2] < errors[0]


# --- Baldi–Hornik (notes 001) ----------------------------------------------------------------


def test_linear_autoencoder_reaches_the_pca_subspace_from_every_start():
    res = linear_pca.linear_pca_experiment(
        seed=0, n_features=5, n_components=2, n_samples=200, n_starts=4, plot=False
    )
    n = res.numbers
    assert len(n["max_angle"]) == 4
    assert max(n["max_angle"]) < 1e-6
    assert n["spurious_minima"] == 0
    assert max(abs(e) for e in n["loss_excess"]) < 1e-10 * n["pca_optimal_loss"] + 1e-14
    assert min(n["min_hessian_eig"]) > -1e-8  # no negative curvature: minima, not saddles
    lam = n["eigenvalues"]
    assert n["pca_optimal_loss"] == pytest.approx(0.5 * lam[2:].sum())
    # The critical point with eigenvectors {1, 3} is a saddle above the optimum by (λ2 − λ3)/2.
    assert n["saddle_loss_excess"] == pytest.approx(0.5 * (lam[1] - lam[2]), rel=1e-10)
    assert n["saddle_min_hessian_eig"] < -1e-3


# --- weight-space symmetries (notes 004) -----------------------------------------------------


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


# --- universal approximation (notes 002) -----------------------------------------------------


def test_universal_approximation_error_decreases_with_n():
    res = universal.universal_experiment(
        seed=0,
        units=(1, 2, 4, 8),
        n_train=(150, 400),
        n_test=1000,
        max_iter=200,
        n_starts=1,
        plot=False,
    )
    n = res.numbers
    for d in (1, 2):
        err = n[f"errors_{d}d"]
        assert err[-1] < err[0] / 10
        assert n[f"rate_{d}d"] < -1.0  # at least the O(1/n) rate of the bound
        assert all(e <= b for e, b in zip(err, n[f"bound_{d}d"]))
    assert "(bound: -1)" in res.table


@pytest.mark.parametrize("d", [1, 2])
def test_barron_constant_matches_monte_carlo(d):
    rng = np.random.default_rng(1)
    omega = rng.standard_normal((400_000, d))
    omega[:, 0] += 2.0
    mc = np.linalg.norm(omega, axis=1).mean()
    assert universal.barron_constant(d, 2.0) == pytest.approx(mc, rel=5e-3)


def test_ball_samples_lie_in_the_ball_and_fill_it():
    X = universal.ball_samples(5000, 2, 2.5, np.random.default_rng(0))
    r = np.linalg.norm(X, axis=1)
    assert r.max() <= 2.5
    assert np.mean(r < 2.5 / np.sqrt(2)) == pytest.approx(0.5, abs=0.03)  # uniform: half the area


# --- maximum-likelihood noise precision (notes 004) -------------------------------------------


def test_beta_ml_matches_the_true_precision_within_sampling_error():
    res = mle_noise.mle_noise_experiment(
        seed=0, beta=25.0, n_samples=1000, n_replicates=1, max_iter=800, plot=False
    )
    n = res.numbers
    for case in ("1d", "kd"):
        assert n[f"within_{case}"]
        assert abs(n[f"z_{case}"]) < 3
        lo, hi = n[f"interval_{case}"]
        assert lo < 25.0 < hi


def test_beta_interval_has_its_coverage():
    rng = np.random.default_rng(0)
    dof, beta = 300, 4.0
    draws = beta * dof / rng.chisquare(dof, size=200_000)
    lo, hi = mle_noise.beta_interval(beta, dof, n_sigma=2.0)
    assert np.mean((draws >= lo) & (draws <= hi)) == pytest.approx(
        1 - 2 * stats.norm.sf(2.0), abs=3e-3
    )


# --- Hessian study (notes 004) ---------------------------------------------------------------

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


# --- protocol: discovery, CLI arguments, figures ---------------------------------------------


def test_every_theory_experiment_is_discovered():
    found = discover()
    for name, module in THEORY.items():
        assert found[name] is module
        assert entry_point(module).spec.help


@pytest.mark.parametrize("name", sorted(THEORY))
def test_add_arguments_gives_defaults(name):
    """The subcommand's options parse to the entry point's signature defaults, and its help says them."""
    command = _commands()[name]
    parser = build_parser({name: command})
    args = parser.parse_args([name])
    values = command.values(args)
    assert values and all(v is not None for v in values.values())
    assert values == {k: command.spec.defaults()[k] for k in values}
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[
        name
    ]
    help_text = " ".join(sub.format_help().split())
    for k, v in values.items():
        form = command.spec.kinds[k].cli
        shown = form.kind.show(form.from_value(v)) if form else command.spec.kinds[k].show(v)
        assert f"(default: {shown})" in help_text


def test_run_from_parsed_arguments_and_save(tmp_path, capsys):
    command = _commands()["xor"]
    args = build_parser({"xor": command}).parse_args(
        ["xor", "--n-starts", "1", "--n-hidden", "3", "--out", str(tmp_path)]
    )
    res = xor.xor_experiment(**command.values(args))
    assert isinstance(res, ExperimentResult) and res.name == "xor"
    assert command.run(args) == 0 and "== xor ==" in capsys.readouterr().out
    paths = res.save(tmp_path)
    png = tmp_path / "xor.png"
    assert png in paths and 1_000 < png.stat().st_size < 150_000
    assert (tmp_path / "xor.json").read_text().count("hidden_accuracy") == 1
