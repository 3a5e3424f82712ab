"""``numnet train``: checkpoints, Ctrl-C and SIGTERM, ``--resume``, outputs written as one unit (issue 18, item 6).

A run of N iterations and a run of N/2 resumed to N write the same
``model.npz`` arrays and the same ``train.json`` history (clock readings
aside), bit for bit (one BLAS thread); so does a run interrupted by a real
SIGINT or SIGTERM in a child process and resumed. A Ctrl-C while the
outputs are written leaves the previous run's folder exactly as it was, and
one during the final renames is held back until they are done, so a folder
never mixes two runs. ``--resume`` refuses, in one line with exit 2, what is
not the recorded run.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from numnet import io as numnet_io
from numnet.cli import _run_folder, main
from numnet.optim import checkpoint as checkpoint_module

RUN = ["peaks", "--n-samples", "200", "--hidden", "6", "--quiet"]
ADAM = ["--method", "adam", "--batch-size", "32", "--learning-rate", "0.05"]


def train(*argv):
    """``numnet train argv…`` in this process; its exit status."""
    return main(["train", *map(str, argv)])


def outputs(folder):
    """The model's arrays and the history without its clock readings."""
    net, theta = numnet_io.load(folder / "model.npz")
    history = json.loads((folder / "train.json").read_text())["history"]
    return theta, [{k: v for k, v in h.items() if k != "time"} for h in history]


def assert_same_outputs(a, b):
    (theta_a, hist_a), (theta_b, hist_b) = outputs(a), outputs(b)
    np.testing.assert_array_equal(theta_a, theta_b)
    assert theta_a.dtype == theta_b.dtype and hist_a == hist_b


def files(folder):
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.parametrize(
    "method",
    [[], ADAM, ["--method", "sgd", "--batch-size", "32"], ["--method", "levenberg-marquardt"]],
    ids=["lbfgs", "adam", "sgd", "lm"],
)
def test_a_resumed_run_writes_the_uninterrupted_runs_outputs(tmp_path, method, capsys):
    assert train(*RUN, *method, "--max-iter", 8, "--out", tmp_path / "straight") == 0
    assert train(*RUN, *method, "--max-iter", 4, "--out", tmp_path / "split") == 0
    assert train("--resume", tmp_path / "split", "--max-iter", 8) == 0
    assert_same_outputs(tmp_path / "straight", tmp_path / "split")
    assert json.loads((tmp_path / "split" / "train.json").read_text())["nit"] == 8
    assert sorted(os.listdir(tmp_path)) == [
        "split",
        "straight",
    ]  # no checkpoint folder or temporary left


def test_the_layout_of_a_finished_run(tmp_path, capsys):
    out = tmp_path / "run"
    assert train(*RUN, *ADAM, "--max-iter", 3, "--checkpoint-every", 2, "--out", out) == 0
    assert sorted(os.listdir(out)) == [
        "checkpoint",
        "decision_boundary.png",
        "loss.png",
        "model.npz",
        "train.json",
    ]
    assert sorted(os.listdir(out / "checkpoint")) == ["run.json", "state.npz"]
    record = json.loads((out / "checkpoint" / "run.json").read_text())
    assert record["format"] == "numnet-train-run" and record["args"]["method"] == "adam"
    assert record["args"]["checkpoint_every"] == 2 and record["data_file"] is None
    assert checkpoint_module.read_checkpoint(out / "checkpoint" / "state.npz")["nit"] == 3
    assert "checkpoint" in capsys.readouterr().out.splitlines()[-1]


def test_checkpoint_every_k_iterations(tmp_path, monkeypatch, capsys):
    written = []
    real = checkpoint_module.write_checkpoint

    def spy(target, record):
        written.append(record["nit"])
        return real(target, record)

    import numnet.optim.driver as driver

    monkeypatch.setattr(driver, "write_checkpoint", spy)
    assert train(*RUN, "--max-iter", 7, "--checkpoint-every", 3, "--out", tmp_path / "a") == 0
    assert train(*RUN, "--max-iter", 7, "--out", tmp_path / "b") == 0
    assert written == [3, 6, 7, 7]  # every 3 and at the end; without the flag at the end only


def test_a_finished_run_can_be_extended_twice(tmp_path, capsys):
    assert train(*RUN, *ADAM, "--max-iter", 9, "--out", tmp_path / "straight") == 0
    assert train(*RUN, *ADAM, "--max-iter", 3, "--out", tmp_path / "run") == 0
    assert train("--resume", tmp_path / "run", "--max-iter", 6) == 0
    assert train("--resume", tmp_path / "run", "--max-iter", 9, "--method", "adam", "peaks") == 0
    assert_same_outputs(tmp_path / "straight", tmp_path / "run")


def test_a_data_file_run_resumes_from_another_folder(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((80, 3))
    rows = "\n".join(f"{a:.6f},{b:.6f},{c:.6f},{int(a + b > 0)}" for a, b, c in X)
    (tmp_path / "d.csv").write_text("a,b,c,y\n" + rows + "\n")
    monkeypatch.chdir(tmp_path)
    assert train("d.csv", "--hidden", 4, "--max-iter", 6, "--quiet", "--out", "straight") == 0
    assert train("d.csv", "--hidden", 4, "--max-iter", 3, "--quiet", "--out", "run") == 0
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert train("--resume", "../run", "--max-iter", 6) == 0
    assert_same_outputs(tmp_path / "straight", tmp_path / "run")
    (tmp_path / "d.csv").write_text("a,b,c,y\n" + rows.replace("1\n", "0\n", 1) + "\n")
    assert train("--resume", "../run", "--max-iter", 8) == 2
    assert "changed since the run started" in capsys.readouterr().err


# ------------------------------------------------------------------ what --resume refuses


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (["--resume", "{run}", "--method", "sgd"], "--method sgd differs from the run recorded in"),
        (["--resume", "{run}", "--hidden", "7"], "--hidden 7 differs"),
        (["--resume", "{run}", "xor"], "data xor differs"),
        (["--resume", "{run}", "--seed", "3"], "--seed 3 differs"),
        (["--resume", "{run}", "--out", "{tmp}/other"], "--out"),
        (["--resume", "{tmp}/nothing"], "no run is recorded there"),
        (["peaks", "--out", "{tmp}/foreign"], "holds files numnet train did not write (notes.txt)"),
        ([], "the data argument is required"),
    ],
)
def test_resume_refuses_what_is_not_the_recorded_run(tmp_path, argv, fragment, capsys):
    assert train(*RUN, *ADAM, "--max-iter", 2, "--out", tmp_path / "run") == 0
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine\n")
    before = files(tmp_path)
    capsys.readouterr()
    code = main(
        [
            "train",
            *[
                a.replace("{run}", str(tmp_path / "run")).replace("{tmp}", str(tmp_path))
                for a in argv
            ],
        ]
    )
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("numnet: error: ") and fragment in lines[0], err
    assert files(tmp_path) == before  # nothing written, nothing replaced


# ------------------------------------------------------------------ outputs as one unit


def test_ctrl_c_while_writing_the_outputs_leaves_the_previous_run_whole(
    tmp_path, monkeypatch, capsys
):
    out = tmp_path / "run"
    assert train(*RUN, "--max-iter", 3, "--out", out) == 0
    previous = files(out)
    import numnet.plots as plots

    def interrupt(fig, path, *args, **kwargs):
        assert (path.parent / "model.npz").is_file()  # between two writes of the new outputs
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(plots, "save_figure", interrupt)
        assert train(*RUN, "--max-iter", 6, "--out", out) == 130
    err = capsys.readouterr().err
    assert err.strip() == (
        f"numnet: interrupted by SIGINT after 6 of 6 iterations (checkpoint in {out}.checkpoint); "
        f"resume with: numnet train --resume {out}"
    )
    assert files(out) == previous
    assert sorted(os.listdir(tmp_path)) == ["run", "run.checkpoint"]  # the temporary folder is gone
    assert train("--resume", out) == 0
    assert train(*RUN, "--max-iter", 6, "--out", tmp_path / "straight") == 0
    assert_same_outputs(out, tmp_path / "straight")


def test_a_signal_during_the_final_renames_waits_until_they_are_done(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    assert train(*RUN, "--max-iter", 3, "--out", out) == 0
    real = os.replace
    calls = []

    def replace(src, dst):
        if str(dst).endswith(os.sep + "checkpoint") and not calls:
            os.kill(os.getpid(), signal.SIGINT)  # arrives as the swap begins
        if calls or str(dst).endswith(os.sep + "checkpoint"):
            calls.append(dst)
        return real(src, dst)

    monkeypatch.setattr(_run_folder.os, "replace", replace)
    assert train(*RUN, "--max-iter", 5, "--out", out) == 130
    assert len(calls) == 3  # checkpoint into the new folder, old one aside, new one into place
    assert f"after the run finished; its outputs are in {out}" in capsys.readouterr().err
    assert json.loads((out / "train.json").read_text())["nit"] == 5
    assert sorted(os.listdir(tmp_path)) == ["run"]


def test_dead_runs_temporary_folders_are_removed(tmp_path, capsys):
    stale = tmp_path / ".run.999999999.0123abcd.tmp"
    (stale / "checkpoint").mkdir(parents=True)
    assert train(*RUN, "--max-iter", 2, "--out", tmp_path / "run") == 0
    assert not stale.exists()


# ------------------------------------------------------------------ real signals


def _child(args, cwd):
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "numnet", "train", *map(str, args)],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_real_signal_leaves_a_checkpoint_that_resumes_bitwise(tmp_path, signum, code, capsys):
    out = tmp_path / "run"
    child = _child(
        [*RUN, *ADAM, "--max-iter", 10**6, "--checkpoint-every", 1, "--out", out], tmp_path
    )
    state = tmp_path / "run.checkpoint" / "state.npz"
    try:
        deadline = time.monotonic() + 120
        while not (state.is_file() and checkpoint_module.read_checkpoint(state)["nit"] >= 3):
            assert child.poll() is None and time.monotonic() < deadline, child.stderr.read()
            time.sleep(0.05)
        child.send_signal(signum)
        stdout, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == code, err
    nit = checkpoint_module.read_checkpoint(state)["nit"]
    assert err.strip() == (
        f"numnet: interrupted by {signal.Signals(signum).name} after {nit} of 1000000 "
        f"iterations (checkpoint in {out}.checkpoint); resume with: numnet train --resume {out}"
    )
    assert not out.exists() and stdout == ""
    assert train("--resume", out, "--max-iter", nit + 2) == 0
    assert train(*RUN, *ADAM, "--max-iter", nit + 2, "--out", tmp_path / "straight") == 0
    assert_same_outputs(out, tmp_path / "straight")


def test_a_new_run_over_an_interrupted_one_says_so(tmp_path, monkeypatch, capsys):
    out = tmp_path / "run"
    import numnet.plots as plots

    with monkeypatch.context() as m:
        m.setattr(plots, "save_figure", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
        assert train(*RUN, "--max-iter", 2, "--out", out) == 130
    capsys.readouterr()
    assert train(*RUN, "--max-iter", 2, "--out", out) == 0
    assert "numnet: note: a new run in" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["run"]
