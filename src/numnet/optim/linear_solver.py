"""Which linear solver a Gauss-Newton method runs: dense factorization for small p, matrix-free CG otherwise.

"gauss-newton" and "levenberg-marquardt" take the options ``solver``
("auto", "dense", "cg"), ``dense_max_params`` and ``scaling``. "auto" runs
the dense path (:mod:`numnet.optim.dense`) when

- the objective has a dense form: an :class:`~numnet.objective.Objective`,
  or a :class:`~numnet.optim.problem.FunctionObjective` with ``jac``;
- p · n_outputs ≤ ``dense_max_params`` (n_outputs of the network, 1 for a
  FunctionObjective): forming G costs n·n_outputs·p² and a Cholesky p³/3,
  a Gauss-Newton product of the CG path about n·p;
- and the per-sample Jacobian is cheap: a chain of Dense and Residual
  layers (one backward pass of unit cotangents) or a given ``jac``; any
  other network builds J by p tangent passes, so "auto" wants
  p ≤ ``max_cg`` (no more passes than one CG solve may spend).

Otherwise it runs truncated CG on Gauss-Newton products
(:class:`~numnet.optim.newton.CG`). Every history record carries
``solver`` ("dense" or "cg") and the result's message says which ran and
why.

:data:`DENSE_MAX_PARAMS` is measured (``benchmarks/dense_threshold.py``,
CPU seconds, one BLAS thread, Levenberg–Marquardt from the same start): on
1-h-h-1 tanh networks over n = 200, 1000 and 5000 samples a dense
iteration costs less than a CG iteration up to p ≈ 500 (n = 200, 1000) and
p ≈ 1000 (n = 5000), and the dense path reaches the loss of 40 of its
iterations sooner than CG up to p = 1021 at n = 200 (0.41× CG's time;
1.25× at p = 1366) and up to p = 1761 at n = 1000 (0.56×). With 10
outputs (``--outputs 10``, n = 200) dense wins at p·n_outputs = 1000 and
CG at 2400 (1.4× faster to the loss) and 6700 (2.7×); on digits
(64-10-10, p = 760, 10 outputs) a dense iteration cost 13× a CG one.
On a Graph network of p = 41 a dense iteration (41 tangent passes) cost
1.1× a CG one, at p = 113 4×.
"""

from .._validation import check_int
from ..curvature.outer import has_fast_jacobian
from ..objective import Objective
from ._checks import check_choice
from .dense import Direct
from .newton import CG, gauss_newton, newton_init, newton_restore
from .problem import FunctionObjective

__all__ = [
    "SOLVERS",
    "SCALINGS",
    "DENSE_MAX_PARAMS",
    "check_solver_options",
    "dense_available",
    "dense_size",
    "fast_jacobian",
    "solver_kind",
    "gauss_newton_solver",
    "solver_name",
    "describe_solver",
    "check_problem",
    "init_state",
    "restore_state",
]

SOLVERS = ("auto", "dense", "cg")
SCALINGS = ("identity", "marquardt")
#: Largest p · n_outputs for which ``solver="auto"`` picks the dense path (see the module notes).
DENSE_MAX_PARAMS = 1000


def check_solver_options(solver, dense_max_params, scaling):
    """Validate the options ``solver``, ``dense_max_params`` and ``scaling`` (errors name them)."""
    check_choice(solver, "solver", SOLVERS)
    check_int(dense_max_params, "dense_max_params", minimum=0)
    check_choice(scaling, "scaling", SCALINGS)
    if solver == "cg" and scaling != "identity":
        raise ValueError(f"scaling={scaling!r} needs the dense solver, got solver='cg'")


def dense_available(objective):
    """Whether the dense path can form G: an Objective, or a FunctionObjective with ``jac``."""
    return isinstance(objective, Objective) or (
        isinstance(objective, FunctionObjective) and objective.jac is not None
    )


def dense_size(objective, n_params):
    """p · n_outputs, what "auto" compares with ``dense_max_params`` (p for a FunctionObjective)."""
    return n_params * getattr(getattr(objective, "net", None), "d_out", 1)


def fast_jacobian(objective):
    """Whether J costs one backward pass (Dense/Residual chains, a given ``jac``) rather than p tangent passes."""
    return isinstance(objective, FunctionObjective) or has_fast_jacobian(objective.net)


def solver_kind(problem, n_params, opts):
    """ "dense" or "cg": ``opts.solver``, or what "auto" picks (see the module notes)."""
    if opts.solver != "auto":
        return opts.solver
    obj = problem.objective
    if not dense_available(obj) or dense_size(obj, n_params) > opts.dense_max_params:
        return "cg"
    return "dense" if fast_jacobian(obj) or n_params <= opts.max_cg else "cg"


def gauss_newton_solver(problem, n_params, opts, curvature=gauss_newton):
    """The solver a Gauss-Newton method uses: :class:`~numnet.optim.dense.Direct` or matrix-free CG."""
    if solver_kind(problem, n_params, opts) == "dense":
        return Direct(opts.scaling, getattr(opts, "geodesic", False))
    return CG(curvature, opts.max_cg, opts.forcing_power, opts.max_forcing)


def solver_name(solver):
    """ "dense" or "cg": the history's ``solver`` entry for a solver of :func:`gauss_newton_solver`."""
    return "dense" if isinstance(solver, Direct) else "cg"


def describe_solver(problem, opts, x0):
    """The note in the result's message: which linear solver runs, and why."""
    p = x0.size
    if solver_kind(problem, p, opts) == "dense":
        return f"linear solver: dense ({p} × {p} Gauss-Newton matrix, factorized; {_why(problem, p, opts)})"
    return f"linear solver: cg (matrix-free, at most max_cg={opts.max_cg} products; {_why(problem, p, opts)})"


def _why(problem, p, opts):
    if opts.solver != "auto":
        return f"solver={opts.solver!r}"
    if not dense_available(problem.objective):
        return f"no dense form for a {type(problem.objective).__name__}"
    size = dense_size(problem.objective, p)
    sign = "≤" if size <= opts.dense_max_params else ">"
    if sign == "≤" and not fast_jacobian(problem.objective):
        sign = "≤" if p <= opts.max_cg else ">"
        return f"J by p tangent passes, p = {p} {sign} max_cg = {opts.max_cg}"
    if size == p:
        return f"p = {p} {sign} dense_max_params = {opts.dense_max_params}"
    return (
        f"p·n_outputs = {p}·{size // p} = {size} {sign} dense_max_params = {opts.dense_max_params}"
    )


# ------------------------------------------------------------------ the methods' shared hooks


def check_problem(problem, opts, n_params=None):
    """ValueError naming ``solver`` or ``scaling`` when the objective or p rules the asked path out.

    Runs before any evaluation when the objective knows its ``n_params``;
    for a FunctionObjective, p is known from x0 and the check runs in
    :func:`init_state`.
    """
    n_params = getattr(problem.objective, "n_params", None) if n_params is None else n_params
    if opts.solver == "dense" and not dense_available(problem.objective):
        raise ValueError(
            f"solver='dense' needs an Objective or a FunctionObjective with jac=, got "
            f"{type(problem.objective).__name__}"
        )
    if (
        n_params is not None
        and opts.scaling != "identity"
        and solver_kind(problem, n_params, opts) == "cg"
    ):
        raise ValueError(
            f"scaling={opts.scaling!r} needs the dense solver, but solver='auto' chose CG "
            f"({_why(problem, n_params, opts)}); pass solver='dense'"
        )


def init_state(problem, x, f, g, opts, region=None):
    """The first Newton state, its linearization in the form the chosen solver works on."""
    check_problem(problem, opts, x.size)
    return newton_init(problem, x, f, g, region, solver=gauss_newton_solver(problem, x.size, opts))


def restore_state(problem, state, opts):
    """A state read from a checkpoint with its linearization rebuilt for the chosen solver."""
    return newton_restore(problem, state, opts, gauss_newton_solver(problem, state.x.size, opts))
