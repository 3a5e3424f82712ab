"""``numnet alexnet-claims`` (notes 001, AlexNet): its parts on reduced sizes, the claims that hold
robustly at those sizes, the ≥ 98 % digits CNN, and the command line."""

import json
import math

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from numnet.cli import main
from numnet.experiments import alexnet_claims as ac
from numnet.experiments._cnn import first_epoch, stop_epoch


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small matrices: one BLAS thread is fastest and keeps the shared cores free."""
    with threadpool_limits(limits=1):
        yield


def _finite_json(numbers):
    """The numbers as strict JSON (no NaN/inf, no numpy objects); returns the decoded copy."""
    return json.loads(json.dumps(numbers, allow_nan=False))


# ------------------------------------------------------------- helpers


def test_first_epoch_skips_the_start_and_reports_none():
    assert first_epoch([0.0, 0.5, 0.04, 0.03], lambda v: v <= 0.05) == 2
    assert first_epoch([0.0, 0.5, 0.4], lambda v: v <= 0.05) is None


def test_stop_epoch_waits_patience_epochs_and_keeps_the_first_best():
    val = [0.1, 0.5, 0.7, 0.7, 0.6, 0.65, 0.9, 0.8]
    assert stop_epoch(val, patience=3) == (5, 2)  # 3, 4, 5 do not improve on epoch 2
    assert stop_epoch(val, patience=4) == (7, 6)  # never 4 in a row: runs to the end, best is 6


# ------------------------------------------------------------- the experiment, tiny


@pytest.fixture(scope="module")
def tiny():
    return ac.alexnet_claims_experiment(
        n_seeds=2, relu_epochs=3, n_train=60, epochs=4, patience=2, cnn_epochs=2, seed=1
    )


def test_every_part_is_there_finite_and_json(tiny):
    nb = _finite_json(tiny.numbers)
    a, b, c, cnn = (
        nb[k] for k in ("relu_vs_tanh", "regularization", "early_stopping", "digits_cnn")
    )
    for act in ("relu", "tanh"):
        r = a["activations"][act]
        assert (
            np.shape(r["loss"]) == np.shape(r["train_error"]) == (2, 4)
        )  # start + 3 passes, per seed
        assert len(r["passes_to_target"]) == 2
    assert set(b["variants"]) == set(ac.VARIANTS)
    for v in b["variants"].values():
        assert len(v["gap"]) == 2 and np.shape(v["gap_curve"]) == (2, 5)
        assert all(0 <= x <= 1 for x in v["train_accuracy"] + v["test_accuracy"])
        assert math.isclose(v["gap_mean"], np.mean(v["gap"]))
    assert np.shape(c["val_accuracy"]) == (2, 5)
    assert all(1 <= best <= stop <= 4 for best, stop in zip(c["best_epoch"], c["stop_epoch"]))
    assert (
        0 < cnn["test_accuracy"] <= 1
        and cnn["epochs"] == 2
        and len(cnn["test_accuracy_curve"]) == 2
    )
    assert cnn["n_params"] == 13706 and cnn["seconds"] > 0
    assert set(tiny.figures) == {"alexnet_claims.png"}
    for part in ("(a)", "(b)", "(c)", "digits CNN"):
        assert part in tiny.table


# ------------------------------------------------------------- the claims


def test_relu_trains_faster_than_tanh_in_loss():
    """(a) Same CNN, start, batches and step: relu's training loss ends well below tanh's.

    Both reach 5 % training error within 10 passes; at this scale the passes
    to the target are about equal (the 6x of AlexNet is not seen), so only
    the loss is asserted.
    """
    a = ac.relu_vs_tanh(epochs=10, n_seeds=2, seed=0)
    relu, tanh = a["activations"]["relu"], a["activations"]["tanh"]
    assert relu["n_reached"] == tanh["n_reached"] == 2
    assert relu["final_loss_mean"] < 0.85 * tanh["final_loss_mean"]


@pytest.fixture(scope="module")
def overfit():
    return ac.regularization(n_train=300, epochs=60, n_seeds=2, seed=0, return_runs=True)


def test_plain_cnn_overfits_the_small_subset(overfit):
    plain = overfit[0]["variants"]["plain"]
    assert plain["train_accuracy_mean"] > 0.98 and plain["gap_mean"] > 0.03


def test_dropout_with_augmentation_reduces_the_gap(overfit):
    """(b) Dropout + rotations: a smaller mean train-test gap than plain (by lowering training accuracy)."""
    var = overfit[0]["variants"]
    assert var["both"]["gap_mean"] < var["plain"]["gap_mean"] - 0.01
    assert var["both"]["train_accuracy_mean"] < var["plain"]["train_accuracy_mean"]


def test_early_stopping_keeps_the_best_validation_model(overfit):
    runs = overfit[1]
    c = ac.early_stopping(runs, patience=10)
    for k, r in enumerate(runs):
        stop, best = c["stop_epoch"][k], c["best_epoch"][k]
        assert r.accuracy["val"][best] == max(r.accuracy["val"][1 : stop + 1])
        assert c["early_test_accuracy"][k] == r.accuracy["test"][best]
        assert c["last_test_accuracy"][k] == r.accuracy["test"][-1]
    _finite_json(c)


# ------------------------------------------------------------- the digits CNN


def test_digits_cnn_reaches_98_percent_test_accuracy():
    """Seed 0: stratified split (1437 train / 360 test), He init, Adam, 30 epochs (a few seconds)."""
    out = ac.train_digits_cnn(seed=0)
    assert out["test_accuracy"] >= 0.98
    assert out["architecture"] == ac.DIGITS_CNN and out["method"] == "adam" and out["n_test"] == 360


# ------------------------------------------------------------- the command line


def test_cli_writes_the_figure_and_the_numbers(tmp_path, capsys):
    argv = [
        "alexnet-claims",
        "--n-seeds",
        "1",
        "--relu-epochs",
        "2",
        "--n-train",
        "50",
        "--epochs",
        "3",
        "--cnn-epochs",
        "1",
        "--out",
        str(tmp_path),
    ]
    assert main(argv) == 0
    assert "(b) overfitting" in capsys.readouterr().out
    assert (tmp_path / "alexnet_claims.png").stat().st_size > 0
    nb = json.loads((tmp_path / "alexnet_claims.json").read_text())
    assert {"relu_vs_tanh", "regularization", "early_stopping", "digits_cnn"} <= set(nb)


@pytest.mark.parametrize(
    "flag, value",
    [
        ("--epochs", "0"),
        ("--n-seeds", "-1"),
        ("--dropout", "1.5"),
        ("--target-error", "x"),
        ("--shift", "3"),
        ("--init", "normal"),
        ("--rotate", "-5"),
        ("--n-train", "5"),
        ("--n-train", "5000"),
    ],
)
def test_bad_flags_exit_2_with_one_line_naming_the_flag(flag, value, tmp_path, capsys):
    try:
        code = main(["alexnet-claims", flag, value, "--out", str(tmp_path)])
    except SystemExit as exc:
        code = exc.code
    assert code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("numnet: error: ") and flag in lines[0]
