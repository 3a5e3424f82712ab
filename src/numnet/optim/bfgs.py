"""BFGS ``"bfgs"``: dense inverse-Hessian quasi-Newton with a strong Wolfe line search."""

from typing import NamedTuple

from ._checks import check_line_search, check_non_negative, check_positive
from .base import Method
from .linesearch import get_line_search
from .quasi_newton import BFGSInverse, QuasiNewtonState, quasi_newton_step

__all__ = ["BFGSOptions", "bfgs"]


class BFGSOptions(NamedTuple):
    """BFGS: x_{k+1} = x_k − t_k H_k ∇J(x_k) with H_k the BFGS inverse approximation.

    **Options**

    line_search : {"wolfe", "armijo"}, default="wolfe"
        Strong Wolfe keeps yᵀs > 0, so every update is kept; with Armijo
        the skip rule may fire.
    c1, c2 : float, default=1e-4, 0.9
        Line-search constants (N&W's recommended values for quasi-Newton).
    max_evals : int, default=30
        Trial points per line search.
    h0 : float or None, default=None
        Initial H₀ = h0·I; None: (yᵀs / yᵀy) I after the first step (N&W 6.20).
    eps : float, default=1e-8
        Skip the update when yᵀs ≤ eps‖s‖‖y‖.

    Notes
    -----
    Nocedal & Wright, Algorithm 6.1 with update (6.17)
    (:class:`~numnet.optim.quasi_newton.BFGSInverse`); notes 004,
    quasi-Newton methods. Dense: O(n²) memory and work per iteration, meant
    for up to a few thousand parameters (use ``"lbfgs"`` beyond). The trial
    step is t = 1 (t = min(1, 1/‖g‖) before the first update). The state is
    a :class:`~numnet.optim.quasi_newton.QuasiNewtonState` holding H.
    """

    line_search: str = "wolfe"
    c1: float = 1e-4
    c2: float = 0.9
    max_evals: int = 30
    h0: float | None = None
    eps: float = 1e-8

    def check(self):
        check_line_search(self.line_search, self.c1, self.c2, self.max_evals)
        if self.h0 is not None:
            check_positive(self.h0, "h0")
        check_non_negative(self.eps, "eps")


def _init(problem, x, f, g, opts):
    return QuasiNewtonState(x, f, g)


def _step(problem, state, opts):
    x = state.x
    memory = BFGSInverse(x.size, h0=opts.h0, eps=opts.eps, dtype=x.dtype).restore(state.memory)
    search = get_line_search(opts.line_search, c1=opts.c1, c2=opts.c2, max_evals=opts.max_evals)
    return quasi_newton_step(problem, state, memory, search)


bfgs = Method("bfgs", BFGSOptions, _init, _step)
