"""SR1 ``"sr1"``: symmetric-rank-one quasi-Newton with a line search."""

from typing import NamedTuple

from ._checks import check_line_search, check_non_negative, check_positive
from .base import Method
from .linesearch import get_line_search
from .quasi_newton import QuasiNewtonState, SR1Inverse, quasi_newton_step

__all__ = ["SR1Options", "sr1"]


class SR1Options(NamedTuple):
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
    steepest descent −g. Dense: O(n²) per iteration. The state is a
    :class:`~numnet.optim.quasi_newton.QuasiNewtonState` holding H.
    """

    line_search: str = "armijo"
    c1: float = 1e-4
    c2: float = 0.9
    max_evals: int = 30
    h0: float | None = None
    r: float = 1e-8

    def check(self):
        check_line_search(self.line_search, self.c1, self.c2, self.max_evals)
        if self.h0 is not None:
            check_positive(self.h0, "h0")
        check_non_negative(self.r, "r")


def _init(problem, x, f, g, opts):
    return QuasiNewtonState(x, f, g)


def _step(problem, state, opts):
    x = state.x
    memory = SR1Inverse(x.size, h0=opts.h0, r=opts.r, dtype=x.dtype).restore(state.memory)
    search = get_line_search(opts.line_search, c1=opts.c1, c2=opts.c2, max_evals=opts.max_evals)
    return quasi_newton_step(problem, state, memory, search, fallback=True)


sr1 = Method("sr1", SR1Options, _init, _step)
