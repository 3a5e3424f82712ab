"""The ``numnet`` command: every experiment of the notes, ``train``, ``check`` and ``demo``.

Subcommands are modules with the experiment protocol of
:mod:`numnet.experiments` (``NAME``, ``HELP``, ``add_arguments(parser)``,
``run(args)``). Experiments are found by :func:`numnet.experiments.discover`,
so a new experiment module becomes a subcommand without touching this file.
``run`` returns an :class:`~numnet.experiments.ExperimentResult` (printed and
saved under ``--out``) or an exit code.

Errors the user can fix (bad arguments, invalid data, missing files, a run
too large for the memory) print one line ``numnet: error: ...`` naming the
flag to stderr and exit with status 2. Anything else is a bug: one line
``numnet: internal error: ...`` and status 1. No traceback is shown unless
``NUMNET_DEBUG=1`` is set.
"""

import os
import sys

from ._parser import CommandError, build_parser

__all__ = ["main", "build_parser", "EXIT_USAGE"]

EXIT_USAGE = 2
EXIT_BUG = 1
_USER_ERRORS = (ValueError, TypeError, OSError, CommandError, MemoryError)


def _commands():
    """``{name: module}``: ``train``, ``check``, ``demo``, then every other discovered experiment."""
    from ..experiments import discover
    from . import check, train

    experiments = discover()
    first = {train.NAME: train, check.NAME: check}
    if "demo" in experiments:
        first["demo"] = experiments.pop("demo")
    return {**first, **experiments}


def _report(result, args):
    """Print an experiment result, save it under ``args.out`` and list the files."""
    print(result)
    paths = result.save(args.out)
    print("wrote: " + ", ".join(str(p) for p in paths))
    return 0


def _dispatch(args):
    from threadpoolctl import threadpool_limits

    from ..malloc import tune_malloc

    tune_malloc()  # this process is ours: keep freed arrays mapped (see numnet.malloc)
    with threadpool_limits(limits=args.threads):
        result = args.command_module.run(args)
    if isinstance(result, int):
        return result
    return _report(result, args)


def _one_line(exc):
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv=None):
    """Run the ``numnet`` command with ``argv`` (``sys.argv[1:]`` when None); return the exit status."""
    try:
        args = build_parser(_commands()).parse_args(argv)
        return _dispatch(args)
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except _USER_ERRORS as exc:
        if os.environ.get("NUMNET_DEBUG"):
            raise
        memory = "not enough memory: " if isinstance(exc, MemoryError) else ""
        print(f"numnet: error: {memory}{_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("numnet: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line; the traceback on request
        if os.environ.get("NUMNET_DEBUG"):
            raise
        print(f"numnet: internal error: {type(exc).__name__}: {_one_line(exc)} "
              "(set NUMNET_DEBUG=1 for the traceback)", file=sys.stderr)
        return EXIT_BUG
