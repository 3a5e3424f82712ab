"""The argument parser of ``numnet`` and the argument types its subcommands share.

Every option of every subcommand is parsed by one of the types below, built
on the one set of parameter kinds of :mod:`numnet.experiments._params` (the
experiments' subcommands are generated from those kinds directly), so a
bad value is refused while parsing, in one line that names the flag:
``numnet: error: argument --n-starts: expected an integer >= 1, got '0'``.
A type states its range in the message, and why when the range is not
obvious. Constraints *between* options are checked in the subcommand's
``run`` and raised as a :class:`CommandError` that names both flags.
"""

import argparse
import os
import tempfile
from pathlib import Path

from ..experiments import _params

__all__ = [
    "CommandError",
    "Parser",
    "build_parser",
    "argparse_type",
    "int_range",
    "float_range",
    "int_list_of",
    "float_list_of",
    "method_name",
    "method_list",
    "output_dir",
    "positive_int",
    "nonneg_int",
    "seed_int",
    "positive_float",
    "nonneg_float",
    "fraction",
    "int_list",
    "float_list",
]


class CommandError(Exception):
    """A usage error found after parsing (e.g. an option the chosen method does not take)."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, ``numnet: error: ...``, and exit 2."""

    def error(self, message):
        hint = f" (see '{self.prog} --help')"
        self.exit(2, f"numnet: error: {message}{hint}\n")


def _common_arguments(parser):
    parser.add_argument(
        "--seed",
        type=seed_int,
        default=0,
        help="random seed, 0 to 2**32 - 1 (default: %(default)s)",
    )
    parser.add_argument(
        "--out",
        type=output_dir,
        default="numnet-out",
        metavar="DIR",
        help="output folder for figures and numbers, checked to be writable before any "
        "work (default: %(default)s)",
    )
    parser.add_argument(
        "--threads",
        type=positive_int,
        default=1,
        help="BLAS threads; small networks run fastest on one (default: %(default)s)",
    )


def build_parser(commands):
    """The ``numnet`` parser with one subcommand per module of ``commands`` (``{name: module}``)."""
    parser = Parser(
        prog="numnet",
        description="Numerical methods for deep learning: "
        "the experiments of the notes, training and derivative checks.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"numnet {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command", required=True)
    for name, module in commands.items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        _common_arguments(p)
        p.set_defaults(command_module=module)
    return parser


def argparse_type(kind):
    """An argparse type from an experiment parameter kind (:mod:`numnet.experiments._params`): the text
    parsed and checked by ``kind``, refused as "expected <what>, got '<text>'"."""

    def parse(text):
        try:
            return kind.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = kind.what  # argparse names the type in its messages
    return parse


def _listed(kind):
    """As :func:`argparse_type`, the tuple returned as a list (what these types always returned)."""
    parse = argparse_type(kind)

    def as_list(text):
        return list(parse(text))

    as_list.__name__ = parse.__name__
    return as_list


def int_range(minimum=None, maximum=None, why=None):
    """An argparse type: an integer in [minimum, maximum] (either bound may be None); ``why`` explains it."""
    return argparse_type(_params.Int(minimum, maximum, why=why))


def float_range(minimum=None, maximum=None, *, open_min=False, open_max=False, why=None):
    """An argparse type: a finite float between the bounds (open or closed; None: unbounded)."""
    return argparse_type(
        _params.Float(minimum, maximum, open_min=open_min, open_max=open_max, why=why)
    )


def int_list_of(minimum=1, maximum=None, *, empty=True, example="50,50"):
    """An argparse type: comma-separated integers in [minimum, maximum]; ``''`` is [] when ``empty``."""
    return _listed(_params.IntList(minimum, maximum, empty=empty, example=example))


def float_list_of(minimum=0.0, maximum=None, *, example="0.5,1,2"):
    """An argparse type: a non-empty comma-separated list of finite floats in (minimum, maximum]."""
    return _listed(_params.FloatList(minimum, maximum, example=example))


def method_name(text):
    """An argparse type: a method of :func:`numnet.optim.minimize`."""
    kind = _params.Choice(_params.Methods().choices)
    return argparse_type(kind)(text)


def method_list(choices=None):
    """An argparse type: a non-empty comma-separated list of ``choices`` (default: every minimize method)."""
    return _listed(_params.Methods(choices))


def _nearest_existing(path):
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def output_dir(text):
    """An argparse type: a folder that exists or can be created, and can be written, checked before any work.

    A file in the way, a path under a file and a folder without write
    permission are refused; nothing is created (a probe file in the nearest
    existing folder is removed at once).
    """
    path = Path(text).expanduser()
    if not text.strip():
        raise argparse.ArgumentTypeError("expected a folder, got ''")
    if os.path.lexists(path) and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    base = _nearest_existing(path.absolute())
    if not base.is_dir():
        raise argparse.ArgumentTypeError(
            f"cannot create {text!r}: {str(base)!r} is a file, not a folder"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".numnet-probe-", dir=base)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise argparse.ArgumentTypeError(
            f"cannot write {text!r}: {str(base)!r}: {exc.strerror}"
        ) from None
    return text


positive_int = int_range(1)
nonneg_int = int_range(0)
seed_int = int_range(0, 2**32 - 1)
positive_float = float_range(0.0, open_min=True)
nonneg_float = float_range(0.0)
fraction = float_range(0.0, 1.0, open_max=True)
int_list = int_list_of()
float_list = float_list_of()
