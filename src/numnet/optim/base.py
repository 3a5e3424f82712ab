"""What every optimizer shares: the :class:`Method` record, :class:`Iterate`, :class:`Status`, the result.

A method is an explicit state machine (a :class:`Method`):

- ``options``: a ``NamedTuple`` class whose fields are the method's options
  with their defaults (its docstring documents the method), and whose
  ``check()`` raises ``ValueError``/``TypeError`` naming a bad value;
- ``init(problem, x, f, g, opts) -> state``: the state before the first step;
- ``step(problem, state, opts) -> (state, Iterate)``: one accepted step.

The state is a ``NamedTuple`` of plain data (arrays, Python or NumPy
scalars, ``None``, strings, tuples, dicts such as a generator's
``bit_generator.state``, nested ``NamedTuple``), never mutated in place, so
it can be written to a checkpoint and read back (:mod:`numnet.optim.checkpoint`).
A state class may name in its class attribute ``DERIVED`` fields that are
caches computed from the others (e.g. ``lin``, the linearization at x):
checkpoints store ``None`` for them and the method's ``restore(problem,
state, opts) -> state`` rebuilds them after a resume.
"""

import inspect
from dataclasses import dataclass, field
from enum import Enum

import numpy as np

__all__ = ["Method", "Iterate", "Status", "NoProgress", "OptimizeResult", "robust_norm"]


class Status(Enum):
    """Why a run stopped (``RUNNING``: an intermediate result given to the callback)."""

    RUNNING = "the run is in progress"
    GTOL = "gradient norm below gtol"
    FTOL = "relative decrease below ftol"
    MAX_ITER = "maximum number of iterations reached"
    MAX_TIME = "time limit reached"
    CALLBACK = "stopped by the callback"
    NO_PROGRESS = "no progress"
    NON_FINITE = "non-finite value"

    @property
    def success(self):
        return self in (Status.GTOL, Status.FTOL, Status.CALLBACK)


class NoProgress(Exception):
    """Raised by a method that cannot find an acceptable step."""


def robust_norm(v):
    """‖v‖₂ as a float, without underflow or overflow of the squares.

    ``np.linalg.norm`` of a 1-D array is √(vᵀv): with max |vᵢ| = 1.1e-162
    the squares underflow and it returns 0. Where that plain value is safe
    (√(n·tiny/eps) ≤ ‖v‖ < ∞, so squares below ``tiny`` change it by less
    than one rounding) it is returned unchanged; otherwise the scaled form
    m ‖v/m‖ with m = max |vᵢ|. Non-finite entries give inf or NaN.
    """
    v = np.asarray(v)
    norm = float(np.linalg.norm(v))
    if np.sqrt(v.size * _tiny_over_eps(v.dtype)) <= norm < np.inf:
        return norm
    m = float(np.max(np.abs(v))) if v.size else 0.0
    if m == 0 or not np.isfinite(m):
        return norm if np.isnan(norm) else m
    return m * float(np.linalg.norm(v / m))


_TINY_OVER_EPS = {
    np.dtype(t): float(np.finfo(t).tiny / np.finfo(t).eps)
    for t in (np.float16, np.float32, np.float64)
}


def _tiny_over_eps(dtype):
    return _TINY_OVER_EPS.get(dtype, _TINY_OVER_EPS[np.dtype(np.float64)])


@dataclass
class Iterate:
    """What a method's step returns: the accepted point, its value and gradient.

    ``info``, when given, is a dict of further history entries for this
    iteration (plain data, e.g. ``{"solver": "dense"}``).
    """

    x: np.ndarray
    fun: float
    grad: np.ndarray | None = None
    step: float = float("nan")
    inner: int = 0
    grad_norm: float | None = None
    info: dict | None = None

    def __post_init__(self):
        if self.grad_norm is None:
            self.grad_norm = robust_norm(self.grad) if self.grad is not None else float("nan")


@dataclass
class OptimizeResult:
    """The outcome of :func:`minimize`, with SciPy's field names.

    ``x`` is the best iterate seen (lowest ``fun``); ``history`` holds one
    record per iteration: ``nit``, ``fun``, ``grad_norm``, ``step``,
    ``inner`` (CG iterations), ``time`` (seconds since the start) and whatever
    the callback returned (a dict is merged, anything else is stored under
    ``"callback"``). The callback sees ``status=Status.RUNNING`` and the
    current iterate.
    """

    x: np.ndarray
    fun: float
    grad_norm: float
    nit: int
    nfev: int
    ngev: int
    nhvp: int
    status: Status
    message: str
    history: list = field(default_factory=list)

    @property
    def success(self):
        return self.status.success

    def __repr__(self):
        return (
            f"OptimizeResult(success={self.success}, status={self.status.name}, fun={self.fun:.6g}, "
            f"grad_norm={self.grad_norm:.3g}, nit={self.nit}, nfev={self.nfev}, ngev={self.ngev}, "
            f"nhvp={self.nhvp}, message={self.message!r})"
        )


class Method:
    """One optimizer of :func:`~numnet.optim.minimize`: options, initial state, step.

    Parameters
    ----------
    name : str
        Key in :data:`~numnet.optim.METHODS`.
    options : NamedTuple class
        Fields are the options with defaults; ``check()`` validates values;
        its docstring documents the method.
    init, step : callable
        ``init(problem, x, f, g, opts) -> state`` and
        ``step(problem, state, opts) -> (state, Iterate)``.
    restore : callable, optional
        ``restore(problem, state, opts) -> state`` rebuilding the ``DERIVED``
        fields of a state read from a checkpoint.
    check_problem : callable, optional
        ``check_problem(problem, opts)``: checks that need the objective
        (its type, its network), run before any evaluation.
    stochastic, needs_network, nonsmooth : bool
        Capabilities: mini-batches (needs ``objective.batch``), a particular
        network, no promise to drive ‖∇J‖ to zero.
    checkpointable : bool, default=True
        Whether the state is plain data that checkpoints can hold.
    describe : callable, optional
        ``describe(problem, opts, x0) -> str or None``: a note on how the
        run proceeds (e.g. which linear solver), appended to the result's
        message; it evaluates nothing.
    """

    def __init__(
        self,
        name,
        options,
        init,
        step,
        *,
        restore=None,
        check_problem=None,
        stochastic=False,
        needs_network=False,
        nonsmooth=False,
        checkpointable=True,
        describe=None,
    ):
        self.name, self.options, self.init, self.step = name, options, init, step
        self.checkpointable = checkpointable
        self.describe = describe or (lambda problem, opts, x0: None)
        self.restore = restore or (lambda problem, state, opts: state)
        self.check_problem = check_problem or (lambda problem, opts: None)
        self.stochastic, self.needs_network, self.nonsmooth = stochastic, needs_network, nonsmooth
        self.__doc__ = options.__doc__
        self.__signature__ = _generator_signature(options)
        #: The names of the method's options, in order (from ``inspect.signature(options)``).
        self.option_names = tuple(inspect.signature(options).parameters)

    def bind(self, options):
        """Options as the method's ``options`` record, validated; unknown names raise ``TypeError``."""
        names = self.option_names
        unknown = sorted(set(options) - set(names))
        if unknown:
            s = "s" if len(unknown) > 1 else ""
            raise TypeError(
                f"unknown option{s} {', '.join(map(repr, unknown))} for method {self.name!r}; "
                f"valid options: {', '.join(names) or 'none'}"
            )
        opts = self.options(**options)
        check = getattr(opts, "check", None)
        if check is not None:
            check()
        return opts

    def __call__(self, problem, x, f, g, **options):
        """The method as a generator of :class:`Iterate` (no checkpoints): init, then step forever."""
        opts = self.bind(options)
        self.check_problem(problem, opts)
        state = self.init(problem, x, f, g, opts)
        while True:
            state, it = self.step(problem, state, opts)
            yield it

    def __repr__(self):
        return f"<numnet.optim method {self.name!r}>"


def _generator_signature(options):
    """Signature ``(problem, x, f, g, *, <options>)`` of :meth:`Method.__call__` (for ``inspect``)."""
    pos = [
        inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        for n in ("problem", "x", "f", "g")
    ]
    kw = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in inspect.signature(options).parameters.values()
    ]
    return inspect.Signature(pos + kw)
