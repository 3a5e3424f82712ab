"""What ``numnet train`` records of a run, and what ``--resume DIR`` takes from that record or refuses.

The record (``run.json``, :mod:`numnet.cli._run_folder`) holds the
arguments that make the run what it is (:data:`RUN_FLAGS`: the data and its
SHA-256 when it is a file, the split, the network, the loss, the method and
its options, the seed) and those of the session (:data:`SESSION_FLAGS`:
``--max-iter``, ``--checkpoint-every``, ``--threads``, ``--quiet``). On
``--resume`` every argument left at its default takes the recorded value;
a run argument given with another value is refused (one line naming the
flag, exit 2), as is a data file whose content changed; session arguments
may be given anew (``--max-iter`` counts every iteration of the run, those
before the interruption included; another ``--threads`` continues the run
but no longer bit for bit). A run argument given with its default value
cannot be told from one left out, so it takes the recorded value.
"""

import hashlib
from pathlib import Path

from ._parser import CommandError
from ._run_folder import FORMAT, RunFolder

__all__ = ["RUN_FLAGS", "SESSION_FLAGS", "open_run", "run_record", "merge_recorded"]

RUN_FLAGS = {
    "data": "data",
    "target": "--target",
    "n_samples": "--n-samples",
    "task": "--task",
    "hidden": "--hidden",
    "activation": "--activation",
    "arch": "--arch",
    "input_shape": "--input-shape",
    "loss": "--loss",
    "method": "--method",
    "batch_size": "--batch-size",
    "learning_rate": "--learning-rate",
    "alpha": "--alpha",
    "val_fraction": "--val-fraction",
    "no_standardize": "--no-standardize",
    "seed": "--seed",
}
"""The arguments that define a run (argparse name → flag)."""
SESSION_FLAGS = {
    "max_iter": "--max-iter",
    "checkpoint_every": "--checkpoint-every",
    "threads": "--threads",
    "quiet": "--quiet",
}
"""The arguments a resumed session may change."""


def open_run(args):
    """The run's :class:`RunFolder`, checked before any work, and the checkpoint to continue (or None).

    With --resume the recorded arguments are merged into ``args`` first
    (``args.train_parser`` gives the defaults) and ``args.out`` becomes DIR.
    """
    if args.resume is None:
        if args.data is None:
            raise CommandError(
                "the data argument is required: a built-in data set or a .csv/.npz file "
                "(or --resume DIR to continue a run)"
            )
        folder = RunFolder(args.out)
        folder.check_replaceable()
        return folder, None
    defaults = {name: args.train_parser.get_default(name) for name in vars(args)}
    if args.out != defaults["out"] and Path(args.out) != Path(args.resume):
        raise CommandError(
            f"--out {args.out}: a resumed run writes to its own folder ({args.resume}); "
            "leave --out out"
        )
    folder = RunFolder(args.resume)
    record, state = folder.recorded()
    merge_recorded(args, record, defaults, args.resume)
    args.out = args.resume
    folder.check_replaceable("--resume")
    return folder, state


def run_record(args):
    """The JSON record of the run ``args`` describe (after --resume has been merged)."""
    from .. import __version__

    record = {
        "format": FORMAT,
        "version": 1,
        "numnet_version": __version__,
        "args": {name: getattr(args, name) for name in (*RUN_FLAGS, *SESSION_FLAGS)},
        "data_file": None,
    }
    path = Path(str(args.data))
    if path.is_file():
        record["data_file"] = {"path": str(path.resolve()), "sha256": _sha256(path)}
    return record


def merge_recorded(args, record, defaults, where):
    """Fill ``args`` from the recorded run; CommandError for a run argument that contradicts it."""
    recorded = record.get("args")
    if not isinstance(recorded, dict) or set(recorded) != set(RUN_FLAGS) | set(SESSION_FLAGS):
        raise CommandError(
            f"--resume {where}: the run record is incomplete or of another numnet version"
        )
    for name, flag in RUN_FLAGS.items():
        given, was = getattr(args, name), recorded[name]
        if given != defaults[name] and not _same(name, given, was, record):
            raise CommandError(
                f"{_show(flag, given)} differs from the run recorded in {where} "
                f"({_show(flag, was)}): --resume continues that run; leave {flag} out, "
                "or start a new run with another --out"
            )
        setattr(args, name, was)
    for name in SESSION_FLAGS:
        if getattr(args, name) == defaults[name]:
            setattr(args, name, recorded[name])
    _check_data_file(args, record, where)


def _same(name, given, was, record):
    if name == "data" and record.get("data_file") and Path(str(given)).is_file():
        return str(Path(given).resolve()) == record["data_file"]["path"]
    return given == was or (isinstance(given, tuple) and list(given) == was)


def _show(flag, value):
    if flag == "data":
        return f"data {value}"
    if isinstance(value, bool):
        return flag if value else f"no {flag}"
    if isinstance(value, list):
        value = ",".join(map(str, value))
    return f"{flag} {value}"


def _check_data_file(args, record, where):
    """The recorded data file, unchanged; ``args.data`` becomes its absolute path."""
    data_file = record.get("data_file")
    if not data_file:
        return
    path = Path(data_file["path"])
    if not path.is_file():
        raise CommandError(f"--resume {where}: the run's data file {path} no longer exists")
    if _sha256(path) != data_file["sha256"]:
        raise CommandError(
            f"--resume {where}: the run's data file {path} changed since the run started "
            "(its SHA-256 differs); start a new run"
        )
    args.data = str(path)


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
