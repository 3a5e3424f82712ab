"""The Hessian of a small network: exact, approximated, and what each costs (notes 004).

Part 1 (accuracy): on a small tanh network fitted to the peaks surface, the
exact Hessian (columns H e_j by the R-operator) is compared, at a random and
at a trained θ, with the finite-difference Hessians (values, gradients), the
Gauss–Newton / outer-product approximation, the exact diagonal and the
Becker–LeCun diagonal: relative Frobenius errors ‖H − A‖_F / ‖H‖_F and
eigenvalue spectra.

Part 2 (cost): the time of each method as the number of parameters W grows,
with the fitted exponent of time ∝ W^k: one Hessian-vector product and
Becker–LeCun O(W), the dense Hessian from W products and the FD Hessian from
gradients O(W²), the FD Hessian from values O(W³). Timings on a shared
machine are noisy, so the study also counts the passes (forward, backward,
tangent) each method makes; a pass of a dense network over n samples costs
n · (number of weights) multiply-adds, which gives an exact operation count.
"""

import time
from itertools import pairwise

import numpy as np
from threadpoolctl import threadpool_limits

from ..curvature import (
    becker_lecun_diagonal,
    extreme_eigenvalues,
    hessian_dense,
    hessian_diagonal,
    hessian_fd_grads,
    hessian_fd_values,
    outer_product_hessian,
)
from ..datasets import peaks_surface
from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..optim import minimize
from ..optim.problem import Problem
from . import ExperimentResult
from ._params import Int, experiment

__all__ = ["hessian_study_experiment", "approximation_errors", "cost_study", "COST_METHODS"]

NAME = "hessian-study"
HELP = "Hessian study: exact vs Gauss-Newton vs diagonal vs outer product, and each method's cost in W (notes 004)."

#: Input width of the cost-study network d → m → 1 (W = m(d + 2) + 1 grows with the hidden width m).
COST_INPUTS = 16

#: method -> (target exponent, hidden widths m of its sweep, samples n)
COST_METHODS = {
    "hvp": (1, (64, 128, 256, 512, 1024), 2000),
    "becker-lecun": (1, (64, 128, 256, 512, 1024), 2000),
    "exact (W hvps)": (2, (4, 8, 16, 32), 8000),
    "fd-grads": (2, (4, 8, 16, 32), 8000),
    "fd-values": (3, (1, 2, 3, 4), 8000),
}


@experiment(NAME, HELP, repeats=Int(1, help="timing repeats, the minimum is kept"))
def hessian_study_experiment(
    *, seed=0, hidden=(6, 6), n_samples=200, train_iter=300, cost_methods=None, repeats=3, plot=True
):
    """Compare the Hessian approximations and measure the cost of each method.

    Parameters
    ----------
    seed : int
    hidden : tuple of int, default=(6, 6)
        Hidden tanh widths of the accuracy network (2 → … → 1).
    n_samples : int, default=200
        Peaks samples of the accuracy study.
    train_iter : int, default=300
        L-BFGS iterations to the "trained" θ.
    cost_methods : dict, optional
        ``{method: (target exponent, widths, n_samples)}``; default :data:`COST_METHODS`.
    repeats : int, default=3
        Timing repeats (the minimum is kept).
    plot : bool, default=True
        Draw ``hessian_study.png``.

    Returns
    -------
    ExperimentResult
        numbers: ``errors_init`` and ``errors_trained`` ({approximation:
        relative Frobenius error}), ``bl_diagonal_error_*`` (Becker–LeCun
        against the exact diagonal), ``lanczos_error_*`` (extreme
        eigenvalues by Lanczos against the dense ones), ``eig_*``
        (spectra of H and of Gauss–Newton), ``cost`` (per method: W, seconds,
        passes), ``time_exponent`` and ``count_exponent`` per method.
    """
    rng = np.random.default_rng(seed)
    obj = peaks_objective(n_samples, hidden, rng)
    theta0 = obj.net.init(rng)
    theta1 = minimize(obj, theta0, "lbfgs", max_iter=train_iter, gtol=1e-10).x
    numbers = {"n_params": obj.n_params}
    for tag, theta in (("init", theta0), ("trained", theta1)):
        numbers.update({f"{k}_{tag}": v for k, v in approximation_errors(obj, theta).items()})
    cost = cost_study(cost_methods or COST_METHODS, repeats=repeats, seed=seed)
    numbers["cost"] = cost
    numbers["time_exponent"] = {m: c["time_exponent"] for m, c in cost.items()}
    numbers["count_exponent"] = {
        m: c["count_exponent"] for m, c in cost.items() if c["count_exponent"] is not None
    }
    figures = {"hessian_study.png": _figure(numbers, cost)} if plot else {}
    return ExperimentResult(NAME, numbers, figures, _table(numbers, cost))


def peaks_objective(n_samples, hidden, rng):
    """Least squares on the peaks surface (scaled by 1/8) with a tanh network 2 → hidden → 1."""
    X = rng.uniform(-3, 3, size=(n_samples, 2))
    widths = (2,) + tuple(hidden)
    layers = [Dense(a, b, "tanh") for a, b in pairwise(widths)] + [Dense(widths[-1], 1)]
    return Objective(Sequential(layers), "squared_error", X, peaks_surface(X[:, 0], X[:, 1]) / 8)


def approximation_errors(obj, theta):
    """Relative Frobenius errors of every approximation of ∇²J(θ), and spectra.

    Notes
    -----
    Note 004. H: ``hessian_dense`` (H e_j by the R-operator). Approximations:
    "fd-values" (four-point formula, O(ε²)), "fd-grads" (central differences
    of gradients), "gauss-newton" (outer product Σ_n J_nᵀ ∇²E_n J_n, which
    drops Σ_n (y_n − t_n) ∇²y_n), "exact diagonal" and "becker-lecun"
    (diag(d) as a matrix: what a diagonal approximation keeps of H).
    Errors are ‖H − A‖_F / ‖H‖_F.
    """
    lin = obj.at(theta)
    H_raw = hessian_dense(lin)
    H = 0.5 * (H_raw + H_raw.T)
    d_exact, d_bl = hessian_diagonal(lin), becker_lecun_diagonal(lin)
    approx = {
        "fd-values": hessian_fd_values(lin),
        "fd-grads": hessian_fd_grads(lin),
        "gauss-newton": outer_product_hessian(lin),
        "exact diagonal": np.diag(d_exact),
        "becker-lecun": np.diag(d_bl),
    }
    norm = np.linalg.norm(H)
    eig_H = np.linalg.eigvalsh(H)
    lanczos = extreme_eigenvalues(lin, k=2, which="BE")
    return {
        "errors": {k: float(np.linalg.norm(H - A) / norm) for k, A in approx.items()},
        "bl_diagonal_error": float(np.linalg.norm(d_bl - d_exact) / np.linalg.norm(d_exact)),
        "lanczos_error": float(np.max(np.abs(lanczos - eig_H[[0, -1]])) / np.max(np.abs(eig_H))),
        "eig_H": eig_H,
        "eig_GN": np.linalg.eigvalsh(approx["gauss-newton"]),
        "symmetry_error": float(np.linalg.norm(H_raw - H_raw.T) / norm),
    }


def _passes(problem):
    """Network passes counted by ``problem.counts``: 1 per forward (nfev), 1 per backward (ngev), 2 per hvp."""
    counts = problem.counts
    return counts.nfev + counts.ngev + 2 * counts.nhvp


def _cost_network(m):
    """d → m → 1 tanh network, d = COST_INPUTS: W = m(d + 2) + 1 parameters, m(d + 1) weights."""
    return Sequential([Dense(COST_INPUTS, m, "tanh"), Dense(m, 1)])


def _run_method(method, obj, theta, v):
    """Run one method once on the :class:`Problem` ``obj``; the counted passes it made."""
    start = _passes(obj)
    if method == "hvp":
        lin = obj.at(theta)
        start = _passes(obj)  # the linearization is shared by many products; count the product only
        lin.hvp(v)
    elif method == "becker-lecun":
        becker_lecun_diagonal(obj.at(theta))
        return None
    else:
        {
            "exact (W hvps)": hessian_dense,
            "fd-grads": hessian_fd_grads,
            "fd-values": hessian_fd_values,
        }[method](obj, theta)
    return _passes(obj) - start


def cost_study(methods=None, *, repeats=3, seed=0):
    """Time each method over its sweep of network sizes; fit time ∝ W^k and ops ∝ W^k.

    Parameters
    ----------
    methods : dict, optional
        ``{name: (target exponent, hidden widths m, n_samples)}``; default
        :data:`COST_METHODS`. Names: "hvp", "becker-lecun", "exact (W hvps)",
        "fd-grads", "fd-values".
    repeats : int, default=3
        The minimum time over ``repeats`` runs is kept.
    seed : int, default=0

    Returns
    -------
    dict
        Per method: ``W``, ``seconds`` (CPU time), ``ops`` (passes × n ×
        weights; None for Becker–LeCun, which is not made of passes),
        ``target``, ``n_samples``, ``time_exponent``, ``count_exponent``
        (slopes of log-log fits).

    Notes
    -----
    The network d → m → 1 (d = 16) grows with m, and every part of a pass
    (the products X W₁ of n·d·m multiply-adds, the n·m activations, the
    output layer) is proportional to m, hence to W: a pass costs
    O(n W), the notes' O(W) per sample. A single hvp is two passes (note
    004, R-operator); the dense Hessian W hvps (O(W²)); the FD Hessian from
    gradients 2W gradients (O(W²)); from values 4 · W(W+1)/2 values
    (O(W³)). The per-method n makes the compute of a pass dominate the
    constant Python overhead of a call even for the small W that the
    O(W²) and O(W³) methods can afford. Times are CPU seconds of this
    process (``time.process_time``) with BLAS limited to one thread
    (``threadpoolctl``), so that waiting for a core on a shared machine and
    thread start-up do not distort them; the minimum of ``repeats`` runs is
    kept.
    """
    rng = np.random.default_rng(seed)
    with threadpool_limits(limits=1):
        return {
            method: _sweep(method, target, widths, n, repeats, rng)
            for method, (target, widths, n) in (methods or COST_METHODS).items()
        }


def _sweep(method, target, widths, n_samples, repeats, rng):
    """Time and count one method over its widths."""
    X = rng.standard_normal((n_samples, COST_INPUTS))
    y = np.sin(X.sum(axis=1))
    W, secs, ops = [], [], []
    for m in widths:
        obj = Problem(Objective(_cost_network(m), "squared_error", X, y))
        theta = obj.objective.net.init(rng)
        v = rng.standard_normal(obj.objective.n_params)
        passes, best = None, np.inf
        for _ in range(repeats):
            t0 = time.process_time()
            passes = _run_method(method, obj, theta, v)
            best = min(best, time.process_time() - t0)
        W.append(obj.objective.n_params)
        secs.append(best)
        ops.append(None if passes is None else passes * n_samples * m * (COST_INPUTS + 1))
    return {
        "W": W,
        "seconds": secs,
        "ops": ops,
        "target": target,
        "n_samples": n_samples,
        "time_exponent": _slope(W, secs),
        "count_exponent": None if ops[0] is None else _slope(W, ops),
    }


def _slope(x, y):
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def _table(numbers, cost):
    keys = list(numbers["errors_init"])
    lines = [
        f"Hessian of a {numbers['n_params']}-parameter tanh network (peaks), ‖H − A‖_F / ‖H‖_F:",
        f"{'approximation':<16} {'random θ':>10} {'trained θ':>10}",
    ]
    lines += [
        f"{k:<16} {numbers['errors_init'][k]:>10.2e} {numbers['errors_trained'][k]:>10.2e}"
        for k in keys
    ]
    lines.append(
        f"Becker–LeCun vs exact diagonal: {numbers['bl_diagonal_error_init']:.2e} (random), "
        f"{numbers['bl_diagonal_error_trained']:.2e} (trained)"
    )
    lines.append(
        f"\n{'method':<16} {'W range':>12} {'target':>6} {'time exp.':>9} {'count exp.':>10}"
    )
    for m, c in cost.items():
        ce = "-" if c["count_exponent"] is None else f"{c['count_exponent']:.2f}"
        w_range = f"{c['W'][0]}-{c['W'][-1]}"
        lines.append(f"{m:<16} {w_range:>12} {c['target']:>6} {c['time_exponent']:>9.2f} {ce:>10}")
    return "\n".join(lines)


def _figure(numbers, cost):
    from ..plots import new_figure

    fig, axes = new_figure(3, width=3.9, height=3.3)
    ax = axes[0, 0]
    ax.plot(numbers["eig_H_trained"], "o", ms=3, label="exact H")
    ax.plot(numbers["eig_GN_trained"], "x", ms=3, label="Gauss-Newton")
    ax.set_yscale("symlog", linthresh=1e-6)
    ax.set(xlabel="index", ylabel="eigenvalue", title="spectra at the trained θ")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    keys = list(numbers["errors_init"])
    x = np.arange(len(keys))
    ax.bar(x - 0.2, [numbers["errors_init"][k] for k in keys], 0.4, label="random θ")
    ax.bar(x + 0.2, [numbers["errors_trained"][k] for k in keys], 0.4, label="trained θ")
    ax.set_yscale("log")
    ax.set_xticks(x, keys, rotation=30, ha="right", fontsize=8)
    ax.set(ylabel="‖H − A‖_F / ‖H‖_F", title="approximation errors")
    ax.legend(fontsize=8)
    ax = axes[0, 2]
    for i, (m, c) in enumerate(cost.items()):
        ax.loglog(
            c["W"],
            c["seconds"],
            "o-",
            color=f"C{i}",
            ms=3,
            label=f"{m}: W^{c['time_exponent']:.2f} (O(W^{c['target']}))",
        )
    ax.set(xlabel="parameters W", ylabel="seconds", title="cost")
    ax.legend(fontsize=6)
    return fig
