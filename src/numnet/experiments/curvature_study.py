"""Curvature study: Hessian, Gauss–Newton, empirical Fisher and KFAC side by side (notes 004, 000).

On a tanh network trained on the peaks classes (softmax cross-entropy), at
the trained θ:

1. spectra: the spectral densities of the exact Hessian H, the Gauss–Newton
   matrix G, the empirical Fisher and KFAC by stochastic Lanczos quadrature
   (one figure), with the dense extreme eigenvalues for reference;
2. accuracy: how well KFAC, EKFAC, the exact diagonal, the per-layer blocks
   and the empirical Fisher approximate G — the relative Frobenius error
   ‖G − A‖_F / ‖G‖_F and the angle between the damped Newton directions
   −(G + λI)⁻¹ g and −(A + λI)⁻¹ g;
3. cost: what each approximation costs to build (backward passes, seconds)
   and to apply its inverse, against CG on G, and what SLQ costs.
"""

import time
from itertools import pairwise

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg

from ..curvature import (
    BlockDiagonal,
    ekfac,
    empirical_fisher,
    gauss_newton_blocks,
    ggn_diagonal,
    hessian_dense,
    kfac,
    outer_product_hessian,
    parameter_groups,
    plot_spectral_densities,
    slq,
)
from ..datasets import peaks
from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..optim import minimize
from . import ExperimentResult
from ._params import Float, Int, IntList, experiment

__all__ = ["curvature_study_experiment", "APPROXIMATIONS"]

NAME = "curvature-study"
HELP = (
    "Curvature study: spectra of the Hessian, Gauss-Newton, empirical Fisher and KFAC (SLQ); "
    "KFAC, EKFAC, diagonal and block approximations of GN; their cost (notes 004)."
)

#: The approximations of the Gauss–Newton matrix compared.
APPROXIMATIONS = ("KFAC", "EKFAC", "diagonal", "layer blocks", "empirical Fisher")


@experiment(
    NAME,
    HELP,
    n_samples=Int(6, why="two samples per class", help="peaks samples, 3 classes"),
    hidden=IntList(1, empty=False, example="12,12", help="hidden tanh widths"),
    train_iter=Int(1, help="L-BFGS iterations to the trained θ"),
    damping=Float(0.0, open_min=True, help="λ of the damped Newton directions"),
    n_probes=Int(1, flag="probes", help="SLQ probes"),
    n_steps=Int(1, flag="steps", help="Lanczos steps per probe, at most the number of parameters"),
)
def curvature_study_experiment(
    *,
    seed=0,
    n_samples=300,
    hidden=(12, 12),
    train_iter=200,
    damping=1e-3,
    n_probes=8,
    n_steps=40,
    plot=True,
):
    """Spectra, accuracy and cost of the curvature approximations at a trained θ.

    Parameters
    ----------
    seed : int
    n_samples : int, default=300
        Peaks samples (3 classes).
    hidden : tuple of int, default=(12, 12)
        Hidden tanh widths of the network 2 → hidden → 3.
    train_iter : int, default=200
        L-BFGS iterations.
    damping : float, default=1e-3
        λ of the damped Newton directions.
    n_probes, n_steps : int, default=8, 40
        SLQ probes and Lanczos steps (n_probes · n_steps products per operator).
    plot : bool, default=True
        Draw ``curvature_study.png``.

    Returns
    -------
    ExperimentResult
        numbers: ``n_params``, ``loss``, ``frobenius_error`` and ``newton_angle_deg``
        per approximation, ``eigenvalues`` (dense extremes of H, GN, EF, KFAC),
        ``slq_moments`` (mean and second moment per operator, with the dense
        values), ``cost`` (build and solve passes and seconds per method) and
        ``slq_cost``.
    """
    rng = np.random.default_rng(seed)
    obj = _objective(n_samples, hidden, rng)
    theta = minimize(obj, obj.net.init(rng), "lbfgs", max_iter=train_iter).x
    lin = obj.at(theta)
    dense, cost = _approximations(lin, damping)
    G, g = dense.pop("GN"), lin.grad
    exact_step = -np.linalg.solve(G + damping * np.eye(obj.n_params), g)
    numbers = {
        "n_params": obj.n_params,
        "n_samples": obj.n_samples,
        "loss": float(lin.value),
        "damping": damping,
        "frobenius_error": {},
        "newton_angle_deg": {},
    }
    for name in APPROXIMATIONS:
        A = dense[name]
        numbers["frobenius_error"][name] = float(np.linalg.norm(G - A) / np.linalg.norm(G))
        numbers["newton_angle_deg"][name] = _angle(
            exact_step, -np.linalg.solve(A + damping * np.eye(len(g)), g)
        )
    densities, numbers["slq_cost"] = _densities(lin, n_probes, n_steps, seed)
    spectra = {
        "Hessian": dense["Hessian"],
        "Gauss-Newton": G,
        "empirical Fisher": dense["empirical Fisher"],
        "KFAC": dense["KFAC"],
    }
    numbers["eigenvalues"] = {k: _extremes(M) for k, M in spectra.items()}
    numbers["slq_moments"] = {
        k: {
            "mean": densities[k].moment(1),
            "dense_mean": float(np.trace(M)) / len(M),
            "second": densities[k].moment(2),
            "dense_second": float(np.sum(M * M)) / len(M),
        }
        for k, M in spectra.items()
    }
    numbers["cost"] = cost
    figures = {"curvature_study.png": _figure(densities, numbers)} if plot else {}
    return ExperimentResult(NAME, numbers, figures, _table(numbers))


def _objective(n_samples, hidden, rng):
    X, y = peaks(n_samples, 3, random_state=rng)
    widths = (2, *hidden)
    layers = [Dense(a, b, "tanh") for a, b in pairwise(widths)] + [Dense(widths[-1], 3)]
    return Objective(Sequential(layers), "cross_entropy", X, y)


def _timed(fn, repeats=3):
    """``(fn(), seconds)``, the fastest of ``repeats`` runs (the first pays for warm-up)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def _approximations(lin, damping):
    """Dense matrices of every approximation, and the cost of building each and of one damped solve."""
    obj, k = lin.objective, lin.objective.net.d_out
    p, g, cost = obj.n_params, lin.grad, {}
    K, t_k = _timed(lambda: kfac(lin))
    E, t_e = _timed(lambda: ekfac(lin))
    d, t_d = _timed(lambda: ggn_diagonal(lin))
    groups = parameter_groups(obj.net)
    B, t_b = _timed(lambda: BlockDiagonal(gauss_newton_blocks(lin), groups, p))
    for name, op, built, passes in (
        ("KFAC", K, t_k, k),
        ("EKFAC", E, t_e, k),
        ("layer blocks", B, t_b, k),
    ):
        _, t_solve = _timed(lambda: op.inverse(damping) @ g)
        cost[name] = {
            "build_backward_passes": passes,
            "build_seconds": built,
            "solve_seconds": t_solve,
        }
    _, t_solve = _timed(lambda: g / (d + damping))
    cost["diagonal"] = {"build_backward_passes": k, "build_seconds": t_d, "solve_seconds": t_solve}
    cost["GN (CG)"] = _cg_cost(lin, damping)
    H, t_h = _timed(lambda: hessian_dense(lin), repeats=1)
    cost["Hessian (dense)"] = {
        "build_backward_passes": p,
        "build_seconds": t_h,
        "solve_seconds": float("nan"),
    }
    dense = {
        "KFAC": K.to_dense(),
        "EKFAC": E.to_dense(),
        "diagonal": np.diag(d),
        "layer blocks": B.to_dense(),
        "empirical Fisher": empirical_fisher(lin, dense=True),
        "Hessian": 0.5 * (H + H.T),
        "GN": outer_product_hessian(lin),
    }
    return dense, cost


def _cg_cost(lin, damping):
    """CG on (G + λI) d = −g to 1e-8 relative residual: products (one jvp and one vjp each) and seconds."""
    p, count = lin.objective.n_params, [0]

    def mv(v):
        count[0] += 1
        return lin.gnvp(v) + damping * v

    def solve():
        count[0] = 0
        return cg(
            LinearOperator((p, p), matvec=mv, dtype=lin.objective.dtype),
            -lin.grad,
            rtol=1e-8,
            maxiter=10 * p,
        )

    _, seconds = _timed(solve)
    return {
        "build_backward_passes": 0,
        "build_seconds": 0.0,
        "solve_seconds": seconds,
        "solve_products": count[0],
    }


def _densities(lin, n_probes, n_steps, seed):
    ops = {
        "Hessian": lin.H,
        "Gauss-Newton": lin.G,
        "empirical Fisher": empirical_fisher(lin),
        "KFAC": kfac(lin).as_operator(),
    }
    steps = min(n_steps, lin.objective.n_params)
    out, cost = {}, {}
    for name, op in ops.items():
        out[name], seconds = _timed(lambda op=op: slq(op, n_probes, steps, seed=seed), repeats=1)
        cost[name] = {"products": n_probes * steps, "seconds": seconds}
    return out, cost


def _angle(a, b):
    cos = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def _extremes(M):
    lam = np.linalg.eigvalsh(0.5 * (M + M.T))
    return {"min": float(lam[0]), "max": float(lam[-1])}


def _table(numbers):
    lines = [
        f"Curvature of a {numbers['n_params']}-parameter tanh network (peaks, 3 classes, "
        f"{numbers['n_samples']} samples, loss {numbers['loss']:.3g}); approximations of Gauss-Newton G:",
        f"{'approximation':<18} {'‖G − A‖_F/‖G‖_F':>16} {'Newton angle (°)':>17}",
    ]
    lines += [
        f"{a:<18} {numbers['frobenius_error'][a]:>16.3f} {numbers['newton_angle_deg'][a]:>17.1f}"
        for a in APPROXIMATIONS
    ]
    lines.append(
        f"\n{'method':<18} {'build passes':>12} {'build s':>9} {'solve s':>9} {'solve products':>14}"
    )
    for m, c in numbers["cost"].items():
        lines.append(
            f"{m:<18} {c['build_backward_passes']:>12} {c['build_seconds']:>9.4f} "
            f"{c['solve_seconds']:>9.4f} {c.get('solve_products', '-'):>14}"
        )
    lines.append(
        f"\n{'SLQ of':<18} {'products':>9} {'seconds':>9} {'mean λ (SLQ)':>13} {'mean λ (dense)':>15}"
    )
    for m, c in numbers["slq_cost"].items():
        mom = numbers["slq_moments"][m]
        lines.append(
            f"{m:<18} {c['products']:>9} {c['seconds']:>9.4f} {mom['mean']:>13.4g} {mom['dense_mean']:>15.4g}"
        )
    return "\n".join(lines)


def _figure(densities, numbers):
    from ..plots import new_figure

    fig, axes = new_figure(2, width=5.0, height=3.6)
    plot_spectral_densities(densities, ax=axes[0, 0])
    axes[0, 0].set_title("spectral densities (SLQ) at the trained θ")
    ax = axes[0, 1]
    x = np.arange(len(APPROXIMATIONS))
    ax.bar(
        x - 0.2,
        [numbers["frobenius_error"][a] for a in APPROXIMATIONS],
        0.4,
        label="‖G − A‖_F / ‖G‖_F",
    )
    twin = ax.twinx()
    twin.bar(
        x + 0.2,
        [numbers["newton_angle_deg"][a] for a in APPROXIMATIONS],
        0.4,
        color="C1",
        label="Newton angle (°)",
    )
    ax.set_xticks(x, APPROXIMATIONS, rotation=25, ha="right", fontsize=8)
    ax.set(ylabel="relative Frobenius error", title="approximations of Gauss-Newton")
    twin.set_ylabel("angle between damped Newton steps (°)")
    ax.legend(loc="upper left", fontsize=7)
    twin.legend(loc="upper right", fontsize=7)
    return fig
