"""The ``numnet`` command: subcommands in a subprocess on tiny settings, errors, and its helpers.

Subprocess runs (``python -m numnet``) check exit codes, printed numbers and
written files; argument handling and the helpers of ``numnet train`` are
also tested in-process, which is much faster.
"""

import json
import subprocess
import sys

import numpy as np
import pytest
from cli_errors import assert_one_line_error

from numnet import io as numnet_io
from numnet.cli import main
from numnet.cli._training import encode_targets, fold_standardization, predict_labels
from numnet.experiments import discover
from numnet.network import mlp


def numnet(*args, cwd=None):
    """Run ``python -m numnet args…`` and return the completed process (text output)."""
    return subprocess.run(
        [sys.executable, "-m", "numnet", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=240,
        cwd=cwd,
    )


# ------------------------------------------------------------------ the parser, in-process


def test_every_experiment_is_a_subcommand_with_seed_and_out(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    listing = capsys.readouterr().out
    names = set(discover()) | {"train", "check", "demo"}
    assert {"random-features", "single-layer", "inverse-crime", "landscape", "adversarial"} <= names
    for name in names:
        assert name in listing
        with pytest.raises(SystemExit) as exc:
            main([name, "--help"])
        assert exc.value.code == 0
        help_text = capsys.readouterr().out
        assert "--seed" in help_text and "--out" in help_text


@pytest.mark.parametrize(
    "argv",
    [
        ["train", "peaks", "--hidden", "5,x"],
        ["check", "--activation", "nope"],
        ["landscape", "--radius", "-1"],
        ["train", "peaks", "--method", "no-such-method"],
        ["no-such-command"],
        [],
    ],
)
def test_argparse_errors_are_one_line_and_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert_one_line_error(capsys.readouterr().err)


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["train", "missing.csv"], "missing.csv"),
        (["train", "nothing.npz"], "nothing.npz"),
        (["train", "peaks", "--method", "lbfgs", "--learning-rate", "0.1"], "--learning-rate"),
        (["train", "peaks", "--target", "y"], "--target"),
        (["train", "peaks", "--loss", "absolute_error", "--max-iter", "1"], "absolute_error"),
    ],
)
def test_library_and_usage_errors_are_one_line_and_exit_2(argv, fragment, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert fragment in err


# ------------------------------------------------------------------ the experiment template


def _experiment_commands():
    from numnet.cli import _commands
    from numnet.cli._experiments import ExperimentCommand

    return {n: c for n, c in _commands().items() if isinstance(c, ExperimentCommand)}


def _subparser(name):
    import argparse

    from numnet.cli import _commands, build_parser

    parser = build_parser(_commands())
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[
        name
    ]


def test_experiment_help_states_the_signature_defaults(monkeypatch, capsys):
    """Every generated option's help ends in the default of the entry point's signature (demo: 1000
    passes, which its help once misstated as 300)."""
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option
    commands = _experiment_commands()
    assert {"demo", "xor", "single-layer", "landscape", "curvature-study"} <= set(commands)
    for name, command in commands.items():
        with pytest.raises(SystemExit):
            main([name, "--help"])
        help_text = capsys.readouterr().out
        defaults = command.spec.defaults()
        for param, kind in command.spec.kinds.items():
            if param == "seed" or kind.__class__.__name__ == "Flag":
                continue
            form = kind.cli.kind if kind.cli else kind
            value = kind.cli.from_value(defaults[param]) if kind.cli else defaults[param]
            action = next(a for a in _subparser(name)._actions if a.dest == param)
            assert action.help.endswith(f"(default: {form.show(value)})"), (
                name,
                param,
                action.help,
            )
            assert " ".join(action.help.split()) in " ".join(help_text.split())
    assert _experiment_commands()["demo"].spec.defaults()["passes"] == 1000


@pytest.mark.parametrize(
    "call, names",
    [
        ("xor.xor_experiment(n_hidden=0)", ["n_hidden"]),
        ("xor.xor_experiment(n_starts=2.5)", ["n_starts"]),
        (
            "linear_pca.linear_pca_experiment(n_features=4, n_components=4)",
            ["n_components", "n_features"],
        ),
        ("landscape.landscape_experiment(activation='nope')", ["activation"]),
        (
            "single_layer_peaks.single_layer_peaks_experiment(methods=('lbfgs', 'nope'))",
            ["methods"],
        ),
        ("demo.demo_experiment(n_samples=24)", ["n_samples"]),
        ("adversarial.adversarial_experiment(eps=(1.0, -1.0))", ["eps"]),
        ("universal.universal_experiment(units=())", ["units"]),
    ],
)
def test_experiment_functions_refuse_bad_parameters_by_name(call, names):
    """The plain functions check their parameters before any work: the error names each parameter."""
    import importlib

    module = importlib.import_module(f"numnet.experiments.{call.split('.')[0]}")
    with pytest.raises((ValueError, TypeError)) as exc:
        eval(call, {call.split(".")[0]: module})  # noqa: S307 (a fixed test table)
    message = str(exc.value)
    assert message.startswith(names[0]) and all(n in message for n in names)


@pytest.mark.parametrize(
    "kind, good, bad",
    [
        ("Int(1)", [("3", 3)], ["0", "2.5", "x", ""]),
        ("Int(0, 10, why='small')", [("0", 0), ("10", 10)], ["11", "-1"]),
        ("Float(0.0, open_min=True)", [("1e-3", 1e-3), ("2", 2.0)], ["0", "nan", "inf", "-1"]),
        ("Float(0.0, 1.0, open_max=True)", [("0", 0.0), ("0.5", 0.5)], ["1", "1.5"]),
        ("IntList(1, empty=False)", [("5,6", (5, 6))], ["", "5,0", "5,x"]),
        ("IntList(1)", [("", ())], ["0"]),
        ("FloatList(0.0, 1e6)", [("0.5,1", (0.5, 1.0))], ["", "1,-1", "1e7"]),
        ("Choice((0, 1, 2))", [("1", 1)], ["3", "one"]),
        ("Methods(('adam', 'lbfgs'))", [("adam,lbfgs", ("adam", "lbfgs"))], [" , ", "adam,nope"]),
        ("Optional(Float(0.0, open_min=True))", [("2", 2.0)], ["0"]),
    ],
)
def test_one_kind_parses_the_command_line_and_checks_python_values(kind, good, bad):
    """A kind accepts the same values from text and from Python, and names the parameter when it refuses."""
    from numnet.experiments import _params

    k = eval(kind, vars(_params))  # noqa: S307 (a fixed test table)
    for text, value in good:
        assert k.parse(text) == value and k.validated("p", value) == value
    for text in bad:
        with pytest.raises(ValueError, match=f"expected .*, got {text!r}"):
            k.parse(text)
    with pytest.raises((ValueError, TypeError), match="^p: expected"):
        k.validated("p", "text" if "Choice" in kind or "Methods" in kind else object())


def test_a_parameter_error_is_reported_with_the_flags(capsys):
    assert main(["linear-pca", "--n-features", "4", "--n-components", "4"]) == 2
    err = capsys.readouterr().err
    assert_one_line_error(err)
    assert "--n-components 4 must be smaller than --n-features 4" in err


def test_deprecated_entry_point_names_warn_and_still_run():
    from numnet.experiments import landscape

    with pytest.warns(DeprecationWarning, match="landscape_experiment"):
        res = landscape.landscape(n_samples=50, n_hidden=3, train_iter=0, n_grid=3, seed=0)
    assert res.name == "landscape" and len(res.numbers["surface"]) == 3


def test_output_names_use_underscores():
    from numnet.experiments import entry_point

    for name, command in _experiment_commands().items():
        assert command.spec.output_name == name.replace("-", "_")
        assert (
            entry_point(command.module).__name__
            == command.module.__name__.rsplit(".", 1)[1] + "_experiment"
        )


def test_check_exits_1_when_a_derivative_is_wrong(monkeypatch, tmp_path, capsys):
    from numnet.layers import Dense

    right = Dense.vjp

    def wrong(self, *args, **kwargs):
        g, gX = right(self, *args, **kwargs)
        return (None if g is None else 1.01 * g), gX

    monkeypatch.setattr(Dense, "vjp", wrong)
    assert main(["check", "--hidden", "3", "--out", str(tmp_path)]) == 1
    assert "FAIL" in capsys.readouterr().out


# ------------------------------------------------------------------ helpers of train


def test_folded_standardization_gives_the_same_outputs_on_raw_inputs():
    rng = np.random.default_rng(0)
    net = mlp(3, [4, 5], 2, "tanh")
    theta = net.init(0)
    X = rng.normal(5.0, 3.0, (20, 3))
    mean, scale = X.mean(axis=0), X.std(axis=0)
    folded = fold_standardization(net, theta, mean, scale)
    np.testing.assert_allclose(
        net.predict(folded, X), net.predict(theta, (X - mean) / scale), rtol=1e-12
    )


@pytest.mark.parametrize(
    "loss, n_classes, shape, values",
    [
        ("cross_entropy", 2, (4,), {0.0, 1.0}),  # two classes: one logit, binary cross-entropy
        ("hinge", 2, (4,), {-1.0, 1.0}),
        ("cross_entropy", 3, (4,), {0, 1, 2}),
        ("squared_error", 3, (4, 3), {0.0, 1.0}),
    ],
)
def test_string_labels_are_encoded_for_each_loss(loss, n_classes, shape, values):
    y = np.array(["b", "a", "c", "a"]) if n_classes == 3 else np.array(["b", "a", "b", "a"])
    enc = encode_targets(y, loss, "classification")
    assert enc.Y.shape == shape and set(np.unique(enc.Y)) == values
    assert list(enc.classes) == sorted(set(y))
    F = (
        2.0 * enc.Y - 1
        if enc.n_outputs == 1
        else np.eye(n_classes)[np.searchsorted(enc.classes, y)]
    )
    assert list(predict_labels(F.reshape(4, -1), enc.classes)) == list(y)


def test_encoding_refuses_losses_of_the_other_task_and_unseen_classes():
    with pytest.raises(ValueError, match="does not fit a regression task"):
        encode_targets(np.array([0.5, 1.5]), "hinge", "regression")
    enc = encode_targets(np.array([0, 1, 2]), "cross_entropy", "classification")
    with pytest.raises(ValueError, match="no training row"):
        encode_targets(np.array([3]), "cross_entropy", "classification", enc.classes)


# ------------------------------------------------------------------ subprocess runs


def test_train_peaks_saves_a_loadable_model_and_figures(tmp_path):
    out = tmp_path / "run"
    proc = numnet(
        "train", "peaks", "--n-samples", 200, "--hidden", "8,8", "--max-iter", 30, "--out", out
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    val = next(line for line in lines if line.startswith("validation")).split()
    assert 0.5 < float(val[2]) <= 1.0  # validation accuracy
    for name in ("model.npz", "loss.png", "decision_boundary.png", "train.json"):
        assert (out / name).stat().st_size > 0
    report = json.loads((out / "train.json").read_text())
    assert report["nit"] == len(report["history"]) == 30
    assert report["scores"]["validation"]["accuracy"] == pytest.approx(float(val[2]), abs=1e-4)
    net, theta = numnet_io.load(out / "model.npz")
    assert [layer.d_out for layer in net.layers] == [8, 8, 5]


def test_train_csv_regression_with_named_target(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3))
    y = np.sin(X[:, 0]) + 0.5 * X[:, 1]
    rows = "\n".join(f"{a:.6f},{t:.6f},{b:.6f},{c:.6f}" for (a, b, c), t in zip(X, y))
    (tmp_path / "d.csv").write_text("a,target,b,c\n" + rows + "\n")
    proc = numnet(
        "train",
        tmp_path / "d.csv",
        "--target",
        "target",
        "--hidden",
        10,
        "--max-iter",
        60,
        "--out",
        tmp_path / "out",
    )
    assert proc.returncode == 0, proc.stderr
    assert "regression" in proc.stdout and "rmse" in proc.stdout
    train_row = next(line for line in proc.stdout.splitlines() if line.startswith("train")).split()
    assert float(train_row[3]) > 0.8  # R² on the training rows
    assert not (tmp_path / "out" / "decision_boundary.png").exists()


def test_bad_argument_in_a_subprocess_is_one_line_exit_2(tmp_path):
    proc = numnet("train", "peaks", "--hidden", "5,x", "--out", tmp_path)
    assert proc.returncode == 2
    assert_one_line_error(proc.stderr)
    assert "--hidden" in proc.stderr


def test_check_prints_tables_and_passes(tmp_path):
    proc = numnet(
        "check",
        "--hidden",
        "4,3",
        "--activation",
        "sigmoid",
        "--loss",
        "binary_cross_entropy",
        "--n-outputs",
        1,
        "--dtype",
        "float32",
        "--out",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-2000:]
    assert "20/20 checks passed" in proc.stdout
    assert "order0" in proc.stdout and "rel.err" in proc.stdout
    assert (tmp_path / "check.txt").read_text().strip().endswith("20/20 checks passed")


def test_experiment_subcommand_prints_numbers_and_writes_files(tmp_path):
    proc = numnet(
        "landscape",
        "--n-samples",
        100,
        "--n-hidden",
        4,
        "--n-grid",
        5,
        "--train-iter",
        5,
        "--filter-normalize",
        "--out",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    frac = next(line for line in proc.stdout.splitlines() if line.startswith("nonconvex_fraction:"))
    assert 0.0 <= float(frac.split(":")[1]) <= 1.0
    numbers = json.loads((tmp_path / "landscape.json").read_text())
    assert numbers["filter_normalize"] is True and len(numbers["surface"]) == 5
    assert (tmp_path / "landscape.png").stat().st_size > 0


def test_demo_tour_writes_report_and_figure(tmp_path):
    proc = numnet("demo", "--n-samples", 200, "--passes", 40, "--quiet", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "numnet-out"  # the default --out, relative to the working directory
    for part in ("random features", "gauss-newton", "sgd", "derivative check", "Hessian spectrum"):
        assert part in proc.stdout
    assert proc.stdout.count("passed") == 2
    report = (out / "report.md").read_text()
    assert "![demo](demo.png)" in report and "| part | quantity | result |" in report
    assert 0 < (out / "demo.png").stat().st_size < 150_000
    numbers = json.loads((out / "demo.json").read_text())
    assert numbers["rf_identity_rank"] <= 3 and numbers["gauss_newton_min"] > -1e-8


def test_console_script_and_version():
    from pathlib import Path

    script = Path(sys.executable).with_name("numnet")
    if not script.exists():
        pytest.skip("the numnet console script is not installed next to this interpreter")
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.startswith("numnet ")
