"""numnet._files: atomic writes and the temporaries that killed writers leave behind.

:func:`~numnet._files.atomic_path` hands out a hidden temporary beside the
target and renames it onto the target only when the write succeeds, so a
failed write leaves the previous file and no temporary;
:func:`~numnet._files.remove_stale` removes a target's temporaries by the rule
of the module notes (the writer's process gone and :data:`STALE_AFTER` seconds
without a write, or no pid and :data:`STALE_UNKNOWN` seconds), given a clock
reading, so nothing here waits; :func:`~numnet._files.process_running` says
whether a pid is alive. The two tests of ``numnet.save`` removing what a
killed save left (issue 18) come last.
"""

import os
import signal
import stat
import subprocess
import sys
import time

import numpy as np
import pytest

from numnet._files import STALE_AFTER, STALE_UNKNOWN, atomic_path, process_running, remove_stale
from numnet.io import load, save

POSIX = pytest.mark.skipif(os.name != "posix", reason="process liveness by os.kill(pid, 0)")


# ------------------------------------------------------------ atomic_path


def test_atomic_path_renames_the_temporary_onto_the_target(tmp_path):
    target = tmp_path / "sub" / "deeper" / "out.txt"
    with atomic_path(target, suffix=".txt") as tmp:
        assert tmp.parent == target.parent and not target.exists()
        assert tmp.name.startswith(f".out.txt.{os.getpid()}.") and tmp.name.endswith(".tmp.txt")
        tmp.write_text("new")
    assert target.read_text() == "new"
    assert os.listdir(target.parent) == ["out.txt"]


def test_atomic_path_replaces_an_existing_file(tmp_path):
    target = tmp_path / "run.json"
    target.write_text("old")
    with atomic_path(str(target)) as tmp:
        assert tmp.name.endswith(".tmp") and target.read_text() == "old"
        tmp.write_text("new")
    assert target.read_text() == "new" and os.listdir(tmp_path) == ["run.json"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_atomic_path_gives_the_mode_of_a_file_opened_as_usual(tmp_path):
    """mkstemp makes 0600; the renamed file has 0666 less the umask, as ``open(path, "w")`` would."""
    previous = os.umask(0o022)
    try:
        (tmp_path / "plain").write_text("x")
        with atomic_path(tmp_path / "atomic") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(previous)
    modes = {stat.S_IMODE((tmp_path / name).stat().st_mode) for name in ("plain", "atomic")}
    assert modes == {0o644}


def test_failed_write_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "model.npz"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(target, suffix=".npz") as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("disk full")
    assert target.read_bytes() == b"old" and os.listdir(tmp_path) == ["model.npz"]


def test_failed_first_write_creates_no_target(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(tmp_path / "new.png", suffix=".png") as tmp:
            tmp.write_bytes(b"\x89PNG")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_atomic_path_removes_stale_temporaries_of_its_target_first(tmp_path):
    old = _temp(tmp_path, "out.json", None, STALE_UNKNOWN + 1, "abcd_123")
    other = _temp(tmp_path, "other.json", None, STALE_UNKNOWN + 1, "abcd_123")
    with atomic_path(tmp_path / "out.json") as tmp:
        assert old not in os.listdir(tmp_path)
        tmp.write_text("{}")
    assert sorted(os.listdir(tmp_path)) == sorted(["out.json", other])


# ------------------------------------------------------------ remove_stale, process_running


@POSIX
def test_remove_stale_by_the_writers_pid_and_the_age_at_a_given_time(tmp_path):
    dead, target = _dead_pid(), tmp_path / "m.npz"
    of_dead = _temp(tmp_path, "m.npz", dead, 0, "dead_001")
    of_live = _temp(tmp_path, "m.npz", os.getpid(), 0, "live_001")
    without_pid = _temp(tmp_path, "m.npz", None, 0, "nopid_01")
    now = time.time()
    assert remove_stale(target, now=now) == []
    assert remove_stale(target, now=now + STALE_AFTER + 5) == [of_dead]
    assert remove_stale(target, now=now + STALE_UNKNOWN - 5) == []
    assert remove_stale(target, now=now + STALE_UNKNOWN + 5) == [without_pid]
    assert remove_stale(target, now=now + 100 * STALE_UNKNOWN) == []
    assert _temporaries(tmp_path) == [of_live]


def test_remove_stale_leaves_names_that_are_not_its_targets_temporaries(tmp_path):
    names = [
        "m.npz",
        ".m.npz.backup",
        ".m.npz.abcdefg.tmp",  # 7 random characters, not 8
        ".m.npz.ABCDEFGH.tmp",  # mkstemp's names are lower case
        ".m.npz.abcdefgh.tmp~",
        ".m.npz.abcdefgh.tmp.a.b",
        ".n.npz.abcdefgh.tmp",
        ".m.npz.abcdefgh.npz",
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    assert remove_stale(tmp_path / "m.npz", now=time.time() + 100 * STALE_UNKNOWN) == []
    assert sorted(os.listdir(tmp_path)) == sorted(names)


def test_remove_stale_skips_what_it_cannot_remove(tmp_path):
    (tmp_path / ".m.npz.abcdefgh.tmp").mkdir()  # named like a temporary, but a folder
    (tmp_path / ".m.npz.12345678.tmp.npz").write_bytes(b"x")
    later = time.time() + 2 * STALE_UNKNOWN
    assert remove_stale(tmp_path / "m.npz", now=later) == [".m.npz.12345678.tmp.npz"]
    assert os.listdir(tmp_path) == [".m.npz.abcdefgh.tmp"]
    assert remove_stale(tmp_path / "missing" / "m.npz", now=later) == []


def test_process_running_is_true_when_it_cannot_tell():
    assert process_running(os.getpid())
    assert process_running(0) and process_running(-7)
    assert process_running(2**70)  # no such pid can be asked about


@POSIX
def test_process_running_tells_a_live_process_from_an_ended_one():
    assert process_running(os.getppid())
    assert not process_running(_dead_pid())


# ------------------------------------------------------------ issue 18: stale temporaries of killed saves


def _temporaries(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and ".tmp" in p.name)


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _temp(folder, target, pid, age, tag):
    """A temporary named as atomic_path names them (``tag``: its 8 random characters), ``age`` s old."""
    name = f".{target}.{pid}.{tag}.tmp.npz" if pid is not None else f".{target}.{tag}.tmp.npz"
    path = folder / name
    path.write_bytes(b"partial")
    os.utime(path, (time.time() - age, time.time() - age))
    return name


@pytest.mark.skipif(os.name != "posix", reason="process liveness by os.kill(pid, 0)")
def test_next_save_removes_only_stale_temporaries_of_its_target(tmp_path):
    dead, alive = _dead_pid(), os.getpid()
    stale = [
        _temp(tmp_path, "model.npz", dead, STALE_AFTER + 1, "stale_01"),
        _temp(tmp_path, "model.npz", None, STALE_UNKNOWN + 1, "stale_02"),
        _temp(tmp_path, "model.npz", None, STALE_UNKNOWN + 1, "12345678"),
    ]
    kept = [
        _temp(
            tmp_path, "model.npz", dead, 0, "fresh_01"
        ),  # a dead writer's, but just written: left for now
        _temp(
            tmp_path, "model.npz", alive, 10 * STALE_UNKNOWN, "alive_01"
        ),  # a live writer's: never removed
        _temp(tmp_path, "model.npz", None, 60, "fresh_02"),
        _temp(tmp_path, "other.npz", dead, STALE_UNKNOWN + 1, "other_01"),  # another target's
        _temp(tmp_path, "model.npz.1", dead, STALE_UNKNOWN + 1, "other_02"),
    ]
    save(np.arange(3.0), tmp_path / "model.npz")
    assert _temporaries(tmp_path) == sorted(kept)
    assert not set(stale) & set(os.listdir(tmp_path))


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_temporary_left_by_a_killed_save_is_removed_by_the_next_save(tmp_path):
    """A child saving in a loop is SIGKILLed mid-write; its temporary is removed once stale."""
    target = tmp_path / "model.npz"
    code = (
        "import sys, numpy as np, numnet\ntheta = np.random.default_rng(0).standard_normal(2**21)\n"
        "while True:\n    numnet.save(theta, sys.argv[1])\n"
    )
    for _ in range(5):
        child = subprocess.Popen([sys.executable, "-c", code, str(target)])
        try:
            while not target.exists() or not _temporaries(tmp_path):
                assert child.poll() is None, "the saving child ended"
                time.sleep(0.001)
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        left = _temporaries(tmp_path)
        if left:
            break
    assert left and all(f".{child.pid}." in name for name in left)
    assert load(target).shape == (2**21,)  # the last complete save, intact
    save(np.arange(3.0), tmp_path / "model.npz")
    assert _temporaries(tmp_path) == left  # too fresh to be called stale yet
    for name in left:
        os.utime(tmp_path / name, (time.time() - STALE_AFTER - 1,) * 2)
    save(np.arange(3.0), tmp_path / "model.npz")
    assert _temporaries(tmp_path) == [] and np.array_equal(load(target), np.arange(3.0))
