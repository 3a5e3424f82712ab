"""L-BFGS ``"lbfgs"``: limited-memory BFGS by the two-loop recursion."""

from typing import NamedTuple

from ._checks import check_int, check_line_search, check_non_negative
from .base import Method
from .linesearch import get_line_search
from .quasi_newton import LBFGS, QuasiNewtonState, quasi_newton_step

__all__ = ["LBFGSOptions", "lbfgs"]


class LBFGSOptions(NamedTuple):
    """L-BFGS: x_{k+1} = x_k − t_k H_k ∇J(x_k), H_k from the last ``memory`` pairs.

    **Options**

    memory : int, default=10
        Number of (s, y) pairs kept.
    line_search : {"wolfe", "armijo"}, default="wolfe"
        Line search (strong Wolfe keeps yᵀs > 0).
    c1, c2 : float, default=1e-4, 0.9
        Line-search constants.
    max_evals : int, default=30
        Trial points per line search.
    eps : float, default=1e-8
        Skip the update when yᵀs ≤ eps‖s‖‖y‖.

    Notes
    -----
    Nocedal & Wright, Algorithm 7.5 with the two-loop recursion (Algorithm
    7.4) and H₀ = γ_k I, γ_k = sᵀy / yᵀy of the newest pair (7.20)
    (:class:`~numnet.optim.quasi_newton.LBFGS`); notes 004, quasi-Newton
    methods. O(mn) memory and work per iteration. The state is a
    :class:`~numnet.optim.quasi_newton.QuasiNewtonState` holding the pairs.
    """

    memory: int = 10
    line_search: str = "wolfe"
    c1: float = 1e-4
    c2: float = 0.9
    max_evals: int = 30
    eps: float = 1e-8

    def check(self):
        check_int(self.memory, "memory")
        check_line_search(self.line_search, self.c1, self.c2, self.max_evals)
        check_non_negative(self.eps, "eps")


def _init(problem, x, f, g, opts):
    return QuasiNewtonState(x, f, g)


def _step(problem, state, opts):
    memory = LBFGS(opts.memory, eps=opts.eps).restore(state.memory)
    search = get_line_search(opts.line_search, c1=opts.c1, c2=opts.c2, max_evals=opts.max_evals)
    return quasi_newton_step(problem, state, memory, search)


lbfgs = Method("lbfgs", LBFGSOptions, _init, _step)
