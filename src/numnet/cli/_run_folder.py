"""The folders of one ``numnet train`` run: its checkpoint while it runs, its outputs written as one unit.

Layout, for ``--out OUT``::

    OUT/                          the last run that finished (replaced as a whole by the next one)
        model.npz  train.json  loss.png  [decision_boundary.png]
        checkpoint/run.json       the run's arguments: what --resume needs
        checkpoint/state.npz      the optimizer's checkpoint at the end of the run
    OUT.checkpoint/               the run in progress, or interrupted: run.json, state.npz
    .OUT.<pid>.<random>.tmp/      the outputs being written (the next OUT)
    .OUT.<pid>.<random>.old/      the previous OUT, for the instant between two renames

A run writes ``OUT.checkpoint/run.json`` before its first iteration and
``state.npz`` there (atomically) every ``--checkpoint-every`` iterations, on
Ctrl-C or SIGTERM, and at the end. When it finishes, every output is written
into the temporary folder; then, with SIGINT and SIGTERM held back, the
checkpoint folder moves into it as ``checkpoint/``, OUT (if any) is renamed
aside, the temporary folder is renamed to OUT, and the old one is removed.
An interrupt before that leaves OUT as it was (the previous run, whole) and
the temporary folder is removed; nothing ever mixes two runs. Only a
SIGKILL or a power cut in the instant between the two renames leaves no OUT
(the previous run is then in ``.OUT.*.old``, the new one in ``.OUT.*.tmp``).
Temporary folders whose process is gone are removed by the next run. An
existing OUT is replaced only if it holds nothing but what ``numnet train``
writes; anything else is refused before training.
"""

import contextlib
import json
import os
import re
import secrets
import shutil
from pathlib import Path

from .._files import atomic_path, process_running
from ..optim.checkpoint import signals_held
from ._parser import CommandError

__all__ = ["RunFolder", "OUTPUT_NAMES", "FORMAT"]

FORMAT = "numnet-train-run"
"""The format tag of ``run.json``."""

OUTPUT_NAMES = frozenset(
    {"model.npz", "train.json", "loss.png", "decision_boundary.png", "checkpoint"}
)
"""What a finished run's folder holds (and all an existing --out may hold to be replaced)."""
_LEFTOVER = re.compile(
    r"\..+\.tmp(\.\w+)?"
)  # a temporary file of an atomic write killed before its rename
_RUN, _STATE = "run.json", "state.npz"


class RunFolder:
    """The places of a run whose outputs go to ``out``.

    Attributes
    ----------
    out : Path
        The finished run's folder (``--out``).
    live : Path
        ``OUT.checkpoint``: the run in progress.
    started, published : bool
        Whether :meth:`start` has recorded the run in ``live``, and
        :meth:`publish` made the new outputs OUT.
    """

    def __init__(self, out):
        self.out = Path(out).expanduser()
        self.live = self.out.with_name(self.out.name + ".checkpoint")
        self.started = self.published = False

    @property
    def state(self):
        """The checkpoint file of the run in progress."""
        return self.live / _STATE

    def check_replaceable(self, flag="--out"):
        """Refuse (before any work) an OUT that holds other files, or that the siblings cannot be written beside."""
        out, cwd = self.out.resolve(), Path.cwd().resolve()
        if out in (cwd, *cwd.parents):
            raise CommandError(
                f"{flag} {self.out} is the working folder or contains it; numnet train replaces "
                "that folder when the run finishes: choose another"
            )
        if out.is_dir():
            foreign = sorted(
                p.name
                for p in out.iterdir()
                if p.name not in OUTPUT_NAMES and not _LEFTOVER.fullmatch(p.name)
            )
            if foreign:
                raise CommandError(
                    f"{flag} {self.out} holds files numnet train did not write ({', '.join(foreign[:5])}"
                    f"{', …' if len(foreign) > 5 else ''}); a finished run replaces the whole folder: "
                    "choose another or move them"
                )
        parent = next((p for p in out.parents if p.exists()), None)
        if parent is None or not os.access(parent, os.W_OK | os.X_OK):
            raise CommandError(
                f"{flag} {self.out}: its parent folder cannot be written, and numnet train writes "
                f"{self.live.name} and a temporary folder beside it"
            )

    # ------------------------------------------------------------------ the run in progress

    def recorded(self):
        """``(run record, checkpoint path or None)`` of the run recorded here: in progress first, else finished."""
        for folder in (self.live, self.out / "checkpoint"):
            if (folder / _RUN).is_file():
                state = folder / _STATE
                return _read_record(folder / _RUN), (state if state.is_file() else None)
        raise CommandError(
            f"--resume {self.out}: no run is recorded there (neither {self.live / _RUN} nor "
            f"{self.out / 'checkpoint' / _RUN} exists); give the --out folder of a numnet train run"
        )

    def start(self, record, state=None):
        """Make ``live`` hold ``record`` (and a copy of ``state``, a finished run's checkpoint, when given)."""
        remove_stale(self.out)
        if state is None or state.parent != self.live:
            shutil.rmtree(self.live, ignore_errors=True)
        self.live.mkdir(parents=True, exist_ok=True)
        if state is not None and state.parent != self.live:
            with atomic_path(self.state, suffix=".npz") as tmp:
                shutil.copyfile(state, tmp)
        with atomic_path(self.live / _RUN) as tmp:
            tmp.write_text(json.dumps(record, indent=2))
        self.started = True

    # ------------------------------------------------------------------ the outputs, as one unit

    def publish(self, write):
        """Call ``write(folder)`` on a fresh temporary folder, then make it OUT (see the module notes)."""
        tmp = self._sibling("tmp")
        tmp.mkdir()
        try:
            paths = write(tmp)
            with signals_held():
                self._swap(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return [self.out / Path(p).relative_to(tmp) for p in paths]

    def _swap(self, tmp):
        """Checkpoint into ``tmp``, OUT aside, ``tmp`` to OUT; undone step by step if a rename fails."""
        moved = self.live.is_dir()
        if moved:
            os.replace(self.live, tmp / "checkpoint")
        old = self._sibling("old") if self.out.exists() else None
        try:
            if old is not None:
                os.replace(self.out, old)
            try:
                os.replace(tmp, self.out)
            except BaseException:
                if old is not None:
                    os.replace(old, self.out)
                raise
        except BaseException:
            if moved:
                os.replace(tmp / "checkpoint", self.live)
            raise
        self.published = True
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _sibling(self, kind):
        return self.out.with_name(f".{self.out.name}.{os.getpid()}.{secrets.token_hex(4)}.{kind}")


def _read_record(path):
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CommandError(f"--resume: {path} is not a readable run record: {exc}") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise CommandError(f"--resume: {path} is not a numnet train run record")
    return record


def remove_stale(out):
    """Remove the temporary folders beside ``out`` whose process is no longer running; return their names."""
    pattern = re.compile(rf"\.{re.escape(out.name)}\.(\d+)\.[0-9a-f]{{8}}\.(tmp|old)")
    removed = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(out.parent if str(out.parent) else "."):
            match = pattern.fullmatch(entry.name)
            if match and entry.is_dir() and not process_running(int(match.group(1))):
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry.name)
    return removed
