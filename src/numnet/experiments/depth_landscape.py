"""Depth makes it worse: the loss along two random directions for depths 1, 2, 4, 8 (notes 000).

Notes 000, "Non-convexity": the cross-entropy along two random directions is
non-convex already for one layer — "expect worse when the number of layers
grows!". Networks of 1, 2, 4 and 8 tanh hidden layers with (about) the same
number of parameters are trained on peaks; at the trained point (and at the
start) the loss is sampled on a grid along two filter-normalized random
directions spanning every layer (:func:`~numnet.experiments.landscape.network_direction`),
and the fraction of grid points where the surface's 2 × 2 Hessian has a
negative eigenvalue (:func:`~numnet.experiments.landscape.nonconvex_fraction`)
is averaged over seeds.
"""

import numpy as np

from ..datasets import peaks
from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..optim import minimize
from . import ExperimentResult
from ._params import Float, Int, IntList, Training, experiment
from .landscape import loss_surface, network_direction, nonconvex_fraction

__all__ = ["depth_landscape_experiment", "deep_network", "equal_width", "n_params_of"]

NAME = "depth-landscape"
HELP = (
    "Non-convexity against depth: loss along two random directions and its non-convex fraction for depths "
    "1, 2, 4, 8 at equal parameter count (notes 000)."
)


def _needs(p):
    return [
        Training(
            deep_network(d, equal_width(d, p["n_params"])),
            p["n_samples"],
            "lbfgs",
            ("n_samples", "n_params"),
        )
        for d in p["depths"]
    ]


def n_params_of(depth, width, d_in=2, d_out=5):
    """Parameters of d_in → width (× depth, tanh) → d_out with biases."""
    return d_in * width + width + (depth - 1) * (width * width + width) + width * d_out + d_out


def equal_width(depth, n_params, d_in=2, d_out=5):
    """The width whose network of ``depth`` hidden layers has the parameter count nearest ``n_params``."""
    widths = np.arange(1, n_params + 1)
    counts = np.array([n_params_of(depth, w, d_in, d_out) for w in widths])
    return int(widths[np.argmin(np.abs(counts - n_params))])


def deep_network(depth, width, d_in=2, d_out=5):
    """``Sequential`` of ``depth`` tanh Dense layers of ``width`` units and a linear output layer."""
    sizes = [d_in] + [width] * depth
    return Sequential(
        [Dense(a, b, "tanh") for a, b in zip(sizes[:-1], sizes[1:])] + [Dense(width, d_out)]
    )


@experiment(
    NAME,
    HELP,
    needs=_needs,
    depths=IntList(1, 16, empty=False, example="1,2,4,8", help="hidden layers of each network"),
    n_params=Int(100, 100_000, help="parameters of every network"),
    n_samples=Int(50, 100_000, help="peaks points"),
    n_seeds=Int(1, 100, help="seeds per depth"),
    train_iter=Int(0, help="L-BFGS iterations before the surface; 0: at the start"),
    radius=Float(
        0.0,
        100.0,
        open_min=True,
        help="grid half-width, in units of the filter-normalized directions",
    ),
    n_grid=Int(3, 201, why="a centre and two neighbours per axis", help="grid points per axis"),
)
def depth_landscape_experiment(
    *,
    depths=(1, 2, 4, 8),
    n_params=1000,
    n_samples=500,
    n_seeds=3,
    train_iter=200,
    radius=1.0,
    n_grid=25,
    seed=0,
    plot=True,
):
    """Non-convex fraction of the loss along two random directions, per depth, at equal parameter count.

    Parameters
    ----------
    depths : sequence of int, default=(1, 2, 4, 8)
    n_params : int, default=1000
        Target parameter count (each width is the nearest).
    n_samples : int, default=500
    n_seeds : int, default=3
        Starts and direction pairs per depth.
    train_iter : int, default=200
        L-BFGS iterations before the trained surface.
    radius : float, default=1.0
    n_grid : int, default=25
    seed : int, default=0
    plot : bool, default=True
        Draw ``depth_landscape.png`` (one contour per depth, seed 0, trained).

    Returns
    -------
    ExperimentResult
        numbers: ``depths``, ``widths``, ``n_params`` (actual), and per depth
        (lists in the order of ``depths``) ``fraction_start`` and
        ``fraction_trained`` (mean over seeds), ``fraction_trained_all``
        (every seed), ``loss_trained`` and ``loss_range_trained``
        (max − min of the surface).
    """
    X, Y = peaks(n_samples, 5, random_state=seed)
    t = np.linspace(-radius, radius, n_grid)
    h, rows, surfaces = t[1] - t[0], [], {}
    for depth in depths:
        net = deep_network(depth, equal_width(depth, n_params))
        obj = Objective(net, "cross_entropy", X, Y)
        per_seed = [
            _surfaces(obj, np.random.default_rng([seed, depth, s]), train_iter, t)
            for s in range(n_seeds)
        ]
        rows.append(_row(depth, net, per_seed, h))
        surfaces[depth] = per_seed[0]["trained"]
    numbers = {key: [r[key] for r in rows] for key in rows[0]}
    numbers.update({"radius": radius, "n_grid": n_grid, "train_iter": train_iter, "alphas": t})
    figures = {"depth_landscape.png": _figure(t, surfaces, numbers)} if plot else {}
    return ExperimentResult(NAME.replace("-", "_"), numbers, figures, _table(numbers))


def _surfaces(obj, rng, train_iter, t):
    """Surfaces at the start and at the L-BFGS point, each along its own filter-normalized pair."""
    theta0 = obj.net.init(rng)
    theta = (
        minimize(obj, theta0, "lbfgs", max_iter=train_iter, gtol=0.0).x
        if train_iter > 0
        else theta0
    )
    out = {"loss": float(obj.value(theta))}
    for name, point in (("start", theta0), ("trained", theta)):
        d1, d2 = (network_direction(obj.net, point, rng, filter_normalize=True) for _ in range(2))
        out[name] = loss_surface(obj, point, d1, d2, t, t)
    return out


def _row(depth, net, per_seed, h):
    frac = {k: [nonconvex_fraction(s[k], h, h) for s in per_seed] for k in ("start", "trained")}
    return {
        "depths": depth,
        "widths": net.layers[0].d_out,
        "n_params": net.n_params,
        "fraction_start": float(np.mean(frac["start"])),
        "fraction_trained": float(np.mean(frac["trained"])),
        "fraction_trained_all": frac["trained"],
        "loss_trained": float(np.mean([s["loss"] for s in per_seed])),
        "loss_range_trained": float(np.mean([np.ptp(s["trained"]) for s in per_seed])),
    }


def _table(nb):
    lines = [
        f"{'depth':>5} {'width':>5} {'params':>6} {'non-convex (start)':>19} {'non-convex (trained)':>21} "
        f"{'loss':>7}"
    ]
    for i, depth in enumerate(nb["depths"]):
        lines.append(
            f"{depth:>5} {nb['widths'][i]:>5} {nb['n_params'][i]:>6} {nb['fraction_start'][i]:>19.3f} "
            f"{nb['fraction_trained'][i]:>21.3f} {nb['loss_trained'][i]:>7.3f}"
        )
    return "\n".join(lines)


def _figure(t, surfaces, nb):
    from ..plots import new_figure

    fig, axes = new_figure(len(surfaces) + 1, width=3.3, height=3.0)
    A, B = np.meshgrid(t, t)
    for ax, (depth, S) in zip(axes[0], surfaces.items()):
        ax.contourf(A, B, np.log10(S), levels=25, cmap="viridis")
        ax.contour(A, B, np.log10(S), levels=12, colors="k", linewidths=0.3)
        ax.set(title=f"depth {depth}: log10 loss", xlabel="α", ylabel="β")
    ax = axes[0, -1]
    ax.plot(nb["depths"], nb["fraction_start"], "o-", label="at the start")
    ax.plot(nb["depths"], nb["fraction_trained"], "s-", label="trained")
    ax.set_xscale("log", base=2)
    ax.set(
        xlabel="hidden layers",
        ylabel="non-convex fraction",
        title="equal parameter count",
        ylim=(0, 1),
    )
    ax.legend(fontsize=8)
    return fig
