"""The method table :data:`METHODS`: every optimizer of :func:`~numnet.optim.minimize` by name.

The table is written out here from the method modules (importing a module
registers nothing). :func:`register` adds a user's method: a
:class:`~numnet.optim.base.Method` (checkpoints work), or a generator
function ``method(problem, x, f, g, *, options...)`` yielding
:class:`~numnet.optim.base.Iterate` s, the interface of numnet ≤ 0.1 (its
keyword-only options are bound before any work; its state is the live
generator, so it cannot be checkpointed).
"""

import inspect
from collections import namedtuple
from typing import NamedTuple

from .base import Method
from .bfgs import bfgs
from .block_gauss_newton import block_gauss_newton
from .gauss_newton import gauss_newton
from .gd import gd
from .kfac import kfac
from .lbfgs import lbfgs
from .levenberg_marquardt import levenberg_marquardt
from .newton_cg import newton_cg
from .sgd import adam, sgd
from .sr1 import sr1
from .subgradient import subgradient
from .trust_ncg import trust_ncg
from .varpro import varpro

__all__ = ["METHODS", "register", "generator_method"]

#: Every method of :func:`~numnet.optim.minimize`, by name.
METHODS = {
    m.name: m
    for m in (
        newton_cg,
        trust_ncg,
        gauss_newton,
        levenberg_marquardt,
        block_gauss_newton,
        gd,
        subgradient,
        sgd,
        adam,
        sr1,
        bfgs,
        lbfgs,
        varpro,
        kfac,
    )
}


def register(name, method=None):
    """Add ``method`` to :data:`METHODS` under ``name``; without ``method``, a decorator doing so.

    ``method`` is a :class:`~numnet.optim.base.Method` or a generator
    function (see the module notes); ``register(m)`` with a Method uses its
    name. Returns what it was given.
    """
    if isinstance(name, Method):
        METHODS[name.name] = name
        return name
    if not isinstance(name, str):
        raise TypeError(f"name must be a str or a Method, got {name!r}")

    def add(fn):
        METHODS[name] = fn if isinstance(fn, Method) else generator_method(name, fn)
        return fn

    return add if method is None else add(method)


class _GeneratorState(NamedTuple):
    """The live generator of a generator method (not plain data: no checkpoints)."""

    generator: object


_REQUIRED = object()


def generator_method(name, fn):
    """A :class:`~numnet.optim.base.Method` stepping the generator ``fn(problem, x, f, g, **options)``."""
    if not callable(fn):
        raise TypeError(f"a method must be a Method or a generator function, got {fn!r}")
    params = [p for p in inspect.signature(fn).parameters.values() if p.kind is p.KEYWORD_ONLY]
    options = namedtuple(
        f"{fn.__name__}_options",
        [p.name for p in params],
        defaults=[_REQUIRED if p.default is p.empty else p.default for p in params],
    )
    options.__doc__ = fn.__doc__

    def init(problem, x, f, g, opts):
        given = {k: v for k, v in opts._asdict().items() if v is not _REQUIRED}
        return _GeneratorState(fn(problem, x, f, g, **given))

    def step(problem, state, opts):
        return state, next(state.generator)

    return Method(
        name,
        options,
        init,
        step,
        stochastic=getattr(fn, "stochastic", False),
        needs_network=getattr(fn, "needs_network", False),
        nonsmooth=getattr(fn, "nonsmooth", False),
        checkpointable=False,
    )
