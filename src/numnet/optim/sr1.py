"""SR1 ``"sr1"``: symmetric-rank-one quasi-Newton with a line search."""

from .base import register
from .linesearch import get_line_search
from .quasi_newton import SR1Inverse, quasi_newton_steps

__all__ = ["sr1"]


@register("sr1")
def sr1(problem, x, f, g, *, line_search="armijo", c1=1e-4, c2=0.9, max_evals=30, h0=None,
        r=1e-8):
    """SR1: x_{k+1} = x_k + t_k p_k with p_k = −H_k ∇J(x_k), or −∇J(x_k) if that is not descent.

    **Options**

    line_search : {"armijo", "wolfe"}, default="armijo"
        SR1 does not need yᵀs > 0, so backtracking suffices.
    c1, c2 : float, default=1e-4, 0.9
        Line-search constants (c2: "wolfe" only).
    max_evals : int, default=30
        Trial points per line search.
    h0 : float or None, default=None
        Initial H₀ = h0·I; None: (yᵀs / yᵀy) I after the first step.
    r : float, default=1e-8
        Skip the update when |yᵀ(s − Hy)| < r‖y‖‖s − Hy‖ (N&W 6.26).

    Notes
    -----
    Nocedal & Wright, update (6.25) in inverse form,
    H⁺ = H + (s − Hy)(s − Hy)ᵀ / ((s − Hy)ᵀy)
    (:class:`~numnet.optim.quasi_newton.SR1Inverse`); notes 004, inverse
    Hessian by sequential rank-one updates. H may be indefinite (SR1 can
    model negative curvature), so a direction with gᵀp ≥ 0 is replaced by
    steepest descent −g. Dense: O(n²) per iteration.
    """
    memory = SR1Inverse(x.size, h0=h0, r=r, dtype=x.dtype)
    search = get_line_search(line_search, c1=c1, c2=c2, max_evals=max_evals)
    return (yield from quasi_newton_steps(problem, x, f, g, memory, search, fallback=True))
