"""What the experiments share: discovery, the result protocol and subcommands across experiments.

Every theory experiment is discovered with a declared entry point; a subcommand's parsed
arguments run the experiment, print its table and save its figure and JSON
(:class:`~numnet.experiments.ExperimentResult`); the ``dag`` and ``rnn`` subcommands write their
figure and JSON in-process and refuse bad flags with exit status 2 and a one-line error naming
the flag.
"""

import json

import pytest

from numnet.cli import _commands, build_parser, main
from numnet.experiments import ExperimentResult, discover, entry_point, xor

from experiment_support import THEORY
from experiment_support import _one_blas_thread  # noqa: F401 (autouse fixture)


def assert_one_line_error(stderr, flag):
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("numnet: error: "), stderr
    assert flag in lines[0]


def test_every_theory_experiment_is_discovered():
    found = discover()
    for name, module in THEORY.items():
        assert found[name] is module
        assert entry_point(module).spec.help


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
