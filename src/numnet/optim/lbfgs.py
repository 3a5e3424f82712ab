"""L-BFGS ``"lbfgs"``: limited-memory BFGS by the two-loop recursion."""

from .base import register
from .linesearch import get_line_search
from .quasi_newton import LBFGS, quasi_newton_steps

__all__ = ["lbfgs"]


@register("lbfgs")
def lbfgs(problem, x, f, g, *, memory=10, line_search="wolfe", c1=1e-4, c2=0.9, max_evals=30,
          eps=1e-8):
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
    methods. O(mn) memory and work per iteration.
    """
    mem = LBFGS(memory, eps=eps)
    search = get_line_search(line_search, c1=c1, c2=c2, max_evals=max_evals)
    return (yield from quasi_newton_steps(problem, x, f, g, mem, search))
