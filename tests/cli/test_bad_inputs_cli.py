"""Bad command lines: every one exits 2 with one line ``numnet: error: ...`` that names the flag.

The command-line part of the bad-input catalogue of issue 18. Each entry of
:data:`CATALOGUE` is a command line and the flag (or argument) the message
must name; it runs in-process through :func:`numnet.cli.main` (argparse
refuses a bad value with ``SystemExit(2)``, a subcommand's own checks make
``main`` return 2) and asserts the exit status, a single line on stderr
starting ``numnet: error:``, no traceback, and nothing on stdout: every bad
input is refused before any work. A few run in a subprocess as a user runs
them. ``{tmp}`` in a command line is a fresh folder holding a file ``file``
and a CSV ``data.csv``.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import tracemalloc

import pytest

from numnet.cli import _commands, _memory, build_parser, main
from numnet.cli import train as train_command
from numnet.experiments import xor as xor_module

HUGE = (
    "100000000000"  # 1e11: every network or grid with this width is far beyond any machine's memory
)

#: (command line, what the one-line message must contain)
CATALOGUE = [
    # flags every subcommand shares
    (["xor", "--seed", "-1"], "--seed"),
    (["check", "--seed", "4294967296"], "--seed"),
    (["universal", "--threads", "0"], "--threads"),
    (["demo", "--out", "{tmp}/file"], "--out"),
    (["symmetries", "--out", "{tmp}/file/sub"], "--out"),
    (["mle-noise", "--out", ""], "--out"),
    (["no-such-command"], "no-such-command"),
    # train
    (["train", "peaks", "--hidden", "100000,100000"], "--hidden"),
    (["train", "peaks", "--seed", "-1"], "--seed"),
    (["train", "peaks", "--hidden", "5,x"], "--hidden"),
    (["train", "peaks", "--hidden", "0"], "--hidden"),
    (["train", "peaks", "--method", "no-such-method"], "--method"),
    (["train", "peaks", "--method", "lbfgs", "--learning-rate", "0.1"], "--learning-rate"),
    (["train", "peaks", "--method", "lbfgs", "--batch-size", "8"], "--batch-size"),
    (["train", "peaks", "--method", "sgd", "--learning-rate", "-1"], "--learning-rate"),
    (["train", "peaks", "--max-iter", "0"], "--max-iter"),
    (["train", "peaks", "--val-fraction", "1"], "--val-fraction"),
    (["train", "peaks", "--n-samples", "20", "--val-fraction", "0.9"], "--val-fraction"),
    (["train", "peaks", "--n-samples", "3"], "--n-samples"),
    (["train", "xor", "--n-samples", "2"], "--n-samples"),
    (["train", "digits", "--n-samples", "100"], "--n-samples"),
    (["train", "peaks", "--target", "y"], "--target"),
    (["train", "{tmp}/data.csv", "--target", "nope"], "--target"),
    (["train", "{tmp}/data.csv", "--target", "9"], "--target"),
    (["train", "{tmp}/missing.csv"], "missing.csv"),
    (["train", "peaks", "--alpha", "-1"], "--alpha"),
    (["train", "peaks", "--alpha", "1e101"], "--alpha"),
    (["train", "peaks", "--loss", "absolute_error"], "--loss"),
    (["train", "peaks", "--activation", "nope"], "--activation"),
    (["train", "peaks", "--task", "nope"], "--task"),
    (["train", "peaks", "--arch", "dense:0"], "--arch"),
    (["train", "peaks", "--arch", "nonsense"], "--arch"),
    (["train", "peaks", "--arch", "conv:3x3"], "--arch"),
    (["train", "digits", "--arch", "dense:4", "--input-shape", "3,3"], "--input-shape"),
    (["train", "peaks", "--arch", "dense:4", "--hidden", "3"], "--hidden"),
    (["train", "peaks", "--input-shape", "2"], "--input-shape"),
    (["train", "digits", "--arch", "dense:100000,relu,dense:100000"], "--arch"),
    (["train", "peaks", "--out", "{tmp}/file"], "--out"),
    # check
    (["check", "--steps", "5"], "--steps"),
    (["check", "--steps", "65"], "--steps"),
    (["check", "--hidden", "0"], "--hidden"),
    (["check", "--n-samples", "0"], "--n-samples"),
    (["check", "--dtype", "float16"], "--dtype"),
    (["check", "--loss", "nope"], "--loss"),
    (["check", "--hidden", "100000,100000"], "--hidden"),
    # demo
    (["demo", "--n-samples", "24"], "--n-samples"),
    (["demo", "--passes", "0"], "--passes"),
    # xor
    (["xor", "--n-starts", "0"], "--n-starts"),
    (["xor", "--n-hidden", "0"], "--n-hidden"),
    (["xor", "--n-hidden", HUGE], "--n-hidden"),
    # linear-pca
    (["linear-pca", "--n-components", "20"], "--n-components"),
    (["linear-pca", "--n-samples", "-5"], "--n-samples"),
    (["linear-pca", "--n-samples", "8"], "--n-features"),
    (["linear-pca", "--n-features", "1"], "--n-features"),
    (["linear-pca", "--n-starts", "0"], "--n-starts"),
    (
        ["linear-pca", "--n-features", "3000", "--n-components", "2000", "--n-samples", "4000"],
        "--n-features",
    ),
    # universal
    (["universal", "--max-units", "0"], "--max-units"),
    (["universal", "--max-units", "1"], "--max-units"),
    (["universal", "--max-iter", "0"], "--max-iter"),
    (["universal", "--max-units", HUGE], "--max-units"),
    # perceptron
    (["perceptron", "--n-minima", "400", "--n-samples", "50", "--epochs", "2"], "--n-minima"),
    (["perceptron", "--n-minima", "0"], "--n-minima"),
    (["perceptron", "--learning-rate", "0"], "--learning-rate"),
    (["perceptron", "--learning-rate", "1e4"], "--learning-rate"),
    (["perceptron", "--epochs", "0"], "--epochs"),
    (["perceptron", "--n-features", "0"], "--n-features"),
    (["perceptron", "--n-samples", HUGE], "--n-samples"),
    # mle-noise
    (["mle-noise", "--beta", "0"], "--beta"),
    (["mle-noise", "--beta", "nan"], "--beta"),
    (["mle-noise", "--n-samples", "25"], "--n-samples"),
    (["mle-noise", "--n-replicates", "0"], "--n-replicates"),
    # symmetries
    (["symmetries", "--n-hidden", "0"], "--n-hidden"),
    (["symmetries", "--n-hidden", "1424"], "--n-hidden"),
    (["symmetries", "--n-transforms", "1"], "--n-transforms"),
    (["symmetries", "--n-hidden", "1423", "--n-transforms", HUGE], "--n-transforms"),
    # hessian-study
    (["hessian-study", "--repeats", "0"], "--repeats"),
    # landscape
    (["landscape", "--n-samples", "24"], "--n-samples"),
    (["landscape", "--train-iter", "-1"], "--train-iter"),
    (["landscape", "--radius", "0"], "--radius"),
    (["landscape", "--n-grid", "2"], "--n-grid"),
    (["landscape", "--activation", "nope"], "--activation"),
    (["landscape", "--n-hidden", HUGE], "--n-hidden"),
    # adversarial
    (["adversarial", "--n-hidden", "0"], "--n-hidden"),
    (["adversarial", "--eps", "1,-1"], "--eps"),
    (["adversarial", "--lams", ""], "--lams"),
    (["adversarial", "--eps", "1e7"], "--eps"),
    (["adversarial", "--steps", "0"], "--steps"),
    # random-features
    (["random-features", "--widths", ""], "--widths"),
    (["random-features", "--widths", "5,0"], "--widths"),
    (["random-features", "--alpha", "-1"], "--alpha"),
    (["random-features", "--n-samples", "10"], "--n-samples"),
    (["random-features", "--n-hidden", HUGE], "--n-hidden"),
    # single-layer
    (["single-layer", "--methods", "nope"], "--methods"),
    (["single-layer", "--methods", " , "], "--methods"),
    (["single-layer", "--max-time", "0"], "--max-time"),
    (["single-layer", "--passes", "inf"], "--passes"),
    (["single-layer", "--n-hidden", HUGE], "--n-hidden"),
    # inverse-crime
    (
        [
            "inverse-crime",
            "--n-classes",
            "1",
            "--n-samples",
            "30",
            "--n-features",
            "3",
            "--n-hidden",
            "2",
        ],
        "--n-classes",
    ),
    (["inverse-crime", "--method", "nope"], "--method"),
    (["inverse-crime", "--n-features", "0"], "--n-features"),
    (["inverse-crime", "--n-features", "1000000", "--n-hidden", "1000000"], "--n-features"),
    # dag
    (["dag", "--n-samples", "3"], "--n-samples"),
    (["dag", "--width", "2"], "--width"),
    (["dag", "--method", "sgd"], "--method"),
    (["dag", "--n-seeds", "0"], "--n-seeds"),
    (["dag", "--width", "1000000"], "--width"),
    # rnn
    (["rnn", "--n-steps", "1"], "--n-steps"),
    (["rnn", "--methods", "adam,nope"], "--methods"),
    (["rnn", "--n-train", "0"], "--n-train"),
    (["rnn", "--n-hidden", "1000000"], "--n-hidden"),
    # curvature-study and alexnet-claims (checked only where the subcommand exists)
    (["curvature-study", "--n-samples", "5"], "--n-samples"),
    (["curvature-study", "--hidden", ""], "--hidden"),
    (["curvature-study", "--damping", "0"], "--damping"),
    (["alexnet-claims", "--n-seeds", "0"], "--n-seeds"),
    (["alexnet-claims", "--dropout", "1"], "--dropout"),
    (["alexnet-claims", "--n-train", "5"], "--n-train"),
    # the non-convexity experiments of issue 17
    (["auer", "--dims", "0"], "--dims"),
    (["auer", "--dims", "1,5"], "--dims"),
    (["auer", "--per-axis", "5"], "--per-axis"),
    (["auer", "--extra", "-1"], "--extra"),
    (["auer", "--dims", "4", "--per-axis", "4"], "--per-axis"),
    (["baldi-hornik", "--n-outputs", "13"], "--n-outputs"),
    (["baldi-hornik", "--n-components", "6"], "--n-components"),
    (["baldi-hornik", "--n-inputs", "2"], "--n-components"),
    (["baldi-hornik", "--n-samples", "8"], "--n-samples"),
    (["baldi-hornik", "--n-starts", "0"], "--n-starts"),
    (["depth-landscape", "--depths", "0"], "--depths"),
    (["depth-landscape", "--depths", "1,17"], "--depths"),
    (["depth-landscape", "--n-params", "99"], "--n-params"),
    (["depth-landscape", "--radius", "0"], "--radius"),
    (["depth-landscape", "--n-grid", "2"], "--n-grid"),
    (["planted-recovery", "--dims", "0"], "--dims"),
    (["planted-recovery", "--sizes", "5"], "--sizes"),
    (["planted-recovery", "--sizes", "20", "--dims", "20"], "--sizes"),
    (["planted-recovery", "--n-seeds", "1"], "--n-seeds"),
    (["planted-recovery", "--noise", "-0.1"], "--noise"),
    (["planted-recovery", "--n-population", "10"], "--n-population"),
    (["qn-minibatch", "--batch-sizes", "1"], "--batch-sizes"),
    (["qn-minibatch", "--batch-sizes", "32,1798"], "--batch-sizes"),
    (["qn-minibatch", "--epochs", "0"], "--epochs"),
    (["qn-minibatch", "--alpha", "0"], "--alpha"),
    (["qn-minibatch", "--step-size", "nan"], "--step-size"),
    (["inverse-crime-global", "--strategies", "kick,nope"], "--strategies"),
    (["inverse-crime-global", "--budget", "0"], "--budget"),
    (["inverse-crime-global", "--threshold", "0"], "--threshold"),
    (["inverse-crime-global", "--n-seeds", "0"], "--n-seeds"),
    (["inverse-crime-global", "--n-features", "1000000", "--n-hidden", "1000000"], "--n-features"),
]

COMMANDS = set(_commands())


@pytest.fixture
def tmp(tmp_path):
    """A folder with a file ``file`` and a ten-row CSV ``data.csv`` (columns a, b, y)."""
    (tmp_path / "file").write_text("in the way\n")
    rows = "".join(f"{i},{i % 3},{i % 2}\n" for i in range(10))
    (tmp_path / "data.csv").write_text("a,b,y\n" + rows)
    return tmp_path


def run(argv):
    """``numnet argv`` in-process: the exit status, whether argparse exits or ``main`` returns."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


def command_line(argv, tmp):
    argv = [a.replace("{tmp}", str(tmp)) for a in argv]
    return (
        argv if "--out" in argv or argv[0] not in COMMANDS else [*argv, "--out", str(tmp / "out")]
    )


def assert_refused(code, out, err, fragment):
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("numnet: error: ")
    assert "Traceback" not in err
    assert fragment in lines[0], lines[0]
    assert out == ""  # refused before any work: nothing trained, nothing printed


def test_the_catalogue_covers_every_subcommand():
    assert len(CATALOGUE) >= 60
    assert COMMANDS <= {argv[0] for argv, _ in CATALOGUE}


@pytest.mark.parametrize("argv, fragment", CATALOGUE, ids=[" ".join(a) for a, _ in CATALOGUE])
def test_bad_command_line_is_one_line_naming_the_flag(argv, fragment, tmp, capsys):
    if argv[0] not in COMMANDS and argv[0] != "no-such-command":
        pytest.skip(f"no subcommand {argv[0]} here")
    code = run(command_line(argv, tmp))
    out, err = capsys.readouterr()
    assert_refused(code, out, err, fragment)
    assert not (tmp / "out").exists()


def test_every_option_has_a_checked_type():
    """No option of any subcommand is parsed by a bare int or float (only with a list of choices)."""
    sub = next(
        a for a in build_parser(_commands())._actions if isinstance(a, argparse._SubParsersAction)
    )
    bare = [
        f"{name} {action.option_strings[0]}"
        for name, parser in sub.choices.items()
        for action in parser._actions
        if action.option_strings and action.type in (int, float) and action.choices is None
    ]
    assert bare == []


# ------------------------------------------------------------------ --out is checked before any work


def _read_only_folder(tmp_path):
    """A folder this process cannot write in, or None (root writes through permissions)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return folder
    sysfs = "/sys/numnet-out-test"  # sysfs refuses new files even to root
    try:
        tempfile.TemporaryFile(dir="/sys").close()
    except OSError:
        return sysfs
    return None


@pytest.mark.parametrize("where", ["file", "under-file", "read-only"])
@pytest.mark.parametrize(
    "command",
    [["train", "peaks", "--max-iter", "2"], ["xor", "--n-starts", "1"], ["check", "--hidden", "2"]],
)
def test_an_unwritable_out_is_refused_before_training(command, where, tmp, capsys):
    out = {"file": tmp / "file", "under-file": tmp / "file" / "run"}.get(where)
    if where == "read-only":
        out = _read_only_folder(tmp)
        if out is None:
            pytest.skip("no folder here refuses this process a new file")
    code = run([*command, "--out", str(out)])
    stdout, err = capsys.readouterr()
    assert_refused(code, stdout, err, "--out")
    assert (tmp / "file").read_text() == "in the way\n"


def test_a_creatable_out_is_accepted_and_not_created_by_the_check(tmp):
    from numnet.cli._parser import output_dir

    target = tmp / "a" / "b"
    assert output_dir(str(target)) == str(target)
    assert not (tmp / "a").exists() and sorted(p.name for p in tmp.iterdir()) == [
        "data.csv",
        "file",
    ]


# ------------------------------------------------------------------ memory


def test_a_network_too_large_for_the_memory_is_refused_with_the_estimate(monkeypatch, tmp, capsys):
    monkeypatch.setattr(_memory, "available_bytes", lambda: 2**20)  # 1 MiB
    code = run(["train", "peaks", "--hidden", "50", "--out", str(tmp / "out")])
    out, err = capsys.readouterr()
    assert_refused(code, out, err, "--hidden 50")
    assert "parameters" in err and "with --method lbfgs on 800 rows" in err
    assert "MiB of memory, but 1.0 MiB is available" in err


def test_training_bytes_is_near_the_measured_peak():
    """The estimate of a run with sizeable arrays is within a factor 2 of its traced peak (NumPy reports
    its allocations to tracemalloc)."""
    seen = {}

    def spy(net, n_rows, method, itemsize=8):
        seen["estimate"] = _memory.training_bytes(net, n_rows, method, itemsize)
        return seen["estimate"]

    with tempfile.TemporaryDirectory() as out, pytest.MonkeyPatch.context() as mp:
        mp.setattr(train_command, "training_bytes", spy)
        tracemalloc.start()
        try:
            assert (
                main(
                    [
                        "train",
                        "peaks",
                        "--hidden",
                        "300,300",
                        "--max-iter",
                        "3",
                        "--quiet",
                        "--out",
                        out,
                    ]
                )
                == 0
            )
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert 0.5 < seen["estimate"] / peak < 2.0, (seen["estimate"], peak)


def _declared(function):
    """``function`` standing in for ``xor_experiment``: the same declaration, so the CLI still runs it."""
    function.spec = xor_module.xor_experiment.spec
    return function


def test_memory_error_is_a_one_line_usage_error(monkeypatch, tmp, capsys):
    def out_of_memory(**values):
        raise MemoryError("Unable to allocate 74.5 GiB for an array")

    monkeypatch.setattr(xor_module, "xor_experiment", _declared(out_of_memory))
    code = run(["xor", "--out", str(tmp / "out")])
    out, err = capsys.readouterr()
    assert_refused(code, out, err, "not enough memory: Unable to allocate 74.5 GiB")


# ------------------------------------------------------------------ no traceback, even for a bug


def test_an_unexpected_error_is_one_line_exit_1_and_its_traceback_on_request(
    monkeypatch, tmp, capsys
):
    def bug(**values):
        raise IndexError("index 8 is out of bounds for axis 1 with size 8")

    monkeypatch.setattr(xor_module, "xor_experiment", _declared(bug))
    assert run(["xor", "--out", str(tmp / "out")]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "numnet: internal error: IndexError: index 8 is out of bounds for axis 1 with size 8 "
        "(set NUMNET_DEBUG=1 for the traceback)"
    ]
    monkeypatch.setenv("NUMNET_DEBUG", "1")
    with pytest.raises(IndexError):
        main(["xor", "--out", str(tmp / "out")])


# ------------------------------------------------------------------ as a user runs them


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["linear-pca", "--n-components", "20"], "--n-components"),
        (["universal", "--max-units", "0"], "--max-units"),
        (
            [
                "inverse-crime",
                "--n-classes",
                "1",
                "--n-samples",
                "30",
                "--n-features",
                "3",
                "--n-hidden",
                "2",
            ],
            "--n-classes",
        ),
        (["train", "peaks", "--hidden", "100000,100000"], "--hidden"),
        (["xor", "--out", "{tmp}/file"], "--out"),
    ],
)
def test_in_a_subprocess(argv, fragment, tmp):
    argv = command_line(argv, tmp)
    env = {k: v for k, v in os.environ.items() if k != "NUMNET_DEBUG"}
    proc = subprocess.run(
        [sys.executable, "-m", "numnet", *argv],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
    )
    assert_refused(proc.returncode, proc.stdout, proc.stderr, fragment)
