"""The inverse crime from random starts: local methods against the global strategies, 20 seeds (notes 000).

Notes 000: "Goal: reconstruct Wtrue, Ktrue, btrue!" — from random starts. For
each strategy and each seed s, the start is ``net.init(s)`` (Xavier, far
from θ_true) and the strategy gets the same wall-time budget; a run
succeeds when the excess E(θ) − E(θ_true) falls below ``threshold`` (1e-6).
Successful runs are polished (Levenberg–Marquardt, dense) and their
parameters compared with the truth after alignment (hidden-unit permutation,
tanh sign flips, softmax shift: :func:`~numnet.experiments.inverse_crime.align`).

Strategies: plain Gauss-Newton, Newton-CG and variable projection (VarPro:
the linear output layer solved exactly at every step, Gauss-Newton on the
hidden layer); from :mod:`numnet.optim.global_search`, stochastic kick and
basin hopping around Gauss-Newton, a multi-start of 4 Gauss-Newton runs and
Tikhonov continuation (Gauss-Newton on J + ½α‖θ‖², α = 1e-2 … 1e-10, then 0).
Every Gauss-Newton step names its linear solver (``solver``, CG by default).
Where every strategy stalls, the
experiment measures why (:func:`~numnet.experiments.inverse_crime.floor_evidence`).
"""

import os
import time

import numpy as np

from ..objective import Objective
from ..optim import minimize
from ..optim.global_search import basin_hopping, multistart, stochastic_kick, tikhonov_continuation
from . import ExperimentResult
from ._params import Choice, Float, Int, Methods, Training, experiment
from .inverse_crime import floor_evidence, planted_problem, recovery_errors

__all__ = [
    "inverse_crime_global_experiment",
    "run_strategy",
    "success_table",
    "STRATEGIES",
    "SOLVERS",
]

NAME = "inverse-crime-global"
HELP = (
    "Inverse crime from 20 random starts: Gauss-Newton, Newton-CG, VarPro, kick, multi-start, basin hopping, "
    "Tikhonov continuation; success counts, times, recovery errors and the floor (notes 000)."
)

STRATEGIES = (
    "gauss-newton",
    "newton-cg",
    "varpro",
    "kick",
    "multistart",
    "basin-hopping",
    "continuation",
)
#: Linear solvers of the Gauss-Newton runs (named, never "auto": the numbers must not follow its rule).
SOLVERS = ("cg", "dense")


def _needs(p):
    from ..layers import Dense
    from ..network import Sequential

    net = Sequential(
        [Dense(p["n_features"], p["n_hidden"], "tanh"), Dense(p["n_hidden"], p["n_classes"])]
    )
    return [
        Training(
            net,
            p["n_samples"],
            "levenberg-marquardt",
            ("n_samples", "n_features", "n_hidden", "n_classes"),
        )
    ]


class _UntilTarget:
    """A ``minimize`` callback stopping the run at E ≤ target."""

    def __init__(self, target):
        self.target = target

    def __call__(self, result):
        if result.fun <= self.target:
            raise StopIteration


def _plain(method):
    def runner(p, x0, seed, target, budget, max_iter, solver):
        options = {"solver": solver} if method == "gauss-newton" else {}
        return minimize(
            p.obj,
            x0,
            method,
            callback=_UntilTarget(target),
            max_iter=max_iter,
            gtol=1e-13,
            max_time=budget,
            **options,
        )

    return runner


def _kick(p, x0, seed, target, budget, max_iter, solver):
    return stochastic_kick(
        p.obj,
        x0,
        "gauss-newton",
        seed=seed,
        kick=0.02,
        rtol=1e-5,
        anneal=0.9,
        max_kicks=10**6,
        max_iter=max_iter,
        target=target,
        max_time=budget,
        gtol=1e-13,
        solver=solver,
    )


def _multistart(p, x0, seed, target, budget, max_iter, solver):
    return multistart(
        p.obj,
        lambda rng: p.net.init(rng),
        "gauss-newton",
        n_starts=4,
        seed=seed,
        max_iter=max(1, max_iter // 4),
        gtol=1e-13,
        max_time=budget / 4,
        target=target,
        solver=solver,
    )


def _basin_hopping(p, x0, seed, target, budget, max_iter, solver):
    return basin_hopping(
        p.obj,
        x0,
        "gauss-newton",
        seed=seed,
        step=0.02,
        temperature=1e-4,
        n_hops=max(0, max_iter // 200 - 1),
        max_iter=min(200, max_iter),
        rtol=1e-5,
        target=target,
        max_time=budget,
        gtol=1e-13,
        solver=solver,
    )


def _continuation(p, x0, seed, target, budget, max_iter, solver):
    def make(alpha):
        return Objective(p.net, "cross_entropy", p.data.X, p.data.Y, alpha or None)

    return tikhonov_continuation(
        make,
        x0,
        "gauss-newton",
        alpha0=1e-2,
        factor=0.1,
        alpha_min=1e-10,
        stage_iter=30,
        max_iter=max_iter,
        target=target,
        max_time=budget,
        gtol=1e-13,
        solver=solver,
    )


_RUNNERS = {
    "gauss-newton": _plain("gauss-newton"),
    "newton-cg": _plain("newton-cg"),
    "varpro": _plain("varpro"),
    "kick": _kick,
    "multistart": _multistart,
    "basin-hopping": _basin_hopping,
    "continuation": _continuation,
}


def run_strategy(
    p, strategy, seed, *, budget=60.0, max_iter=10**7, threshold=1e-6, polish_iter=20, solver="cg"
):
    """One run of ``strategy`` from ``net.init(seed)``: success, time to success, excess, recovery errors.

    ``budget`` (wall seconds) and ``max_iter`` (local iterations over the whole strategy) bound the run;
    ``solver`` ("cg" or "dense") is the linear solver of every Gauss-Newton run.
    """
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {SOLVERS}, got {solver!r}")
    if strategy not in _RUNNERS:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    target = p.e_true + threshold
    t0 = time.perf_counter()
    res = _RUNNERS[strategy](p, p.net.init(seed), seed, target, budget, max_iter, solver)
    seconds = time.perf_counter() - t0
    excess = float(res.fun) - p.e_true
    hit = _time_to(res, target)
    out = {
        "strategy": strategy,
        "seed": seed,
        "excess": excess,
        "success": excess < threshold,
        "time_to_target": hit,
        "seconds": seconds,
        "nit": res.nit,
    }
    x = res.x
    if out["success"] and polish_iter > 0:
        x = minimize(
            p.obj, x, "levenberg-marquardt", solver="dense", max_iter=polish_iter, gtol=1e-14
        ).x
        out["polished_excess"] = float(p.obj.value(x)) - p.e_true
    return {**out, **recovery_errors(p, x), "x": x}


def _time_to(res, target):
    """Seconds until E ≤ target: the first such history record, or the end of the first such inner run (a
    continuation stage, whose history holds the regularized values)."""
    hits = [h["time"] for h in res.history if h["fun"] <= target][:1]
    hits += [r["time"] for r in getattr(res, "runs", []) if r["fun"] <= target][:1]
    return min(hits) if hits else None


def success_table(
    p,
    strategies=STRATEGIES,
    seeds=range(20),
    *,
    budget=60.0,
    max_iter=10**7,
    threshold=1e-6,
    solver="cg",
    log=None,
):
    """Every strategy from every seed: a list of :func:`run_strategy` records."""
    rows = []
    for strategy in strategies:
        for seed in seeds:
            rows.append(
                run_strategy(
                    p,
                    strategy,
                    seed,
                    budget=budget,
                    max_iter=max_iter,
                    threshold=threshold,
                    solver=solver,
                )
            )
            if log is not None:
                log(_row_line(rows[-1]))
    return rows


def _row_line(r):
    t = "—" if r["time_to_target"] is None else f"{r['time_to_target']:.1f} s"
    return (
        f"{r['strategy']:>14} seed {r['seed']:>2}: excess {r['excess']:.2e}  success {r['success']!s:>5}  "
        f"time to target {t:>8}  error_all {r['error_all']:.2e}  units {r['units_recovered']}"
    )


@experiment(
    NAME,
    HELP,
    needs=_needs,
    n_samples=Int(1, help="n"),
    n_features=Int(1, help="n_f"),
    n_classes=Int(2, why="a softmax over two classes at least", help="n_c"),
    n_hidden=Int(1, help="m"),
    n_seeds=Int(1, 1000, help="starts per strategy"),
    strategies=Methods(STRATEGIES, help="comma-separated strategies"),
    budget=Float(0.0, open_min=True, help="seconds per run"),
    threshold=Float(0.0, 1.0, open_min=True, help="success: excess E - E_true below this"),
    solver=Choice(SOLVERS, help="linear solver of the Gauss-Newton steps"),
)
def inverse_crime_global_experiment(
    *,
    n_samples=500,
    n_features=50,
    n_classes=10,
    n_hidden=40,
    n_seeds=20,
    strategies=STRATEGIES,
    budget=60.0,
    max_iter=10**7,
    threshold=1e-6,
    seed=0,
    solver="cg",
    evidence=True,
    plot=True,
    log=print,
):
    """The success table, and the floor evidence at the best plain Gauss-Newton end point.

    Parameters
    ----------
    n_samples, n_features, n_classes, n_hidden : int
        The notes' n = 500, n_f = 50, n_c = 10, m = 40.
    n_seeds : int, default=20
        Starts ``net.init(s)``, s = 0 … n_seeds − 1, for every strategy.
    strategies : sequence of str, default=STRATEGIES
    budget : float, default=60.0
        Wall seconds per run.
    max_iter : int, default=10**7
        Local iterations per run (over all its inner runs).
    threshold : float, default=1e-6
        Success: E(θ) − E(θ_true) < threshold.
    seed : int, default=0
        Seed of the planted model and the data.
    solver : {"cg", "dense"}, default="cg"
        Linear solver of every Gauss-Newton step (named, so that the
        numbers do not depend on what ``solver="auto"`` picks).
    evidence : bool, default=True
        Compute :func:`~numnet.experiments.inverse_crime.floor_evidence`
        at the end point of the first failed run (dense Hessians).
    plot : bool, default=True
    log : callable or None, default=print
        Called with one line per finished run.

    Returns
    -------
    ExperimentResult
        numbers: per strategy ``successes_<s>``, ``median_time_<s>``
        (seconds to the target over the successes), ``median_excess_<s>``,
        ``best_error_<s>`` (smallest aligned error_all); ``runs`` (every
        record without θ); the floor evidence (``floor_...``); ``solver``,
        ``seeds`` and the 1-minute ``load_average`` at the start and the end
        (the budget is wall time: a loaded machine does less in it).
    """
    p = planted_problem(n_samples, n_features, n_classes, n_hidden, seed=seed)
    load = _load()
    rows = success_table(
        p,
        strategies,
        range(n_seeds),
        budget=budget,
        max_iter=max_iter,
        threshold=threshold,
        solver=solver,
        log=log,
    )
    numbers = {
        "e_true": p.e_true,
        "n_params": p.net.n_params,
        "budget": budget,
        "threshold": threshold,
        "solver": solver,
        "seeds": list(range(n_seeds)),
        "load_average": [load, _load()],
    }
    for s in strategies:
        mine = [r for r in rows if r["strategy"] == s]
        won = [r for r in mine if r["success"]]
        numbers.update(
            {
                f"successes_{s}": len(won),
                f"median_excess_{s}": float(np.median([r["excess"] for r in mine])),
                f"median_time_{s}": float(np.median([r["time_to_target"] for r in won]))
                if won
                else None,
                f"best_error_{s}": float(min(r["error_all"] for r in mine)),
            }
        )
    failed = [r for r in rows if not r["success"]]
    if evidence and failed:
        ev = floor_evidence(p, failed[0]["x"])
        numbers.update({f"floor_{k}": v for k, v in ev.items()})
    numbers["runs"] = [{k: v for k, v in r.items() if k != "x"} for r in rows]
    figures = (
        {"inverse_crime_global.png": _figure(rows, strategies, numbers, threshold)} if plot else {}
    )
    return ExperimentResult(
        NAME.replace("-", "_"), numbers, figures, _table(numbers, strategies, n_seeds)
    )


def _load():
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this platform
        return None


def _table(nb, strategies, n_seeds):
    lines = [
        f"{'strategy':>14} {'successes':>10} {'median time to target':>22} {'median excess':>14} "
        f"{'best aligned error':>19}"
    ]
    for s in strategies:
        t = nb[f"median_time_{s}"]
        lines.append(
            f"{s:>14} {nb[f'successes_{s}']:>5}/{n_seeds:<4} {'—' if t is None else f'{t:.1f} s':>22} "
            f"{nb[f'median_excess_{s}']:>14.2e} {nb[f'best_error_{s}']:>19.2e}"
        )
    if "floor_true_condition" in nb:
        lines.append(
            f"at θ_true: {nb['floor_true_zero_eigs']} zero eigenvalues (softmax shifts), smallest other "
            f"{nb['floor_true_min_eig']:.2e}, condition {nb['floor_true_condition']:.2e}, "
            f"{nb['floor_true_eigs_below_1e-6']} below 1e-6"
        )
        lines.append(
            f"stall point: excess {nb['floor_stall_excess']:.2e}, {nb['floor_stall_negative_eigs']} negative "
            f"eigenvalues (min {nb['floor_stall_min_eig']:.2e}), KL on fresh inputs "
            f"{nb['floor_stall_fresh_excess']:.2e}, aligned error {nb['floor_stall_error_all']:.2f}, "
            f"‖θ‖ {nb['floor_norm_stall']:.1f} vs {nb['floor_norm_true']:.1f} at θ_true"
        )
    return "\n".join(lines)


def _figure(rows, strategies, nb, threshold):
    from ..plots import new_figure

    fig, axes = new_figure(2, width=4.6, height=3.6)
    ax = axes[0, 0]
    for i, s in enumerate(strategies):
        ex = np.array([r["excess"] for r in rows if r["strategy"] == s])
        ax.semilogy(
            np.full(ex.size, i) + np.linspace(-0.2, 0.2, ex.size), np.maximum(ex, 1e-16), "o", ms=3
        )
    ax.axhline(threshold, color="k", ls="--", lw=0.8, label=f"threshold {threshold:g}")
    ax.set_xticks(range(len(strategies)), strategies, rotation=30, fontsize=8)
    ax.set(ylabel="E(θ) − E(θ_true)", title="final excess, every seed")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    if "floor_eigs_true" in nb:
        for key, label in (
            ("floor_eigs_true", "at θ_true"),
            ("floor_eigs_stall", "at a stall point"),
        ):
            lam = np.sort(np.abs(nb[key]))[::-1]
            ax.semilogy(np.maximum(lam, 1e-20), label=label)
        ax.axhline(1e-6, color="k", lw=0.5, ls=":")
        ax.set(xlabel="index", ylabel="|Hessian eigenvalue|", title="spectra (exact Hessian)")
        ax.legend(fontsize=8)
    return fig
