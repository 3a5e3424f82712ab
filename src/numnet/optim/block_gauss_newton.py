"""Block-diagonal Gauss-Newton for a single-hidden-layer network: method "block-gauss-newton"."""

from typing import NamedTuple

from ._checks import check_cg_options, check_int, check_open_unit
from .base import Iterate, Method
from .newton import (
    CG,
    Blocks,
    accepted_state,
    line_search_step,
    newton_init,
    newton_restore,
    restrict,
)

__all__ = ["BlockGaussNewtonOptions", "block_gauss_newton", "restrict"]


class BlockGaussNewtonOptions(NamedTuple):
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
    value or gradient (:func:`~numnet.optim.newton.line_search_step` with a
    :class:`~numnet.optim.newton.Blocks` curvature). Only for problems whose
    ``objective.net`` is ``Sequential([Dense, Dense])`` (TypeError otherwise).
    """

    max_cg: int = 20
    forcing_power: float = 0.5
    max_forcing: float = 0.5
    c1: float = 1e-4
    max_backtracks: int = 30

    def check(self):
        check_cg_options(self.max_cg, self.forcing_power, self.max_forcing)
        check_open_unit(self.c1, "c1")
        check_int(self.max_backtracks, "max_backtracks", minimum=0)


def _blocks(problem):
    """Slices (hidden, output) of θ, from the network's ``single_hidden_layer_slices``; TypeError if it has none."""
    net = getattr(getattr(problem, "objective", None), "net", None)
    blocks = (
        net.single_hidden_layer_slices() if hasattr(net, "single_hidden_layer_slices") else None
    )
    if blocks is None:
        raise TypeError(
            "block-gauss-newton needs an Objective whose net is "
            f"Sequential([Dense(n_f, m, act), Dense(m, n_c)]), got net={net!r}"
        )
    return blocks


def _check_problem(problem, opts):
    _blocks(problem)


def _init(problem, x, f, g, opts):
    return newton_init(problem, x, f, g)


def _step(problem, state, opts):
    hidden, output = _blocks(problem)
    solver = CG(
        lambda lin: Blocks(((hidden, lin.gnvp), (output, lin.hvp))),
        opts.max_cg,
        opts.forcing_power,
        opts.max_forcing,
    )
    lin, t, inner = line_search_step(
        problem, state, solver, c1=opts.c1, max_backtracks=opts.max_backtracks
    )
    state = accepted_state(lin)
    return state, Iterate(state.x, state.f, state.g, step=t, inner=inner)


block_gauss_newton = Method(
    "block-gauss-newton",
    BlockGaussNewtonOptions,
    _init,
    _step,
    restore=newton_restore,
    check_problem=_check_problem,
    needs_network=True,
)
