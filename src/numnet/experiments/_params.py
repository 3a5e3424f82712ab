"""The experiment template: declared parameters, one set of validators, the ``experiment`` decorator.

An experiment is a plain function with keyword-only parameters, its defaults in
its signature, declared once with the kind and help text of each parameter the
command line offers::

    @experiment("xor", "XOR: ...", n_hidden=Int(1, help="hidden units"), n_starts=Int(1, help="starts"))
    def xor_experiment(*, seed=0, n_hidden=4, n_starts=5, activation="tanh", plot=True):
        ...

Calling the function checks every declared parameter (and ``seed``) and then the
experiment's cross checks, before any work: a bad value raises
:class:`ParameterError` (a ``ValueError``) or ``TypeError`` whose message starts
with the parameter's name (``n_hidden: expected an integer >= 1, got 0``). The
``numnet`` command builds each subcommand from the same declaration
(:mod:`numnet.cli._experiments`): one option per declared parameter, the help
text ending in the default read from the signature, the value parsed and
checked by the same kind, and a :class:`ParameterError` reported as
``argument --flag-name: ...``. Nothing here imports the command line.

A kind states its range in its messages ("an integer >= 1"), and why when the
range is not obvious.
"""

import functools
import inspect
import math
import numbers
from typing import NamedTuple

import numpy as np

__all__ = [
    "ParameterError",
    "Kind",
    "Int",
    "Float",
    "IntList",
    "FloatList",
    "Choice",
    "Methods",
    "Flag",
    "Optional",
    "CommandLine",
    "Training",
    "Memory",
    "Spec",
    "experiment",
    "spec_of",
    "deprecated_alias",
    "SEED",
]


class ParameterError(ValueError):
    """A bad experiment parameter: ``names`` are the parameters at fault, ``reason`` the message without them
    in front (the command line writes its own prefix, with the flags)."""

    def __init__(self, reason, *names):
        self.reason, self.names = reason, names
        super().__init__(f"{names[0]}: {reason}" if len(names) == 1 else reason)


class Kind:
    """How one parameter is written on a command line (``parse``), checked (``check``) and shown (``show``).

    ``help`` is the option's help text (the default is appended by the CLI),
    ``flag`` overrides the option name (``--<name with dashes>``) and ``cli``
    (a :class:`CommandLine`) gives the option another form than the parameter.
    """

    what = "a value"

    def __init__(self, *, help="", flag=None, cli=None):  # noqa: A002 (argparse's word)
        self.help, self.flag, self.cli = help, flag, cli

    def check(self, value):
        """``value`` as the experiment takes it; ``ValueError``/``TypeError`` (no name) when it is refused."""
        return value

    def parse(self, text):
        """The checked value of command-line ``text``; ``ValueError("expected ..., got 'text'")`` if refused."""
        try:
            return self.check(self.convert(text))
        except (ValueError, TypeError, OverflowError):
            raise ValueError(f"expected {self.what}, got {text!r}") from None

    def convert(self, text):
        return text

    def show(self, value):
        """``value`` written as on the command line (for the help text's default)."""
        return "none" if value is None else str(value)

    def validated(self, name, value):
        """:meth:`check`, its error naming ``name``."""
        try:
            return self.check(value)
        except TypeError as exc:
            raise TypeError(f"{name}: {exc}") from None
        except ValueError as exc:
            raise ParameterError(str(exc), name) from None

    def refuse(self, value, error=ValueError):
        raise error(f"expected {self.what}, got {value!r}")


def _because(what, why):
    return f"{what} ({why})" if why else what


def int_bounds(minimum, maximum):
    """`` >= 1``, `` <= 9`` or `` from 1 to 9`` (empty when both are None)."""
    if maximum is None:
        return "" if minimum is None else f" >= {minimum}"
    return f" <= {maximum}" if minimum is None else f" from {minimum} to {maximum}"


def float_what(minimum, maximum, open_min, open_max):
    """``a number > 0``, ``a number in [0, 1)`` or ``a finite number``."""
    if maximum is None:
        return (
            "a finite number"
            if minimum is None
            else f"a number {'>' if open_min else '>='} {minimum:g}"
        )
    return (
        f"a number in {'(' if open_min else '['}{minimum:g}, {maximum:g}{')' if open_max else ']'}"
    )


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


class Int(Kind):
    """An integer in [minimum, maximum] (either bound may be None); ``why`` explains the range."""

    def __init__(self, minimum=None, maximum=None, *, why=None, **kw):
        super().__init__(**kw)
        self.minimum, self.maximum = minimum, maximum
        self.what = _because(f"an integer{int_bounds(minimum, maximum)}", why)

    def convert(self, text):
        return int(text)

    def check(self, value):
        if not _is_int(value):
            self.refuse(value, TypeError)
        if (self.minimum is not None and value < self.minimum) or (
            self.maximum is not None and value > self.maximum
        ):
            self.refuse(value)
        return int(value)


class Float(Kind):
    """A finite number between the bounds (open or closed; None: unbounded), returned as a float."""

    def __init__(
        self, minimum=None, maximum=None, *, open_min=False, open_max=False, why=None, **kw
    ):
        super().__init__(**kw)
        self.bounds = (minimum, maximum, open_min, open_max)
        self.what = _because(float_what(*self.bounds), why)

    def convert(self, text):
        return float(text)

    def inside(self, v):
        lo, hi, open_lo, open_hi = self.bounds
        above = lo is None or (v > lo if open_lo else v >= lo)
        below = hi is None or (v < hi if open_hi else v <= hi)
        return math.isfinite(v) and above and below

    def check(self, value):
        if not _is_real(value):
            self.refuse(value, TypeError)
        if not self.inside(float(value)):
            self.refuse(value)
        return float(value)

    def show(self, value):
        return "none" if value is None else f"{value:g}"


class _List(Kind):
    """A comma-separated list of ``item`` values, returned as a tuple."""

    def __init__(self, item, what, *, empty, **kw):
        super().__init__(**kw)
        self.item, self.empty, self.what = item, empty, what

    def convert(self, text):
        return (
            tuple(self.item.convert(t) for t in text.split(",") if t.strip())
            if text.strip()
            else ()
        )

    def check(self, value):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            self.refuse(value, TypeError)
        items = tuple(value)
        if not items and not self.empty:
            self.refuse(value)
        for v in items:
            try:
                self.item.check(v)
            except TypeError:
                self.refuse(value, TypeError)
            except ValueError:
                self.refuse(value)
        return tuple(self.item.check(v) for v in items)

    def show(self, value):
        return ",".join(self.item.show(v) for v in value)


class IntList(_List):
    """Comma-separated integers in [minimum, maximum]; ``''`` is () when ``empty``."""

    def __init__(self, minimum=1, maximum=None, *, empty=True, example="50,50", **kw):
        what = f"a comma-separated list of integers{int_bounds(minimum, maximum)} such as {example}"
        super().__init__(
            Int(minimum, maximum), what + (" (or '' for none)" if empty else ""), empty=empty, **kw
        )


class FloatList(_List):
    """A non-empty comma-separated list of finite numbers in (minimum, maximum]."""

    def __init__(self, minimum=0.0, maximum=None, *, example="0.5,1,2", **kw):
        item = Float(minimum, maximum, open_min=True)
        bound = float_what(minimum, maximum, True, False).replace("a number", "numbers")
        super().__init__(
            item, f"a comma-separated list of {bound} such as {example}", empty=False, **kw
        )

    def convert(self, text):
        return tuple(float(x) for x in text.split(","))


class Choice(Kind):
    """One of ``choices`` (strings or integers), written as on the command line."""

    def __init__(self, choices, **kw):
        super().__init__(**kw)
        self.choices = tuple(choices)
        self.what = f"one of {', '.join(map(str, self.choices))}"

    def convert(self, text):
        return next((c for c in self.choices if str(c) == text), text)

    def check(self, value):
        if isinstance(value, bool) or value not in self.choices:
            self.refuse(value)
        return value


def _methods():
    from ..optim import METHODS

    return tuple(sorted(METHODS))


class Methods(Kind):
    """A non-empty comma-separated list of ``choices`` (default: every :func:`numnet.optim.minimize` method)."""

    what = "a list of methods"

    def __init__(self, choices=None, **kw):
        super().__init__(**kw)
        self._choices = None if choices is None else tuple(choices)

    @property
    def choices(self):
        return self._choices if self._choices is not None else _methods()

    def convert(self, text):
        return tuple(m.strip() for m in text.split(",") if m.strip())

    def parse(self, text):
        try:
            return self.check(self.convert(text))
        except (ValueError, TypeError):
            raise ValueError(
                f"expected a comma-separated list of {', '.join(self.choices)}, got {text!r}"
            ) from None

    def check(self, value):
        methods = (value,) if isinstance(value, str) else tuple(value)
        if not methods or any(m not in self.choices for m in methods):
            raise ValueError(
                f"expected a non-empty list of {', '.join(self.choices)}, got {value!r}"
            )
        return methods

    def show(self, value):
        return ",".join(value)


class Flag(Kind):
    """A switch: ``--flag`` sets True (the default is False)."""

    what = "True or False"

    def check(self, value):
        if not isinstance(value, bool):
            self.refuse(value, TypeError)
        return value


class Optional(Kind):
    """None (the default: no limit) or a value of ``kind``."""

    def __init__(self, kind, **kw):
        super().__init__(**kw)
        self.kind, self.what = kind, f"{kind.what} or None"

    def parse(self, text):
        return self.kind.parse(text)

    def check(self, value):
        return None if value is None else self.kind.check(value)


class CommandLine(NamedTuple):
    """The command-line form of a parameter that differs from its Python form: the option ``flag`` parsed
    by ``kind``, ``to_value(option) -> parameter`` and ``from_value(parameter) -> option`` (for the help)."""

    flag: str
    kind: Kind
    to_value: object
    from_value: object


class Training(NamedTuple):
    """A training run an experiment will make (``net`` on ``n_rows`` rows by ``method``): the CLI refuses
    it up front when it cannot fit in memory, naming the options of ``params``."""

    net: object
    n_rows: int
    method: str
    params: tuple


class Memory(NamedTuple):
    """``nbytes`` an experiment will need, growing with ``params``; ``what`` says for what."""

    nbytes: int
    params: tuple
    what: str = ""


#: The seed of every experiment that takes one (the CLI's ``--seed``).
SEED = Int(0, 2**32 - 1, help="random seed")


class Spec(NamedTuple):
    """An experiment's declaration: subcommand ``name``, one-line ``help``, declared parameter ``kinds``,
    cross ``checks(values)``, memory ``needs(values) -> [Training | Memory]``, ``details`` (what the
    result prints unless ``--quiet``; None: no ``--quiet``) and the undecorated ``function``."""

    name: str
    help: str
    kinds: dict
    checks: object
    needs: object
    details: object
    function: object

    @property
    def output_name(self):
        """The name of the result and its JSON file: the subcommand with underscores."""
        return self.name.replace("-", "_")

    @property
    def signature(self):
        return inspect.signature(self.function)

    def defaults(self):
        """``{parameter: default}`` from the signature."""
        return {
            k: p.default for k, p in self.signature.parameters.items() if p.default is not p.empty
        }

    def validate(self, values):
        """Every declared parameter of ``values`` checked (names in errors), then the cross checks."""
        values = dict(values)
        for name, kind in self.kinds.items():
            if name in values:
                values[name] = kind.validated(name, values[name])
        if self.checks is not None:
            self.checks(values)
        return values

    def memory_needs(self, values):
        return list(self.needs(values)) if self.needs is not None else []


def experiment(name, help, *, checks=None, needs=None, details=None, **kinds):  # noqa: A002
    """Declare an experiment function (see the module docstring); its calls validate their arguments."""

    def wrap(function):
        params = inspect.signature(function).parameters
        unknown = set(kinds) - set(params)
        if unknown:
            raise TypeError(f"{function.__name__} has no parameter {', '.join(sorted(unknown))}")
        declared = {**({"seed": SEED} if "seed" in params and "seed" not in kinds else {}), **kinds}
        spec = Spec(name, help, declared, checks, needs, details, function)

        @functools.wraps(function)
        def run(*args, **kwargs):
            bound = spec.signature.bind(*args, **kwargs)
            bound.apply_defaults()
            result = function(**spec.validate(bound.arguments))
            if hasattr(result, "numbers") and hasattr(
                result, "name"
            ):  # an ExperimentResult: one naming style
                result.name = spec.output_name
            return result

        run.spec = spec
        return run

    return wrap


def spec_of(obj):
    """The :class:`Spec` of an experiment function, or None."""
    return (
        getattr(obj, "spec", None)
        if callable(obj) and isinstance(getattr(obj, "spec", None), Spec)
        else None
    )


def deprecated_alias(function, old_name):
    """``function`` under its former public name ``old_name``, warning ``DeprecationWarning`` when called."""
    import warnings

    @functools.wraps(function)
    def alias(*args, **kwargs):
        warnings.warn(
            f"{old_name} is deprecated; use {function.__name__}", DeprecationWarning, stacklevel=2
        )
        return function(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old_name
    del alias.spec  # an alias is not a second experiment
    return alias
