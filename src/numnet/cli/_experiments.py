"""Subcommands generated from the experiment functions' declarations.

An experiment function declared with :func:`numnet.experiments._params.experiment`
becomes a subcommand here; the experiment knows nothing of argparse. Each
declared parameter becomes an option ``--<name-with-dashes>`` (or its declared
flag) parsed and checked by the parameter's kind, its help text ending in the
default read from the function's signature. Before the function runs, the
cross checks and the memory needs it declares are tried: a
:class:`~numnet.experiments._params.ParameterError` becomes a
:class:`~numnet.cli._parser.CommandError` naming the flags
(``argument --n-components: ...``), a run too large for the memory is refused
with the estimate. The result is printed (its ``details`` too, unless
``--quiet``) and saved under ``--out``.
"""

import argparse
import re

from ..experiments._params import Choice, Flag, Memory, ParameterError
from ._memory import require_memory, require_training_memory
from ._parser import CommandError

__all__ = ["ExperimentCommand"]


class ExperimentCommand:
    """The subcommand of the experiment function ``<module>_experiment`` of ``module`` (looked up at each run)."""

    DISTRIBUTED = False

    def __init__(self, module):
        self.module, self.attr = module, f"{module.__name__.rsplit('.', 1)[-1]}_experiment"
        self.spec = getattr(module, self.attr).spec
        self.NAME, self.HELP = self.spec.name, self.spec.help

    def flag(self, name):
        """The option of parameter ``name``: ``--n-hidden``."""
        kind = self.spec.kinds[name]
        return "--" + (kind.cli.flag if kind.cli else kind.flag or name.replace("_", "-"))

    def add_arguments(self, parser):
        defaults = self.spec.defaults()
        for name, kind in self.spec.kinds.items():
            if name != "seed":  # --seed is every subcommand's (cli._parser)
                _add_option(parser, self.flag(name), name, kind, defaults[name])
        if self.spec.details:
            parser.add_argument(
                "--quiet", action="store_true", help=f"do not print the {self.spec.details}"
            )

    def values(self, args):
        """The function's keyword arguments from the parsed ``args``."""
        params = self.spec.signature.parameters
        return {
            name: getattr(args, name)
            for name in self.spec.kinds
            if name in params and hasattr(args, name)
        }

    def run(self, args):
        """Check, run, print and save; the exit status."""
        values = self.values(args)
        try:
            values = self.spec.validate({**self.spec.defaults(), **values})
            for need in self.spec.memory_needs(values):
                self._require(need, values)
        except ParameterError as exc:
            raise CommandError(self.message(exc)) from None
        result = getattr(self.module, self.attr)(**values)
        if self.spec.details and not getattr(args, "quiet", False):
            print(result.details + "\n")
        print(result)
        paths = result.save(args.out)
        print("wrote: " + ", ".join(str(p) for p in paths))
        return 0

    def message(self, exc):
        """A :class:`ParameterError` in command-line words: parameter names become their flags."""
        reason = re.sub(
            r"\b(" + "|".join(map(re.escape, self.spec.kinds)) + r")\b",
            lambda m: self.flag(m.group(1)),
            exc.reason,
        )
        return f"argument {self.flag(exc.names[0])}: {reason}" if len(exc.names) == 1 else reason

    def _flags(self, params, values):
        shown = []
        for name in params:
            kind = self.spec.kinds[name]
            value = kind.cli.from_value(values[name]) if kind.cli else values[name]
            shown.append(f"{self.flag(name)} {(kind.cli.kind if kind.cli else kind).show(value)}")
        return ", ".join(shown)

    def _require(self, need, values):
        flags = self._flags(need.params, values)
        if isinstance(need, Memory):
            require_memory(need.nbytes, f"{flags}{' (' + need.what + ')' if need.what else ''}")
        else:
            require_training_memory(need.net, need.n_rows, need.method, flags)


def _add_option(parser, flag, name, kind, default):
    if isinstance(kind, Flag):
        parser.add_argument(flag, dest=name, action="store_true", help=kind.help)
        return
    shown, form = (kind.cli.from_value(default), kind.cli.kind) if kind.cli else (default, kind)
    parser.add_argument(
        flag,
        dest=name,
        type=_argparse_type(kind),
        default=default,
        metavar=_metavar(flag, form),
        help=f"{form.help or kind.help} (default: {form.show(shown)})".replace("%", "%%"),
    )


def _metavar(flag, kind):
    if isinstance(kind, Choice):
        return "{" + ",".join(map(str, kind.choices)) + "}"
    return flag.lstrip("-").upper().replace("-", "_")


def _argparse_type(kind):
    """An argparse type: the option's text parsed and checked by ``kind`` (its command-line form, if any)."""
    form = kind.cli.kind if kind.cli else kind

    def parse(text):
        try:
            value = form.parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        return kind.cli.to_value(value) if kind.cli else value

    parse.__name__ = form.what
    return parse
