"""The output layer solved exactly for fixed hidden features (the inner problem of variable projection)."""

import numpy as np
import scipy.sparse

from .._linalg import psd_solver as psd_factor
from .._linalg import ridge_lstsq
from ..curvature.outer import loss_hessian_blocks
from ..losses import LeastSquares
from ..network import Sequential
from ..objective import Objective
from ..regularizers import GeneralizedTikhonov
from ._checks import check_non_negative, check_positive
from .base import NoProgress, robust_norm
from .krylov import forcing_term, truncated_cg
from .newton import descent_step
from .problem import Problem

__all__ = [
    "OutputLayerSolver",
    "output_hessian",
    "project_output_layer",
    "psd_factor",
    "DENSE_LIMIT",
]

#: Output layers with at most this many parameters get dense Newton steps in the inner solve.
DENSE_LIMIT = 1000


def _split(objective):
    """(hidden network, output layer) from the network's ``split_output``; TypeError if it has none."""
    net = getattr(objective, "net", None)
    split = net.split_output() if hasattr(net, "split_output") else None
    if split is None:
        raise TypeError(
            "varpro needs an Objective whose net is Sequential([..., Dense(m, n_out)]) with "
            f"at least one hidden layer and a linear (identity) output layer, got net={net!r}"
        )
    return split


def _penalty_diagonal(objective, out, inner_reg):
    """Diagonal D of the inner penalty ½ wᵀ D w: the objective's Tikhonov on the output slice + inner_reg on W.

    The regularizer must be None or declare its (diagonal) Hessian by ``diagonal(n_params)``, as Tikhonov does.
    """
    reg, s = objective.regularizer, objective.net.slices[-1]
    D = np.zeros(out.n_params)
    if hasattr(reg, "diagonal"):
        D += reg.diagonal(objective.net.n_params)[s]
    elif reg is not None:
        raise TypeError(f"varpro supports regularizer None or Tikhonov, got {reg!r}")
    D[~out.bias_mask()] += inner_reg
    return D


class OutputLayerSolver:
    """Minimizer w*(Z) of the objective over the output layer's parameters for fixed features Z.

    Parameters
    ----------
    objective : Objective
        Its net is Sequential([..., Dense(m, n_out)]) with identity output.
    inner_reg : float, default=0.0
        Extra ridge ½·inner_reg·‖W_out‖² (weights only) in the inner problem.
    max_inner, inner_gtol : int, float, default=20, 1e-10
        Newton iterations and gradient tolerance (losses other than least squares).
    counts : Counts, optional
        Counters of the inner evaluations (a parent Problem's ``counts``).

    Notes
    -----
    The inner problem is min_w E(Z W + b, Y) + ½ wᵀ D w, w = (W, b), D the
    diagonal of the objective's Tikhonov restricted to the output layer
    (plus ``inner_reg`` on W). For least squares, E = (1/2n)‖Z₁ w − Y‖² with
    Z₁ = [Z, 1], it is the linear least-squares problem
    min ‖[Z₁/√n; √D] w − [Y/√n; 0]‖², solved by ``np.linalg.lstsq`` (one
    call for all outputs when D is the same for every output column, else
    column by column). Other smooth convex losses (softmax cross-entropy,
    binomial, …) take Newton steps warm-started at ``w0`` with an Armijo
    search: the dense Hessian (:func:`output_hessian`, by Cholesky with a
    √ε shift that only moves its null space, the softmax shift of the output
    columns) while the output layer has at most :data:`DENSE_LIMIT`
    parameters, truncated CG on ``hvp`` beyond.
    """

    def __init__(self, objective, *, inner_reg=0.0, max_inner=20, inner_gtol=1e-10, counts=None):
        self.objective, (self.hidden, self.out) = objective, _split(objective)
        self.inner_reg = float(check_non_negative(inner_reg, "inner_reg"))
        self.D = _penalty_diagonal(objective, self.out, self.inner_reg)
        self.max_inner = check_positive(max_inner, "max_inner", integer=True)
        self.inner_gtol, self.counts = inner_gtol, counts
        self.least_squares = isinstance(objective.loss, LeastSquares)
        if not (self.least_squares or objective.loss.smooth):
            raise TypeError(
                f"varpro needs a smooth loss for its inner Newton solve, got {objective.loss!r}"
            )

    def features(self, theta_h):
        """Hidden features Z = hidden(θ_h, X)."""
        return self.hidden.predict(theta_h, self.objective.X)

    def solve(self, Z, w0):
        """w*(Z), flat in the output layer's layout (W row-major, then b)."""
        return self._lstsq(Z) if self.least_squares else self._newton(Z, w0)

    def _lstsq(self, Z):
        out, Y, A = self.out, self.objective.Y, self.with_ones(Z)
        Dm = self.D.reshape(A.shape[1], out.d_out)
        if (Dm == Dm[:, :1]).all():
            Wb = ridge_lstsq(A, Y, Dm[:, 0])
        else:
            Wb = np.column_stack(
                [ridge_lstsq(A, Y[:, [c]], Dm[:, c])[:, 0] for c in range(out.d_out)]
            )
        return np.ascontiguousarray(Wb).ravel().astype(Z.dtype, copy=False)

    def _newton(self, Z, w0):
        reg = (
            None
            if not self.D.any()
            else GeneralizedTikhonov(1.0, scipy.sparse.diags(np.sqrt(self.D)))
        )
        inner = Problem(
            Objective(Sequential([self.out]), self.objective.loss, Z, self.objective.Y, reg),
            self.counts,
        )
        Z1 = self.with_ones(Z)
        lin = inner.at(w0)
        for _ in range(self.max_inner):
            g = lin.grad
            if not robust_norm(g) > self.inner_gtol:
                break
            try:
                _, lin = descent_step(
                    inner, lin.theta, float(lin.value), g, self._direction(lin, Z1, g)
                )
            except NoProgress:
                break
        return lin.theta

    def _direction(self, lin, Z1, g):
        """Newton direction: dense solve for small output layers, truncated CG otherwise."""
        if g.size > DENSE_LIMIT:
            return truncated_cg(lin.hvp, g, rtol=forcing_term(robust_norm(g)), max_iter=50).p
        return self.output_solver(lin.F, Z1)(-g).astype(g.dtype, copy=False)

    def output_solver(self, F, Z1):
        """Solver of the dense output-layer Hessian (+ D) at outputs F, features Z₁ (with the ones column)."""
        return psd_factor(
            output_hessian(self.objective.loss, F, self.objective.Y, Z1) + np.diag(self.D)
        )

    def with_ones(self, Z):
        """Z₁ = [Z, 1] when the output layer has a bias, else Z."""
        return np.hstack([Z, np.ones((Z.shape[0], 1), Z.dtype)]) if self.out.bias else Z


def output_hessian(loss, F, Y, Z1):
    """Dense Hessian of E(Z₁ w, Y) in w = [W; b] (row-major), E a mean of per-sample losses.

    The loss Hessian is block diagonal over samples, with n_out × n_out
    blocks h_i (:func:`~numnet.curvature.outer.loss_hessian_blocks`). Then
    H[(j, c), (k, d)] = Σ_i Z₁[i, j] h_i[c, d] Z₁[i, k].
    """
    h = loss_hessian_blocks(loss, F, Y)
    (n, J), C = Z1.shape, F.shape[1]
    ZH = (Z1[:, :, None, None] * h[:, None, :, :]).reshape(n, J * C * C)
    return (Z1.T @ ZH).reshape(J, J, C, C).transpose(1, 2, 0, 3).reshape(J * C, J * C)


def project_output_layer(objective, theta, **solver_options):
    """θ with its output layer replaced by the exact minimizer w*(θ_h) given the hidden parameters.

    ``solver_options`` go to :class:`OutputLayerSolver`; the output part of
    ``theta`` is the warm start of the Newton inner solve.
    """
    solver = OutputLayerSolver(objective, **solver_options)
    n_h = objective.net.slices[-1].start
    w = solver.solve(solver.features(theta[:n_h]), theta[n_h:].copy())
    return np.concatenate([theta[:n_h], w])
