"""The argument parser of ``numnet`` and the argument types its subcommands share."""

import argparse

__all__ = ["CommandError", "Parser", "build_parser", "int_list", "positive_int",
           "positive_float", "nonneg_float", "fraction", "float_list"]


class CommandError(Exception):
    """A usage error found after parsing (e.g. an option the chosen method does not take)."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line, ``numnet: error: ...``, and exit 2."""

    def error(self, message):
        hint = f" (see '{self.prog} --help')"
        self.exit(2, f"numnet: error: {message}{hint}\n")


def _common_arguments(parser):
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    parser.add_argument("--out", default="numnet-out", metavar="DIR",
                        help="output folder for figures and numbers (default: %(default)s)")
    parser.add_argument("--threads", type=positive_int, default=1,
                        help="BLAS threads; small networks run fastest on one (default: %(default)s)")


def build_parser(commands):
    """The ``numnet`` parser with one subcommand per module of ``commands`` (``{name: module}``)."""
    parser = Parser(prog="numnet", description="Numerical methods for deep learning: "
                    "the experiments of the notes, training and derivative checks.")
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"numnet {__version__}")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", dest="command", required=True)
    for name, module in commands.items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        _common_arguments(p)
        p.set_defaults(command_module=module)
    return parser


def _checked(convert, test, what):
    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
        if not test(value):
            raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
        return value

    parse.__name__ = what  # argparse names the type in its messages
    return parse


positive_int = _checked(int, lambda v: v >= 1, "a positive integer")
positive_float = _checked(float, lambda v: 0 < v < float("inf"), "a positive number")
nonneg_float = _checked(float, lambda v: 0 <= v < float("inf"), "a non-negative number")
fraction = _checked(float, lambda v: 0 <= v < 1, "a fraction in [0, 1)")


def _int_list(text):
    return [int(t) for t in text.split(",") if t.strip()] if text.strip() else []


int_list = _checked(_int_list, lambda v: all(x >= 1 for x in v),
                    "a comma-separated list of positive integers such as 50,50 (or '' for none)")


float_list = _checked(lambda t: [float(x) for x in t.split(",")],
                      lambda v: len(v) > 0 and all(0 < x < float("inf") for x in v),
                      "a comma-separated list of positive numbers such as 0.5,1,2")
