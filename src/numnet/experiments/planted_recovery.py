"""Planted-model recovery: ‖ŵ − w*‖ against n and d, and the preservation of gradient and Hessian (notes 001).

Notes 001, "Statistical models come to rescue": with x ~ N(0, I) and labels
from a planted perceptron, y = σ(w*·x) (+ noise) for regression or
y ~ Bernoulli(σ(w*·x)) for classification, the empirical loss
ℓ_n(w) = (1/2n) Σ_i (y_i − σ(w·x_i))² has gradient and Hessian uniformly
close to the population ones (Theorem 12.2, Mei, Bai & Montanari):

    sup_{‖w‖≤R} ‖∇ℓ_n(w) − ∇ℓ(w)‖ ≲ √(C d log n / n),  same for ‖∇²ℓ_n − ∇²ℓ‖,

and the mean-value argument of "Step 3" turns this into
‖ŵ − w*‖ ≤ 2‖∇ℓ_n(w*)‖ / λ_min(∇²ℓ_n) ≲ √(C d log n / n). The experiment fits
ŵ (Newton-CG from w = 0) over a range of n and d with many seeds and reports
the log-log slope of the median error against n (≈ −1/2) and the error
divided by √(d log n / n), then measures both sup-deviations over points of
the ball against a large-sample estimate of the population quantities.
Without noise, the regression minimizer is w* itself (error at rounding
level): label noise is what the rate measures.
"""

import numpy as np

from ..curvature import hessian_dense
from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..optim import minimize
from . import ExperimentResult
from ._params import Float, Int, IntList, Memory, ParameterError, experiment

__all__ = [
    "planted_recovery_experiment",
    "planted_data",
    "fit_perceptron",
    "preservation",
    "loglog_slope",
]

NAME = "planted-recovery"
HELP = (
    "Planted perceptron: recovery error ~ sqrt(d log n / n) (slope -1/2 in n), and the gradient/Hessian "
    "preservation sup-deviations against n (notes 001)."
)

TASKS = ("regression", "classification")


def _checks(p):
    small = [n for n in p["sizes"] for d in p["dims"] if n <= d]
    if small:
        raise ParameterError(
            f"sizes {small[0]} must exceed every one of dims (n > d)", "sizes", "dims"
        )


def _needs(p):
    return [Memory(8 * 3 * p["n_population"] * max(p["dims"]), ("n_population", "dims"))]


def planted_data(n, w_true, task, rng, noise=0.0):
    """x ~ N(0, I_d); y = σ(x·w*) + noise·N(0, 1) (regression) or y ~ Bernoulli(σ(x·w*)) (classification)."""
    X = rng.standard_normal((n, w_true.size))
    p = 1.0 / (1.0 + np.exp(-(X @ w_true)))
    if task == "regression":
        return X, p + noise * rng.standard_normal(n)
    return X, (rng.uniform(size=n) < p).astype(float)


def _objective(X, y):
    return Objective(
        Sequential([Dense(X.shape[1], 1, "sigmoid", bias=False)]), "squared_error", X, y
    )


def fit_perceptron(X, y, *, method="newton-cg", gtol=1e-10, max_iter=200):
    """ŵ = argmin (1/2n) Σ (y_i − σ(w·x_i))² from w = 0."""
    obj = _objective(X, y)
    return minimize(obj, np.zeros(X.shape[1]), method, gtol=gtol, max_iter=max_iter).x


def loglog_slope(n, values):
    """Least-squares slope of log(values) against log(n)."""
    return float(np.polyfit(np.log(n), np.log(values), 1)[0])


def _recovery(task, d, sizes, n_seeds, noise, seed):
    """‖ŵ − w*‖ for each n (rows) and seed (columns); w* drawn per seed, ‖w*‖ ≈ 1."""
    errors = np.empty((len(sizes), n_seeds))
    for s in range(n_seeds):
        rng = np.random.default_rng([seed, d, s, TASKS.index(task)])
        w_true = rng.standard_normal(d) / np.sqrt(d)
        for i, n in enumerate(sizes):
            X, y = planted_data(n, w_true, task, rng, noise)
            errors[i, s] = np.linalg.norm(fit_perceptron(X, y) - w_true)
    return errors


def _ball_points(w_true, radius, n_points, rng):
    """w* and n_points − 1 points uniform in the ball ‖w‖ ≤ radius."""
    d = w_true.size
    u = rng.standard_normal((n_points - 1, d))
    u *= (radius * rng.uniform(size=(n_points - 1, 1)) ** (1 / d)) / np.linalg.norm(
        u, axis=1, keepdims=True
    )
    return np.vstack([w_true, u])


def _grad_hess(obj, w):
    return obj.grad(w), hessian_dense(obj, w)


def preservation(
    task, d, sizes, *, noise=0.1, n_points=20, radius=2.0, n_population=200_000, n_seeds=5, seed=0
):
    """sup over points of the ball of ‖∇ℓ_n − ∇ℓ‖ and ‖∇²ℓ_n − ∇²ℓ‖₂, mean over seeds, for each n.

    The population ∇ℓ, ∇²ℓ are those of ``n_population`` fresh samples
    (exact Hessians by :func:`~numnet.curvature.hessian_dense`).
    """
    rng = np.random.default_rng([seed, d, 99])
    w_true = rng.standard_normal(d) / np.sqrt(d)
    points = _ball_points(w_true, radius, n_points, rng)
    pop = _objective(*planted_data(n_population, w_true, task, rng, noise))
    pop_gh = [_grad_hess(pop, w) for w in points]
    grad_dev, hess_dev = np.zeros((len(sizes), n_seeds)), np.zeros((len(sizes), n_seeds))
    for i, n in enumerate(sizes):
        for s in range(n_seeds):
            emp = _objective(*planted_data(n, w_true, task, rng, noise))
            devs = [
                (np.linalg.norm(g - gp), np.linalg.norm(H - Hp, 2))
                for (g, H), (gp, Hp) in zip((_grad_hess(emp, w) for w in points), pop_gh)
            ]
            grad_dev[i, s], hess_dev[i, s] = np.max(devs, axis=0)
    return grad_dev.mean(axis=1), hess_dev.mean(axis=1)


@experiment(
    NAME,
    HELP,
    checks=_checks,
    needs=_needs,
    dims=IntList(1, 200, empty=False, example="5,10,20", help="dimensions d"),
    sizes=IntList(10, 10**6, empty=False, example="200,800,3200", help="sample sizes n"),
    n_seeds=Int(2, 1000, why="a mean and its spread", help="seeds per (n, d)"),
    noise=Float(0.0, 10.0, help="standard deviation of the regression label noise"),
    n_population=Int(1000, 10**7, help="samples of the population estimate"),
)
def planted_recovery_experiment(
    *,
    dims=(5, 10, 20),
    sizes=(200, 400, 800, 1600, 3200, 6400),
    n_seeds=20,
    noise=0.1,
    n_population=200_000,
    preservation_dim=None,
    seed=0,
    plot=True,
):
    """Recovery error against n and d for both tasks; gradient/Hessian preservation against n.

    Parameters
    ----------
    dims, sizes : sequence of int
        d and n (every n > every d).
    n_seeds : int, default=20
        Planted w* and data draws per (n, d).
    noise : float, default=0.1
        Regression label noise (classification labels are Bernoulli).
    n_population : int, default=200000
        Samples standing in for the population.
    preservation_dim : int, optional
        d of the preservation study (default: the middle of ``dims``).
    seed : int
    plot : bool, default=True
        Draw ``planted_recovery.png``.

    Returns
    -------
    ExperimentResult
        numbers for task t and dimension d: ``error_<t>_<d>`` (median over
        seeds of ‖ŵ − w*‖ per n), ``error_mean_<t>_<d>``, ``diverged_<t>_<d>``
        (fits with ‖ŵ − w*‖ > 10 per n: below n ≈ C d log d the empirical
        minimizer can run off to infinity), ``slope_<t>_<d>`` (log-log slope
        of the median in n), ``constant_<t>_<d>`` (mean of median error /
        √(d log n / n)); for the
        preservation (regression with noise, and classification):
        ``grad_dev_<t>``, ``hess_dev_<t>`` per n and their slopes.
    """
    sizes, numbers, curves = (
        np.asarray(sizes),
        {"dims": list(dims), "sizes": list(map(int, sizes))},
        {},
    )
    for task in TASKS:
        for d in dims:
            errors = _recovery(
                task, d, sizes, n_seeds, noise if task == "regression" else 0.0, seed
            )
            median, rate = np.median(errors, axis=1), np.sqrt(d * np.log(sizes) / sizes)
            numbers.update(
                {
                    f"error_{task}_{d}": median,
                    f"error_mean_{task}_{d}": errors.mean(axis=1),
                    f"diverged_{task}_{d}": (errors > 10).sum(axis=1),
                    f"slope_{task}_{d}": loglog_slope(sizes, median),
                    f"constant_{task}_{d}": float(np.mean(median / rate)),
                }
            )
            curves[(task, d)] = median
    pd_ = preservation_dim or sorted(dims)[len(dims) // 2]
    for task in TASKS:
        g, h = preservation(task, pd_, sizes, noise=noise, n_population=n_population, seed=seed)
        numbers.update(
            {
                f"grad_dev_{task}": g,
                f"hess_dev_{task}": h,
                f"grad_slope_{task}": loglog_slope(sizes, g),
                f"hess_slope_{task}": loglog_slope(sizes, h),
            }
        )
    numbers["preservation_dim"] = pd_
    figures = {"planted_recovery.png": _figure(sizes, dims, curves, numbers)} if plot else {}
    return ExperimentResult(NAME.replace("-", "_"), numbers, figures, _table(numbers, dims))


def _table(nb, dims):
    head = f"median error, n = {nb['sizes'][0]} ... {nb['sizes'][-1]}"
    lines = [
        f"{'task':>15} {'d':>4} {head:>34} {'slope in n':>11} {'error / sqrt(d log n / n)':>26} {'diverged':>9}"
    ]
    for task in TASKS:
        for d in dims:
            err = nb[f"error_{task}_{d}"]
            lines.append(
                f"{task:>15} {d:>4} {f'{err[0]:.3g} ... {err[-1]:.3g}':>34} {nb[f'slope_{task}_{d}']:>11.3f} "
                f"{nb[f'constant_{task}_{d}']:>26.3f} {int(np.sum(nb[f'diverged_{task}_{d}'])):>9}"
            )
    for task in TASKS:
        lines.append(
            f"preservation ({task}, d = {nb['preservation_dim']}): sup|grad dev| slope "
            f"{nb[f'grad_slope_{task}']:.3f}, sup|Hessian dev| slope {nb[f'hess_slope_{task}']:.3f}"
        )
    return "\n".join(lines)


def _figure(sizes, dims, curves, nb):
    from ..plots import new_figure

    fig, axes = new_figure(3, width=4.0, height=3.4)
    for ax, task in zip(axes[0, :2], TASKS):
        for i, d in enumerate(dims):
            ax.loglog(sizes, curves[(task, d)], "o-", color=f"C{i}", ms=3, label=f"d = {d}")
            rate = nb[f"constant_{task}_{d}"] * np.sqrt(d * np.log(sizes) / sizes)
            ax.loglog(sizes, rate, ":", color=f"C{i}", lw=1)
        ax.set(xlabel="n", ylabel="median ‖ŵ − w*‖", title=f"{task} (dotted: C √(d log n / n))")
        ax.legend(fontsize=8)
    ax = axes[0, 2]
    for i, task in enumerate(TASKS):
        ax.loglog(
            sizes, nb[f"grad_dev_{task}"], "o-", color=f"C{i}", ms=3, label=f"gradient, {task}"
        )
        ax.loglog(
            sizes, nb[f"hess_dev_{task}"], "s--", color=f"C{i}", ms=3, label=f"Hessian, {task}"
        )
    ax.set(
        xlabel="n", ylabel="sup over the ball", title=f"preservation, d = {nb['preservation_dim']}"
    )
    ax.legend(fontsize=7)
    for ax in axes[0]:
        ax.set_xticks(sizes, [str(n) for n in sizes], minor=False, fontsize=7)
        ax.set_xticks([], minor=True)
    return fig
