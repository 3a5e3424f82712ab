"""The DAG and RNN experiments of notes 002 on reduced sizes, each asserting its claim.

``dag``: chain, residual and inception networks of about equal size on
spirals; at equal passes the residual network is far ahead of the chain
(ratio ≤ 0.04 at seeds 0–4 of this size, asserted ≤ 0.1). ``rnn``: on the
adding problem an unrolled RNN reaches a small held-out error that an MLP
of its size does not come near. Then the subcommands, in-process.
"""

import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from numnet.checks import check_layer
from numnet.cli import main
from numnet.experiments import dag, rnn


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small matrices: one BLAS thread is fastest and keeps the shared cores free."""
    with threadpool_limits(limits=1):
        yield


def assert_plain_json(numbers):
    """``numbers`` survive ``json.dumps`` with no fallback and come back as numbers, not strings."""

    def plain(x):
        if isinstance(x, np.ndarray):
            return x.tolist()
        if isinstance(x, np.generic):
            return x.item()
        raise TypeError(f"not JSON-able: {type(x).__name__}")

    back = json.loads(json.dumps(numbers, default=plain))
    assert set(back) == set(numbers)
    for key, value in back.items():
        assert not isinstance(value, str), key


def assert_one_line_error(stderr, flag):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("numnet: error: "), stderr
    assert flag in lines[0]


# ------------------------------------------------------------- dag


@pytest.fixture(scope="module")
def dag_result():
    return dag.dag_experiment(n_samples=400, width=12, n_modules=4, passes=120, n_seeds=2, seed=0)


def test_dag_networks_have_similar_sizes_and_verified_derivatives():
    nets = dag.dag_networks(width=6, n_modules=2)
    n = {a: net.n_params for a, net in nets.items()}
    assert n["chain"] == n["residual"]
    assert abs(n["inception"] - n["chain"]) <= 0.25 * n["chain"]
    X = np.random.default_rng(0).standard_normal((5, 2))
    for net in nets.values():
        assert check_layer(net, X, seed=1).passed


def test_dag_every_architecture_learns_and_the_residual_is_far_ahead(dag_result):
    nb = dag_result.numbers
    for a in dag.ARCHITECTURES:
        assert (
            nb[f"{a}_loss_mean"] < 0.5 < np.log(2)
        )  # from ln 2 at the start (two balanced classes)
        assert nb[f"{a}_train_accuracy_mean"] > 0.7
        assert nb[f"{a}_passes_mean"] <= 135  # the budget of 120 and at most one iteration more
    assert nb["residual_loss_mean"] < 0.1 * nb["chain_loss_mean"]
    assert nb["inception_loss_mean"] < nb["chain_loss_mean"]
    assert nb["residual_val_accuracy_mean"] > nb["chain_val_accuracy_mean"] + 0.05


def test_dag_numbers_curves_and_table(dag_result):
    nb = dag_result.numbers
    assert_plain_json(nb)
    assert all(len(nb[f"{a}_runs"]["loss"]) == 2 for a in dag.ARCHITECTURES)
    loss = nb["curves"]["residual"]["loss"]
    assert loss.shape == nb["passes_grid"].shape and loss[-1] < 0.1 * loss[0]
    assert all(a in dag_result.table for a in dag.ARCHITECTURES)
    assert set(dag_result.figures) == {"dag.png"}


# ------------------------------------------------------------- rnn


@pytest.fixture(scope="module")
def rnn_result():
    return rnn.rnn_experiment(
        n_steps=6,
        n_hidden=4,
        n_train=300,
        n_test=500,
        passes=150,
        n_seeds=2,
        seed=0,
        methods=("adam", "gauss-newton"),
    )


def test_adding_problem_has_one_marker_per_half():
    X, y = rnn.adding_problem(50, 8, np.random.default_rng(1))
    u, m = X.reshape(50, 8, 2)[..., 0], X.reshape(50, 8, 2)[..., 1]
    np.testing.assert_array_equal(m[:, :4].sum(1), 1)
    np.testing.assert_array_equal(m[:, 4:].sum(1), 1)
    np.testing.assert_allclose(y[:, 0], (u * m).sum(1))


def test_rnn_and_mlp_have_similar_sizes_and_verified_derivatives():
    nets = rnn.rnn_and_mlp(6, 4)
    assert abs(nets["mlp"].n_params - nets["rnn"].n_params) <= 0.25 * nets["rnn"].n_params
    X, _ = rnn.adding_problem(4, 6, np.random.default_rng(2))
    for net in nets.values():
        assert check_layer(net, X, seed=3).passed


def test_rnn_beats_the_mlp_of_its_size_on_held_out_sequences(rnn_result):
    nb = rnn_result.numbers
    for m in ("adam", "gauss-newton"):
        assert nb[f"rnn_{m}_test_nmse_mean"] < 0.1  # the mean predictor scores 1
        assert nb[f"mlp_{m}_test_nmse_mean"] > 0.4
    assert nb["best_rnn_test_nmse"] < 0.05 * nb["best_mlp_test_nmse"]
    assert (
        nb["rnn_gauss-newton_test_within_0.04_mean"]
        > 3 * nb["mlp_gauss-newton_test_within_0.04_mean"]
    )


def test_rnn_numbers_curves_and_table(rnn_result):
    nb = rnn_result.numbers
    assert_plain_json(nb)
    assert set(nb["curves"]) == {"rnn_adam", "rnn_gauss-newton", "mlp_adam", "mlp_gauss-newton"}
    assert all(nb[f"rnn_{m}_passes_mean"] >= 150 for m in ("adam", "gauss-newton"))
    assert "gauss-newton" in rnn_result.table and set(rnn_result.figures) == {"rnn.png"}


# ------------------------------------------------------------- the subcommands


@pytest.mark.parametrize(
    "argv, name",
    [
        (
            [
                "dag",
                "--n-samples",
                "120",
                "--width",
                "4",
                "--n-modules",
                "1",
                "--passes",
                "10",
                "--n-seeds",
                "1",
            ],
            "dag",
        ),
        (
            [
                "rnn",
                "--n-steps",
                "4",
                "--n-hidden",
                "2",
                "--n-train",
                "60",
                "--n-test",
                "60",
                "--passes",
                "5",
                "--n-seeds",
                "1",
                "--methods",
                "lbfgs",
            ],
            "rnn",
        ),
    ],
)
def test_subcommand_writes_figure_and_json(argv, name, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path)]) == 0
    assert f"== {name} ==" in capsys.readouterr().out
    assert (tmp_path / f"{name}.png").stat().st_size > 1_000
    numbers = json.loads((tmp_path / f"{name}.json").read_text())
    assert isinstance(numbers["passes_grid"], list) and isinstance(numbers["curves"], dict)


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["dag", "--n-seeds", "0"], "--n-seeds"),
        (["dag", "--width", "2"], "--width"),
        (["dag", "--method", "sgd"], "--method"),
        (["dag", "--passes", "x"], "--passes"),
        (["rnn", "--n-seeds", "0"], "--n-seeds"),
        (["rnn", "--n-steps", "1"], "--n-steps"),
        (["rnn", "--methods", "adam,nope"], "--methods"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(argv, flag, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert_one_line_error(capsys.readouterr().err, flag)
