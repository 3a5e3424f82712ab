"""Dense Gauss-Newton for small p: the p × p matrix of one linearization, damped solves by factorization.

The matrix-free path (:class:`~numnet.optim.newton.CG`) spends up to
``max_cg`` Gauss-Newton products per iteration and solves inexactly. For a
network of a few hundred parameters it is cheaper to form the Gauss-Newton
matrix once per linearization and solve every damped system exactly
(Hagan & Menhaj 1994, Levenberg–Marquardt for networks; Madsen, Nielsen &
Tingleff 2004, §3.2; Nocedal & Wright §10.3). In code notation (samples as
rows), with J_n = ∂F_n/∂θ (n_outputs × p, from
:func:`~numnet.curvature.outer.output_jacobians`) and B_n = ∇²_{F_n}E:

- squared error, E = (1/n) Σ ½‖F_n − Y_n‖²: the residual r = (F − Y)/√n
  has the Jacobian R = J/√n (n·n_outputs rows), G = RᵀR, g = Rᵀr;
- any other loss: B_n = L_n L_nᵀ (L_n = Q_n Λ_n^½ from B_n = Q_n Λ_n Q_nᵀ,
  rounding negatives clipped), R stacks the rows L_nᵀ J_n, so
  G = RᵀR = Σ_n J_nᵀ B_n J_n; g = Σ_n J_nᵀ ∇_{F_n}E from the same J (no
  backward pass);
- the regularizer: Tikhonov adds λ·mask to the diagonal of G (the rows
  √λ e_jᵀ of the stacked factor) and λ θ ⊙ mask to g; any other smooth one
  its Hessian, column by column from ``hvp``;
- :class:`~numnet.optim.problem.FunctionObjective` with ``jac=``: R = jac(x),
  G = RᵀR (its ``gnvp``).

G = RᵀR costs O(n·n_outputs·p²). When J would hold more than
:data:`CHUNK_ENTRIES` numbers it is built in row chunks, each with its own
forward pass (not for networks with Dropout, whose masks depend on the
number of rows).

The damped system (G + μD) p = −g, D = I (``scaling="identity"``) or
Marquardt's D = diag(G) floored at ε·max diag(G) (``"marquardt"``), is
solved

- by Cholesky of G + μD (p³/3 flops) for the first
  :data:`CHOLESKY_SOLVES` solves at one linearization, unless it fails or
  its pivots show a condition number above 1/(p ε);
- otherwise by the eigendecomposition D^-½ G D^-½ = V Λ Vᵀ, computed once
  per linearization, after which every μ costs O(p²):
  p = −D^-½ V (Λ + μ)⁺ Vᵀ D^-½ g, eigenvalues of Λ + μ below
  p ε max(Λ + μ) dropped (the minimum-norm solution when G + μD is
  singular). A run of rejected Levenberg–Marquardt steps thus pays one
  eigendecomposition, not one factorization per retry.

With a line search (Gauss-Newton, :meth:`Direct.search`) the first trial is
that exact step (the minimum-norm solution). On a singular or
ill-conditioned G — softmax's shift invariance, saturated tanh units, an
RNN — it is huge along G's near-null space, and halving it (Armijo) shrinks
the well-determined components with the bad ones: the run stalls (peaks,
2-8-5 softmax, 300 points: loss 1.66–1.84 after 60 iterations from four
seeds, CG 0.21–0.32). So after a rejected trial, stage k = 1, 2, … tries two
steps and takes the lower value of those Armijo accepts:

- the halved step 2⁻ᵏ p (N&W Algorithm 3.1);
- the eigenvalue-floored step (N&W §3.4, eigenvalue modification):
  w_i = max(λ_i + μ, τ_k), τ_k = ρ_k max(Λ + μ), ρ_k = p ε ·
  :data:`FLOOR_GROWTH`ᵏ, the exact null space (w at the rounding level,
  where g has no component) still dropped. Directions with λ_i ≫ τ_k keep
  their Gauss-Newton step; the nearly singular ones get a gradient step
  of length 1/τ_k.

Each trial costs one forward pass and O(p²) (the eigendecomposition once
per linearization). Measured (``solver="dense"``, one thread): peaks 2-8-5
loss 0.30–0.50 after 60 iterations (the stall above was 1.66–1.84; CG
0.21–0.32); peaks 2-32-5 (800 points) 0.10–0.25 after ~60 (CG 0.009–0.03
after 100, the old dense path 1.6–1.9); the adding-problem RNN of
:mod:`numnet.experiments.rnn` (61 parameters, ill-conditioned G)
4.5e-7, 1.8e-5, 2.4e-5 after 150 iterations from three seeds (the old
dense path 0.29, 7.5e-3, 2.8e-3; CG 5.8e-6, 2.6e-6, 7.0e-6); the function fits of
``benchmarks/workloads/fitting.py`` reach their targets in as many
iterations as with halving alone (sin 1-D, 1e-10: 26–77 iterations,
before 47–69; peaks 2-D, 1e-5: 143–702, before 255–326 and one miss).
The alternatives measured on the same problems were worse: floors alone
(no halving) or the longer step of both paths — 0.09–0.27 on peaks 2-8-5,
but 620–1430 iterations on sin 1-D; a fixed relative cutoff or floor,
kept for the whole run, either stalls (truncation at 1e-7 λ_max on the
RNN: 1e-4–7e-2 against CG's 2.6e-6–7.0e-6, the dropped directions never
resolved) or stops convergence on a well-posed fit (floor 1e-7 on sin 1-D:
target missed in 3000 iterations on 2 seeds of 3).

The result's ``Ap`` is G p + μ p whatever D is: what
:class:`~numnet.optim.newton.Damping` subtracts μ p from to get the model's
curvature term.
"""

from typing import NamedTuple

import numpy as np
import scipy.linalg

from ..curvature.outer import loss_hessian_blocks, output_jacobians, per_sample_output_gradients
from ..layers.dropout import has_dropout
from ..losses import LeastSquares
from ..regularizers import Tikhonov
from .base import NoProgress
from .geodesic import geodesic_step
from .krylov import CGResult
from .linesearch import armijo
from .problem import FunctionObjective

__all__ = [
    "DenseLinearization",
    "Direct",
    "solve_damped",
    "solve_floored",
    "damped_inverse",
    "gauss_newton_system",
    "CHUNK_ENTRIES",
    "CHOLESKY_SOLVES",
    "FLOOR_GROWTH",
]

#: Largest Jacobian (n_samples · n_outputs · p numbers) built in one piece.
CHUNK_ENTRIES = 2**22
#: Cholesky factorizations tried at one linearization before its eigendecomposition serves every μ.
CHOLESKY_SOLVES = 10
#: Factor by which the relative eigenvalue floor ρ grows after each rejected trial of :meth:`Direct.search`.
FLOOR_GROWTH = 10.0


class DenseLinearization:
    """A linearization with its dense Gauss-Newton matrix and gradient, both built on first use.

    Parameters
    ----------
    lin : linearization
        ``problem.at(x)`` of an :class:`~numnet.objective.Objective` or a
        :class:`~numnet.optim.problem.FunctionObjective` with ``jac``.
    counts : Counts, optional
        Where a gradient computed here from the Jacobian is counted.
    grad : ndarray, optional
        The gradient at ``lin.theta`` when it is already known.

    Attributes
    ----------
    theta, value, grad : the point, J(θ) and ∇J(θ)
    matrix : ndarray of shape (p, p)
        G = Σ_n J_nᵀ B_n J_n + λ∇²R (see the module notes).
    n_solves : int
        Damped solves made with this linearization so far.
    """

    def __init__(self, lin, counts=None, grad=None):
        self.lin, self.theta, self.value = lin, lin.theta, lin.value
        self._counts, self._grad, self._G, self._J = counts, grad, None, None
        self._scales, self._eigen, self.n_solves, self.last_inverse = {}, {}, 0, None

    @property
    def grad(self):
        if self._grad is None:
            self._build()
        return self._grad

    @property
    def matrix(self):
        if self._G is None:
            self._build()
        return self._G

    def gnvp(self, v):
        """G v with the formed matrix."""
        return self.matrix @ v

    def jvp(self, v):
        """J v as a flat vector (the kept Jacobian, or a tangent pass when J was built in chunks)."""
        self.matrix
        if self._J is not None:
            return self._J @ v
        return self.lin.objective.net.jvp(self.theta, self.lin.cache, v, None).ravel()

    def vjp(self, u):
        """Jᵀ u for a flat u (the kept Jacobian, or a backward pass)."""
        self.matrix
        if self._J is not None:
            return self._J.T @ u
        F = self.lin.F
        return self.lin.objective.net.vjp(
            self.theta, self.lin.cache, u.reshape(F.shape), need_gX=False
        )[0]

    def usable(self):
        """Whether the gradient and the matrix are finite (a trial point may be accepted)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return bool(np.isfinite(self.grad).all() and np.isfinite(self.matrix).all())

    def scale(self, scaling):
        """The diagonal D of the damping term, or None for the identity."""
        if scaling == "identity":
            return None
        if scaling not in self._scales:
            d = np.diagonal(self.matrix).copy()
            top = float(d.max()) if d.size else 0.0
            self._scales[scaling] = (
                np.maximum(d, np.finfo(d.dtype).eps * top) if top > 0 else np.ones_like(d)
            )
        return self._scales[scaling]

    def eigen(self, scaling):
        """``(Λ, V)`` of D^-½ G D^-½, computed once per scaling."""
        if scaling not in self._eigen:
            d, G = self.scale(scaling), self.matrix
            if d is not None:
                s = 1 / np.sqrt(d)
                G = G * s[:, None] * s[None, :]
            try:
                self._eigen[scaling] = np.linalg.eigh(G)
            except np.linalg.LinAlgError as exc:
                raise NoProgress(
                    f"the Gauss-Newton matrix has no eigendecomposition: {exc}"
                ) from None
        return self._eigen[scaling]

    def _build(self):
        with np.errstate(over="ignore", invalid="ignore"):
            self._G, g, self._J = gauss_newton_system(self.lin, need_grad=self._grad is None)
        if self._grad is None:
            self._grad = g if g is not None else self.lin.grad
            if g is not None and self._counts is not None:
                self._counts.ngev += 1


def gauss_newton_system(lin, need_grad=True):
    """``(G, g, J)`` at a linearization: the dense Gauss-Newton matrix, the gradient, the output Jacobian.

    ``g`` is None when not asked for, or when the objective computes it
    itself (a :class:`~numnet.optim.problem.FunctionObjective`); ``J`` is
    the Jacobian of the outputs (n_samples·n_outputs × p; the residuals'
    for a FunctionObjective), None when it was built in chunks.
    """
    obj = lin.objective
    if isinstance(obj, FunctionObjective):
        R = np.asarray(obj.jac(lin.theta), dtype=lin.theta.dtype)
        return R.T @ R, None, R
    G, g, J = _network_system(lin, need_grad)
    if obj.regularizer is not None:
        _add_regularizer(G, g, obj.regularizer, lin.theta)
    return G, g, J


def _network_system(lin, need_grad):
    """Σ over row chunks of RᵀR and Jᵀ∇_F E (module notes), without the regularizer."""
    obj = lin.objective
    n, p = obj.n_samples, obj.n_params
    G, g = None, np.zeros(p, dtype=lin.theta.dtype) if need_grad else None
    chunks = _row_chunks(n, lin.F.shape[1] * p, obj.net)
    for rows in chunks:
        J = (
            output_jacobians(lin)
            if rows is None
            else per_sample_output_gradients(obj.net, lin.theta, obj.X[rows])
        )
        part = slice(None) if rows is None else rows
        if need_grad:
            g += J.reshape(-1, p).T @ lin.gF[part].ravel()
        piece = _gram(obj.loss, lin.F[part], obj.Y[part], J, n)
        if G is None:
            G = piece
        else:
            G += piece
    return G, g, J.reshape(-1, p) if chunks == [None] else None


def _row_chunks(n, entries_per_row, net):
    """``[None]`` (all rows, the kept forward pass) or slices of rows holding at most CHUNK_ENTRIES numbers."""
    size = max(1, CHUNK_ENTRIES // max(entries_per_row, 1))
    if n <= size or has_dropout(
        net
    ):  # has_dropout walks the network: only asked when chunks are needed
        return [None]
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _gram(loss, F, Y, J, n):
    """RᵀR for the rows of F (of n in all): J/√n for squared error, L_nᵀ J_n otherwise."""
    p = J.shape[2]
    if isinstance(loss, LeastSquares):
        Jf = J.reshape(-1, p)
        return (Jf.T @ Jf) * (1.0 / n)
    B = loss_hessian_blocks(loss, F, Y) * (
        F.shape[0] / n
    )  # the blocks of a mean over the chunk, rescaled
    lam, Q = np.linalg.eigh(B)
    R = (np.sqrt(np.maximum(lam, 0))[:, :, None] * (Q.transpose(0, 2, 1) @ J)).reshape(-1, p)
    return R.T @ R


def _add_regularizer(G, g, reg, theta):
    """G += λ∇²R (diagonal for Tikhonov; none for a non-smooth one), g += λ∇R, in place."""
    p = theta.size
    if isinstance(reg, Tikhonov):
        G.flat[:: p + 1] += reg.hvp(theta, np.ones_like(theta))
    elif getattr(reg, "smooth", True):
        e = np.zeros_like(theta)
        for j in range(p):
            e[j] = 1
            G[:, j] += reg.hvp(theta, e)
            e[j] = 0
    if g is not None:
        g += reg.grad(theta)


def solve_damped(lin, g, mu, scaling="identity"):
    """Solve (G + μD) p = −g at a :class:`DenseLinearization` (module notes); a ``CGResult`` with Ap = Gp + μp."""
    p = -damped_inverse(lin, mu, scaling)(g)
    return CGResult(p, lin.matrix @ p + mu * p, 0, "direct")


def damped_inverse(lin, mu, scaling="identity"):
    """b ↦ (G + μD)⁻¹ b (module notes), also kept as ``lin.last_inverse`` for more right-hand sides."""
    G, d = lin.matrix, lin.scale(scaling)
    lin.n_solves += 1
    inverse = _cholesky_inverse(G, d, mu) if lin.n_solves <= CHOLESKY_SOLVES else None
    if inverse is None:
        inverse = _eigen_inverse(lin.eigen(scaling), d, mu)
    lin.last_inverse = inverse
    return inverse


def _cholesky_inverse(G, d, mu):
    """(G + μD)⁻¹ by Cholesky; None when it fails or its pivots show cond > 1/(p ε)."""
    A = G.copy(order="F")
    A.flat[:: A.shape[0] + 1] += mu if d is None else mu * d
    potrf, potrs = _lapack(A.dtype)
    c, info = potrf(A, lower=1, overwrite_a=1, clean=0)
    pivots = np.abs(np.diagonal(c))
    if info != 0 or not pivots.min() ** 2 > A.shape[0] * np.finfo(A.dtype).eps * pivots.max() ** 2:
        return None
    return lambda b: potrs(c, b, lower=1)[0]


_LAPACK = {}


def _lapack(dtype):
    """LAPACK's Cholesky factorization and solve for ``dtype`` (looked up once)."""
    if dtype not in _LAPACK:
        _LAPACK[dtype] = scipy.linalg.get_lapack_funcs(("potrf", "potrs"), dtype=dtype)
    return _LAPACK[dtype]


def solve_floored(lin, g, mu, floor, scaling="identity"):
    """Solve with the eigenvalues of Λ + μ raised to ``floor`` · max(Λ + μ) (module notes); a ``CGResult``."""
    d = lin.scale(scaling)
    p = -_eigen_inverse(lin.eigen(scaling), d, mu, floor)(g)
    Ap = lin.matrix @ p + (mu * p if d is None else mu * d * p)
    return CGResult(p, Ap, 0, "direct")


def _eigen_inverse(eigen, d, mu, floor=0.0):
    """D^-½ V W⁺ Vᵀ D^-½, W = max(Λ + μ, τ) with τ = floor·max(Λ + μ), w below p ε max(Λ + μ) dropped."""
    lam, V = eigen
    s = None if d is None else 1 / np.sqrt(d)
    top = max(float((lam + mu).max()), 0.0)
    keep = lam + mu > lam.size * np.finfo(lam.dtype).eps * top
    w = np.maximum(lam + mu, floor * top)
    winv = np.where(keep, 1 / np.where(keep, w, 1), 0).astype(lam.dtype, copy=False)

    def apply(b):
        x = V @ (winv * (V.T @ (b if s is None else b * s)))
        return x if s is None else x * s

    return apply


class Direct(NamedTuple):
    """The dense solver of the Newton driver: exact solves of (G + damping·D) p = −g.

    Works on :class:`DenseLinearization` s, which it makes itself:
    :meth:`point` at a trial point (value only; the Jacobian, G and the
    gradient on first use, i.e. only for an accepted step), :meth:`wrap`
    around a linearization the driver already has. With ``geodesic``,
    :meth:`accelerate` turns a step v into v + ½a
    (:func:`~numnet.optim.geodesic.geodesic_step`).
    """

    scaling: str = "identity"
    geodesic: bool = False

    def solve(self, lin, g, damping=0.0, radius=None):
        if radius is not None:
            raise ValueError("the dense solver solves damped systems; radius must be None")
        return solve_damped(lin, g, damping, self.scaling)

    def search(self, problem, state, *, damping=0.0, c1=1e-4, max_backtracks=30):
        """Armijo over two backtracking paths (module notes): ``(linearization, ρ, t)`` of the accepted trial.

        Stage 0 tries the exact step p of :meth:`solve`; stage k ≥ 1 tries
        the halved step 2⁻ᵏ p and the floored step of
        ρ_k = p ε · FLOOR_GROWTHᵏ, and accepts the lower value of those that
        pass :func:`~numnet.optim.linesearch.armijo` at t = 1 with a finite
        gradient (ρ = 0 for a halved step, t = 1 for a floored one). Raises
        ``NoProgress`` after ``max_backtracks`` stages without one.
        """
        lin = state.lin
        exact = self.solve(lin, state.g, damping).p
        trial = _armijo_trial(problem, state, exact, c1)
        if trial is not None:
            return self.wrap(problem, trial, trial.grad), 0.0, 1.0
        for k in range(1, max_backtracks + 1):
            rho, t = lin.theta.size * np.finfo(lin.theta.dtype).eps * FLOOR_GROWTH**k, 0.5**k
            floored = solve_floored(lin, state.g, damping, rho, self.scaling).p
            found = [
                (float(tr.value), i, tr)
                for i, tr in enumerate(
                    _armijo_trial(problem, state, step, c1) for step in (t * exact, floored)
                )
                if tr is not None
            ]
            if found:
                _, i, trial = min(found, key=lambda item: item[:2])
                return self.wrap(problem, trial, trial.grad), (0.0, rho)[i], (t, 1.0)[i]
        raise NoProgress(
            f"Armijo found no sufficient decrease along the halved or the eigenvalue-floored "
            f"steps in {max_backtracks} stages"
        )

    def point(self, problem, x):
        """The linearization at a trial x, None when x or its value is not finite."""
        if not np.isfinite(x).all():
            return None
        with np.errstate(over="ignore", invalid="ignore"):
            lin = problem.at(x)
            ok = np.isfinite(lin.value)
        return DenseLinearization(lin, problem.counts) if ok else None

    def wrap(self, problem, lin, grad=None):
        return DenseLinearization(lin, problem.counts, grad)

    def accelerate(self, problem, lin, sol):
        """The trial step for ``sol`` at ``lin``: v, or v + ½a with geodesic acceleration (None: reject)."""
        return geodesic_step(problem, lin, sol.p) if self.geodesic else sol.p

    def usable(self, lin):
        return lin.usable()


def _armijo_trial(problem, state, p, c1):
    """The linearization at x + p when Armijo accepts t = 1 there and its gradient is finite, else None."""
    try:
        _, lin = armijo(problem, state.x, state.f, state.g, p, c1=c1, max_backtracks=0)
    except NoProgress:
        return None
    with np.errstate(over="ignore", invalid="ignore"):
        return lin if np.isfinite(lin.grad).all() else None
