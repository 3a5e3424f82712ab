"""BFGS ``"bfgs"``: dense inverse-Hessian quasi-Newton with a strong Wolfe line search."""

from .base import register
from .linesearch import get_line_search
from .quasi_newton import BFGSInverse, quasi_newton_steps

__all__ = ["bfgs"]


@register("bfgs")
def bfgs(problem, x, f, g, *, line_search="wolfe", c1=1e-4, c2=0.9, max_evals=30, h0=None,
         eps=1e-8):
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
    step is t = 1 (t = min(1, 1/‖g‖) before the first update).
    """
    memory = BFGSInverse(x.size, h0=h0, eps=eps, dtype=x.dtype)
    search = get_line_search(line_search, c1=c1, c2=c2, max_evals=max_evals)
    return (yield from quasi_newton_steps(problem, x, f, g, memory, search))
