"""Variable projection: eliminate the linear output layer; method "varpro"."""

from functools import cached_property

import numpy as np
import scipy.linalg
import scipy.sparse

from ..layers import Dense
from ..losses import LeastSquares
from ..network import Sequential
from ..objective import Objective
from ..regularizers import GeneralizedTikhonov, Tikhonov
from .base import Iterate, NoProgress, register
from .krylov import forcing_term, truncated_cg
from .linesearch import get_line_search
from .newton_cg import check_cg_options, check_positive, descent_step
from .problem import Problem
from .quasi_newton import LBFGS, quasi_newton_steps

__all__ = ["OutputLayerSolver", "output_hessian", "project_output_layer", "psd_factor", "varpro"]

OUTER = ("gauss-newton", "lbfgs")
#: Output layers with at most this many parameters get dense Newton steps in the inner solve.
DENSE_LIMIT = 1000


def _split(objective):
    """(hidden network, output layer) of a Sequential ending in Dense(…, identity); TypeError otherwise."""
    net = getattr(objective, "net", None)
    if not (isinstance(net, Sequential) and len(net.layers) >= 2 and isinstance(net.layers[-1], Dense)
            and net.layers[-1].activation.name == "identity"):
        raise TypeError("varpro needs an Objective whose net is Sequential([..., Dense(m, n_out)]) with "
                        f"at least one hidden layer and a linear (identity) output layer, got net={net!r}")
    return Sequential(net.layers[:-1]), net.layers[-1]


def _penalty_diagonal(objective, out, inner_reg):
    """Diagonal D of the inner penalty ½ wᵀ D w: the objective's Tikhonov on the output slice + inner_reg on W."""
    reg, s = objective.regularizer, objective.net.slices[-1]
    D = np.zeros(out.n_params)
    if isinstance(reg, Tikhonov):
        D += reg.lam * (1.0 if reg.mask is None else reg.mask[s])
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
        if not (np.isfinite(inner_reg) and inner_reg >= 0):
            raise ValueError(f"inner_reg must be a non-negative number, got {inner_reg!r}")
        self.inner_reg = float(inner_reg)
        self.D = _penalty_diagonal(objective, self.out, self.inner_reg)
        self.max_inner = check_positive(max_inner, "max_inner", integer=True)
        self.inner_gtol, self.counts = inner_gtol, counts
        self.least_squares = isinstance(objective.loss, LeastSquares)
        if not (self.least_squares or objective.loss.smooth):
            raise TypeError(f"varpro needs a smooth loss for its inner Newton solve, got {objective.loss!r}")

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
            Wb = _ridge_lstsq(A, Y, Dm[:, 0])
        else:
            Wb = np.column_stack([_ridge_lstsq(A, Y[:, [c]], Dm[:, c])[:, 0] for c in range(out.d_out)])
        return np.ascontiguousarray(Wb).ravel().astype(Z.dtype, copy=False)

    def _newton(self, Z, w0):
        reg = None if not self.D.any() else GeneralizedTikhonov(1.0, scipy.sparse.diags(np.sqrt(self.D)))
        inner = Problem(Objective(Sequential([self.out]), self.objective.loss, Z, self.objective.Y, reg),
                        self.counts)
        Z1 = self.with_ones(Z)
        lin = inner.at(w0)
        for _ in range(self.max_inner):
            g = lin.grad
            if not np.linalg.norm(g) > self.inner_gtol:
                break
            try:
                _, lin = descent_step(inner, lin.theta, float(lin.value), g, self._direction(lin, Z1, g))
            except NoProgress:
                break
        return lin.theta

    def _direction(self, lin, Z1, g):
        """Newton direction: dense solve for small output layers, truncated CG otherwise."""
        if g.size > DENSE_LIMIT:
            return truncated_cg(lin.hvp, g, rtol=forcing_term(np.linalg.norm(g)), max_iter=50).p
        return self.output_solver(lin.F, Z1)(-g).astype(g.dtype, copy=False)

    def output_solver(self, F, Z1):
        """Solver of the dense output-layer Hessian (+ D) at outputs F, features Z₁ (with the ones column)."""
        return psd_factor(output_hessian(self.objective.loss, F, self.objective.Y, Z1) + np.diag(self.D))

    def with_ones(self, Z):
        """Z₁ = [Z, 1] when the output layer has a bias, else Z."""
        return np.hstack([Z, np.ones((Z.shape[0], 1), Z.dtype)]) if self.out.bias else Z


def psd_factor(H):
    """A solver x = solve(b) of H x = b for positive semi-definite H: Cholesky of H + δI, δ = √ε · max diag H.

    The shift only moves the null space of H (e.g. the softmax shift of the
    output columns), to which a gradient is orthogonal; lstsq if Cholesky fails.
    """
    delta = np.sqrt(np.finfo(H.dtype).eps) * max(float(np.max(np.diag(H))), np.finfo(H.dtype).tiny)
    try:
        factor = scipy.linalg.cho_factor(H + delta * np.eye(H.shape[0], dtype=H.dtype))
    except np.linalg.LinAlgError:
        return lambda b: np.linalg.lstsq(H, b, rcond=None)[0]
    return lambda b: scipy.linalg.cho_solve(factor, b)


def output_hessian(loss, F, Y, Z1):
    """Dense Hessian of E(Z₁ w, Y) in w = [W; b] (row-major), E a mean of per-sample losses.

    The loss Hessian is block diagonal over samples, with n_out × n_out
    blocks h_i; column d of every block is ``loss.hvp`` of dF = 1 in output
    column d. Then H[(j, c), (k, d)] = Σ_i Z₁[i, j] h_i[c, d] Z₁[i, k].
    """
    cols = []
    for d in range(F.shape[1]):
        dF = np.zeros_like(F)
        dF[:, d] = 1
        cols.append(loss.hvp(F, Y, dF))
    h = np.stack(cols, axis=2)
    (n, J), C = Z1.shape, F.shape[1]
    ZH = (Z1[:, :, None, None] * h[:, None, :, :]).reshape(n, J * C * C)
    return (Z1.T @ ZH).reshape(J, J, C, C).transpose(1, 2, 0, 3).reshape(J * C, J * C)


def _ridge_lstsq(A, B, d):
    """argmin_w (1/2n)‖A w − B‖² + ½ Σ d_i w_i² by lstsq on the stacked system (rows scaled by 1/√n)."""
    n = A.shape[0]
    keep = d > 0
    M = np.vstack([A / np.sqrt(n), np.diag(np.sqrt(d))[keep]])
    rhs = np.vstack([B / np.sqrt(n), np.zeros((int(keep.sum()), B.shape[1]), B.dtype)])
    return np.linalg.lstsq(M, rhs, rcond=None)[0]


def project_output_layer(objective, theta, **solver_options):
    """θ with its output layer replaced by the exact minimizer w*(θ_h) given the hidden parameters.

    ``solver_options`` go to :class:`OutputLayerSolver`; the output part of
    ``theta`` is the warm start of the Newton inner solve.
    """
    solver = OutputLayerSolver(objective, **solver_options)
    n_h = objective.net.slices[-1].start
    w = solver.solve(solver.features(theta[:n_h]), theta[n_h:].copy())
    return np.concatenate([theta[:n_h], w])


class _ReducedLinearization:
    """Φ at θ_h: value, gradient ∂J/∂θ_h at w*, and reduced Gauss-Newton products (block or Schur)."""

    def __init__(self, full, n_h, penalty, solver=None):
        self.full, self.n_h, self.solver = full, n_h, solver
        self.theta, self.w = full.theta[:n_h], full.theta[n_h:]
        self.value = float(full.value) + penalty

    @property
    def grad(self):
        return self.full.grad[: self.n_h]

    @cached_property
    def _solve_ww(self):
        return self.solver.output_solver(self.full.F, self.solver.with_ones(self.full.cache[-1].X))

    def gnvp(self, v):
        """G_hh v ("block"), or the Schur complement (G_hh − G_hw G_ww⁻¹ G_wh) v = P_h G [v; −z] ("schur")."""
        pad = np.zeros(self.full.theta.size, dtype=v.dtype)
        pad[: self.n_h] = v
        Gv = self.full.gnvp(pad)
        if self.solver is None:
            return Gv[: self.n_h]
        pad[self.n_h:] = -self._solve_ww(Gv[self.n_h:])
        return self.full.gnvp(pad)[: self.n_h]


class _Reduced:
    """The reduced problem θ_h ↦ Φ(θ_h) = min_w J(θ_h, w) (+ ½·inner_reg·‖W‖²) for the line searches."""

    def __init__(self, problem, solver, w0, schur=False):
        self.problem, self.solver, self.w, self.schur = problem, solver, w0, schur
        self.n_h = problem.objective.net.slices[-1].start
        self.W_mask = ~solver.out.bias_mask()
        self.trials = {}

    def at(self, theta_h):
        Z = self.solver.features(theta_h)
        w = self.solver.solve(Z, self.w) if np.isfinite(Z).all() else self.w
        W = w[self.W_mask]
        lin = _ReducedLinearization(self.problem.at(np.concatenate([theta_h, w])), self.n_h,
                                    0.5 * self.solver.inner_reg * float(np.dot(W, W)),
                                    self.solver if self.schur else None)
        self.trials[id(lin.theta)] = lin
        return lin

    def accepted(self, theta_h):
        """The linearization of an accepted trial point; warm start from its w, forget the rest."""
        lin = self.trials[id(theta_h)]
        self.trials, self.w = {}, lin.w.copy()
        return lin


def _gauss_newton_steps(reduced, lin, max_cg, forcing_power, max_forcing, c1, max_backtracks):
    """Gauss-Newton on Φ with the reduced Gauss-Newton products of ``lin.gnvp``."""
    while True:
        g = lin.grad
        rtol = forcing_term(np.linalg.norm(g), forcing_power, max_forcing)
        sol = truncated_cg(lin.gnvp, g, rtol=rtol, max_iter=max_cg)
        t, trial = descent_step(reduced, lin.theta, lin.value, g, sol.p, c1=c1, max_backtracks=max_backtracks)
        lin = reduced.accepted(trial.theta)
        yield lin, t, sol.n_iter


def _lbfgs_steps(reduced, lin, memory):
    """L-BFGS on Φ (:class:`~numnet.optim.quasi_newton.LBFGS`, strong Wolfe line search)."""
    steps = quasi_newton_steps(reduced, lin.theta, lin.value, lin.grad, LBFGS(memory),
                               get_line_search("wolfe"))
    for it in steps:
        yield reduced.accepted(it.x), it.step, 0


@register("varpro")
def varpro(problem, x, f, g, *, outer="gauss-newton", curvature="block", inner_reg=0.0, max_inner=20,
           inner_gtol=1e-10, max_cg=50, forcing_power=0.5, max_forcing=0.5, c1=1e-4, max_backtracks=30,
           memory=10):
    """Variable projection: optimize the hidden parameters, solve for the output layer exactly.

    **Options**

    outer : {"gauss-newton", "lbfgs"}, default="gauss-newton"
        Method on the reduced problem Φ(θ_h).
    curvature : {"block", "schur"}, default="block"
        Reduced Gauss-Newton matrix (only used when outer="gauss-newton"):
        "block" the hidden block G_hh of the Gauss-Newton matrix G at
        (θ_h, w*); "schur" its Schur complement G_hh − G_hw G_ww⁻¹ G_wh,
        which accounts for w* following θ_h (two G products per CG
        iteration plus a dense solve with G_ww; output layers of at most
        :data:`DENSE_LIMIT` parameters).
    inner_reg : float, default=0.0
        Extra ridge ½·inner_reg·‖W_out‖² on the output weights, added to Φ
        (the objective's own Tikhonov is always included); 0 keeps Φ(θ_h)
        = min_w J(θ_h, w) exactly.
    max_inner : int, default=20
        Newton iterations of the inner solve (losses other than least squares).
    inner_gtol : float, default=1e-10
        Gradient tolerance of the inner Newton solve.
    max_cg, forcing_power, max_forcing, c1, max_backtracks
        As for "gauss-newton"; only used when outer="gauss-newton".
    memory : int, default=10
        L-BFGS pairs; only used when outer="lbfgs".

    Notes
    -----
    Golub & Pereyra, *Separable nonlinear least squares: the variable
    projection method and its applications* (Inverse Problems, 2003);
    notes 000 (block structure of the single-layer problem). With
    θ = (θ_h, w), w the output layer's (W, b) and F = Z(θ_h) W + b, the
    reduced objective is Φ(θ_h) = J(θ_h, w*(θ_h)), w*(θ_h) = argmin_w J(θ_h, w),
    a convex problem in w solved exactly (:class:`OutputLayerSolver`).
    By the chain rule,

        ∇Φ(θ_h) = ∂J/∂θ_h(θ_h, w*) + (∂w*/∂θ_h)ᵀ ∂J/∂w(θ_h, w*) = ∂J/∂θ_h(θ_h, w*),

    because ∂J/∂w = 0 at the minimizer w*: the variable-projection gradient
    is the ordinary backpropagation gradient's hidden block at (θ_h, w*);
    dw*/dθ_h is never formed. Outer "gauss-newton" solves S p = −∇Φ by CG
    with an Armijo search on Φ, where S is either the hidden block
    P_h G P_hᵀ of the Gauss-Newton matrix at (θ_h, w*) (coupling through w*
    ignored, as notes 000 ignores the coupling of the blocks), or its Schur
    complement S = G_hh − G_hw G_ww⁻¹ G_wh: differentiating the inner
    optimality condition gives dw*/dθ_h ≈ −G_ww⁻¹ G_wh, and S is the
    Gauss-Newton matrix of the reduced problem built from the total
    Jacobian J_h + J_w dw*/dθ_h (Kaufman's variant for least squares,
    where S = J_hᵀ (I − P_w) J_h with P_w the projector onto range J_w).
    S v = P_h G [v; −z] with z = G_ww⁻¹ P_w G [v; 0], because the output
    rows of G [v; −z] vanish. "lbfgs" runs L-BFGS on Φ. Every trial point
    costs one inner solve and one linearization. The first iterate is the
    projection of the start (θ_h, w*(θ_h)); each yields the full θ, J(θ)
    and ∇J(θ).
    """
    if outer not in OUTER:
        raise ValueError(f"outer must be one of {OUTER}, got {outer!r}")
    if curvature not in ("block", "schur"):
        raise ValueError(f"curvature must be 'block' or 'schur', got {curvature!r}")
    check_cg_options(max_cg, forcing_power, max_forcing)
    solver = OutputLayerSolver(problem.objective, inner_reg=inner_reg, max_inner=max_inner,
                               inner_gtol=inner_gtol, counts=problem.counts)
    if curvature == "schur" and solver.out.n_params > DENSE_LIMIT:
        raise ValueError(f"curvature='schur' needs an output layer of at most {DENSE_LIMIT} parameters, "
                         f"got {solver.out.n_params}")
    reduced = _Reduced(problem, solver, x[solver.hidden.n_params:].copy(), schur=curvature == "schur")
    lin = reduced.accepted(reduced.at(x[: reduced.n_h]).theta)
    yield Iterate(lin.full.theta, float(lin.full.value), lin.full.grad, step=0.0)
    steps = (_gauss_newton_steps(reduced, lin, max_cg, forcing_power, max_forcing, c1, max_backtracks)
             if outer == "gauss-newton" else _lbfgs_steps(reduced, lin, memory))
    for lin, t, inner in steps:
        yield Iterate(lin.full.theta, float(lin.full.value), lin.full.grad, step=t, inner=inner)


varpro.needs_network = True
