"""Geodesic acceleration of Levenberg–Marquardt steps on the dense path (Transtrum & Sethna 2012).

The step v of (G + μD) v = −g moves the outputs F(θ) along J v to first
order. Geodesic acceleration adds the second-order term: with the second
directional derivative of the outputs along v,

    F_vv ≈ (2/h) ((F(θ + h v) − F(θ)) / h − J v),   h = :data:`H`,

(one extra forward pass, samples as rows, flattened), the acceleration a
solves (G + μD) a = −Jᵀ B F_vv with the factorization already made for v
(B = ∇²_F E, so Jᵀ B F_vv = Rᵀ r_vv for squared error, r = (F − Y)/√n;
for a :class:`~numnet.optim.problem.FunctionObjective` F is the residual
vector and B = I). The trial step is v + ½ a, tried only when
2‖a‖ ≤ α‖v‖ (α = :data:`ALPHA`): a larger correction means the
quadratic model is not to be trusted, and the trial counts as rejected (μ
grows). The gain ratio still compares the actual decrease with the one
the model predicts for v. Transtrum, M. K. & Sethna, J. P., "Improvements
to the Levenberg-Marquardt algorithm for nonlinear least-squares
minimization", arXiv:1201.5885 (2012), §4.
"""

import numpy as np

from .problem import FunctionObjective

__all__ = ["geodesic_step", "H", "ALPHA"]

#: Finite-difference step for F_vv (Transtrum & Sethna's choice).
H = 0.1
#: Largest accepted ratio 2‖a‖/‖v‖.
ALPHA = 0.75


def geodesic_step(problem, lin, v):
    """v + ½a at a :class:`~numnet.optim.dense.DenseLinearization` just solved for v; None to reject.

    ``lin.last_inverse`` must be the damped inverse v was computed with.
    The extra evaluation is counted in ``problem.counts.nfev``. A
    FunctionObjective without ``residual`` gets v unchanged.
    """
    if getattr(lin.lin.objective, "residual", True) is None:
        return v
    rhs = _output_curvature(problem, lin, v)
    if rhs is None:
        return None
    a = -lin.last_inverse(rhs)
    if not 4 * float(a @ a) <= ALPHA**2 * float(v @ v):  # 2‖a‖ ≤ α‖v‖, NaN rejected
        return None
    return v + 0.5 * a


def _output_curvature(problem, lin, v):
    """Jᵀ B F_vv by the finite difference of the module notes; None when it is not finite."""
    obj, theta = lin.lin.objective, lin.theta
    problem.counts.nfev += 1
    with np.errstate(over="ignore", invalid="ignore"):
        if isinstance(obj, FunctionObjective):
            F0, F1 = _residual(obj, theta), _residual(obj, theta + H * v)
        else:
            F0, F1 = lin.lin.F.ravel(), obj.predict(theta + H * v).ravel()
        Fvv = (2 / H) * ((F1 - F0) / H - lin.jvp(v))
        if not isinstance(obj, FunctionObjective):
            F = lin.lin.F
            Fvv = obj.loss.hvp(F, obj.Y, Fvv.reshape(F.shape)).ravel()
        rhs = lin.vjp(Fvv)
    return rhs if np.isfinite(rhs).all() else None


def _residual(obj, x):
    return np.asarray(obj.residual(x), dtype=x.dtype).ravel()
