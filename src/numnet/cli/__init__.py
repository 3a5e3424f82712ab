"""The ``numnet`` command: every experiment of the notes, ``train``, ``check`` and ``demo``.

A subcommand is an object with ``NAME``, ``HELP``, ``add_arguments(parser)``
and ``run(args)``: ``train`` and ``check`` are such modules; every experiment
found by :func:`numnet.experiments.discover` becomes one, generated from its
declared function by :class:`~numnet.cli._experiments.ExperimentCommand`, so a
new experiment module becomes a subcommand without touching this file (modules
not yet converted still carry the four names themselves). ``run`` returns an
:class:`~numnet.experiments.ExperimentResult` (printed and saved under
``--out``) or an exit code.

Errors the user can fix (bad arguments, invalid data, missing files, a run
too large for the memory) print one line ``numnet: error: ...`` naming the
flag to stderr and exit with status 2. Anything else is a bug: one line
``numnet: internal error: ...`` and status 1. No traceback is shown unless
``NUMNET_DEBUG=1`` is set.

Started by ``mpiexec -n K`` (or ``srun``), the command runs on every rank
and only rank 0 prints; ``train`` trains on all ranks' shards and rank 0
writes the outputs, other subcommands run on rank 0 alone. Every rank ends
with one agreed exit status, and a rank that fails while the others
compute stops them all (:mod:`numnet.distributed.launch`).
"""

import os
import sys

from ._parser import CommandError, build_parser

__all__ = ["main", "build_parser", "EXIT_USAGE"]

EXIT_USAGE = 2
EXIT_BUG = 1
_USER_ERRORS = (ValueError, TypeError, OSError, CommandError, MemoryError)


def _commands():
    """``{name: command}``: ``train``, ``check``, ``demo``, then every other discovered experiment."""
    from ..experiments import discover, entry_point
    from . import check, train
    from ._experiments import ExperimentCommand

    def command(module):  # a declared experiment function becomes a generated subcommand
        return module if entry_point(module) is None else ExperimentCommand(module)

    experiments = {name: command(module) for name, module in discover().items()}
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

    from ..distributed.launch import current
    from ..malloc import tune_malloc

    session = current()
    if (
        session is not None
        and not session.root
        and not getattr(args.command_module, "DISTRIBUTED", False)
    ):
        return 0  # under mpiexec, a subcommand that does not shard its work runs on rank 0 alone
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
        session = _session()
    except ImportError as exc:  # started by mpiexec without mpi4py
        print(f"numnet: error: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    status, line = _main(argv)
    if line:
        print(line, file=sys.stderr)
    return status if session is None else session.finish(status, line)


def _session():
    """The MPI session when ``mpiexec`` started several ranks (others than rank 0 made quiet), else None."""
    from ..distributed.comm import launched_size

    if launched_size() <= 1:
        return None
    from ..distributed.launch import open_session

    session = open_session()
    session.quiet()
    return session


def _main(argv):
    """``(exit status, error line or None)`` of the command."""
    from ..distributed.comm import DistributedError

    try:
        args = build_parser(_commands()).parse_args(argv)
        return _dispatch(args), None
    except BrokenPipeError:  # output piped into e.g. `head`, which closed early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1, None
    except _USER_ERRORS as exc:
        if os.environ.get("NUMNET_DEBUG"):
            raise
        memory = "not enough memory: " if isinstance(exc, MemoryError) else ""
        return EXIT_USAGE, f"numnet: error: {memory}{_one_line(exc)}"
    except (
        DistributedError
    ) as exc:  # another rank failed (mpiexec): its error, agreed on by every rank
        return EXIT_USAGE if exc.user_error else EXIT_BUG, f"numnet: error: {_one_line(exc)}"
    except KeyboardInterrupt:
        return 130, "numnet: interrupted"
    except Exception as exc:  # a bug: still one line; the traceback on request
        if os.environ.get("NUMNET_DEBUG"):
            raise
        return EXIT_BUG, (
            f"numnet: internal error: {type(exc).__name__}: {_one_line(exc)} "
            "(set NUMNET_DEBUG=1 for the traceback)"
        )
