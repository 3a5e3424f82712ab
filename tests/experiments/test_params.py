"""The parameter template (:mod:`numnet.experiments._params`) as the subcommands use it.

Each theory experiment's generated subcommand parses to the entry point's signature defaults,
and its help text shows every default in the form the command line takes.
"""

import argparse

import pytest

from numnet.cli import _commands, build_parser

from experiment_support import THEORY


@pytest.mark.parametrize("name", sorted(THEORY))
def test_add_arguments_gives_defaults(name):
    """The subcommand's options parse to the entry point's signature defaults, and its help says them."""
    command = _commands()[name]
    parser = build_parser({name: command})
    args = parser.parse_args([name])
    values = command.values(args)
    assert values and all(v is not None for v in values.values())
    assert values == {k: command.spec.defaults()[k] for k in values}
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[
        name
    ]
    help_text = " ".join(sub.format_help().split())
    for k, v in values.items():
        form = command.spec.kinds[k].cli
        shown = form.kind.show(form.from_value(v)) if form else command.spec.kinds[k].show(v)
        assert f"(default: {shown})" in help_text
