"""Block-diagonal Gauss-Newton for a single-hidden-layer network: method "block-gauss-newton"."""

import numpy as np

from ..layers import Dense
from ..network import Sequential
from .base import Iterate, register
from .krylov import forcing_term, truncated_cg
from .newton_cg import check_cg_options, descent_step

__all__ = ["block_gauss_newton", "restrict"]


def _blocks(problem):
    """Slices (hidden, output) of θ for Sequential([Dense, Dense]); TypeError otherwise."""
    net = getattr(getattr(problem, "objective", None), "net", None)
    if not (isinstance(net, Sequential) and len(net.layers) == 2
            and all(isinstance(layer, Dense) for layer in net.layers)):
        raise TypeError("block-gauss-newton needs an Objective whose net is "
                        f"Sequential([Dense(n_f, m, act), Dense(m, n_c)]), got net={net!r}")
    return net.slices


def restrict(product, block, n):
    """The block P A Pᵀ of an operator A given by ``product``, for the slice ``block`` of length-n vectors."""
    def matvec(v):
        full = np.zeros(n, dtype=v.dtype)
        full[block] = v
        return product(full)[block]
    return matvec


@register("block-gauss-newton")
def block_gauss_newton(problem, x, f, g, *, max_cg=20, forcing_power=0.5, max_forcing=0.5, c1=1e-4,
                       max_backtracks=30):
    """Gauss-Newton on the hidden layer, Newton on the output layer, coupling ignored.

    **Options**

    max_cg : int, default=20
        Maximum CG products per block and iteration.
    forcing_power, max_forcing : float, default=0.5, 0.5
        Each block's CG stops when its relative residual is below
        min(max_forcing, ‖g‖^forcing_power).
    c1 : float, default=1e-4
        Armijo sufficient-decrease constant.
    max_backtracks : int, default=30
        Step halvings allowed per line search.

    Notes
    -----
    Notes 000, "Gauss-Newton method" (last slides): for
    F = σ(X W₁ + b₁) W₂ + b₂ (the notes' S = W σ(KY + b), W₁ = Kᵀ) use
    the Gauss-Newton matrix Jᵀ ∇²E J for the hidden block θ₁ = (W₁, b₁)
    ("do the same for b"), the full Hessian for the output block
    θ₂ = (W₂, b₂), and "ignore coupling": the step solves the
    block-diagonal system

        [P₁ G P₁ᵀ      0     ] [p₁]     [g₁]
        [    0     P₂ H P₂ᵀ ] [p₂] = − [g₂]

    one CG per block (:func:`~numnet.optim.krylov.truncated_cg`), with
    products ``P₁ lin.gnvp(P₁ᵀ v)`` and ``P₂ lin.hvp(P₂ᵀ v)`` of one
    linearization per iteration (λ∇²R included in both). The combined step
    gets an Armijo line search from t = 1 that never accepts a non-finite
    value or gradient. Only for problems whose ``objective.net`` is
    ``Sequential([Dense, Dense])`` (TypeError otherwise).
    """
    check_cg_options(max_cg, forcing_power, max_forcing)
    blocks, n = _blocks(problem), x.size
    lin = problem.at(x)
    while True:
        rtol = forcing_term(np.linalg.norm(g), forcing_power, max_forcing)
        p, inner = np.empty_like(x), 0
        for block, product in zip(blocks, (lin.gnvp, lin.hvp)):
            sol = truncated_cg(restrict(product, block, n), g[block], rtol=rtol, max_iter=max_cg)
            p[block], inner = sol.p, inner + sol.n_iter
        t, lin = descent_step(problem, x, f, g, p, c1=c1, max_backtracks=max_backtracks)
        x, f, g = lin.theta, float(lin.value), lin.grad
        yield Iterate(x, f, g, step=t, inner=inner)


block_gauss_newton.needs_network = True
