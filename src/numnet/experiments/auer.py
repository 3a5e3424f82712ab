"""Auer et al. in d dimensions: ⌊n/d⌋^d local minima of one sigmoid neuron, counted (notes 001).

Theorem 12.1 of notes 001 (Auer, Herbster & Warmuth, 1995): for the sigmoid
neuron with the quadratic loss there are samples {x_i, y_i}_{i ≤ n} in R^d
whose loss ℓ_n(w) = (1/2n) Σ_i (y_i − σ(w·x_i))² has ⌊n/d⌋^d distinct local
minima. The construction puts k = ⌊n/d⌋ samples on each coordinate axis,
x = t e_j, each axis carrying the one-dimensional construction with k minima
(:func:`numnet.experiments.perceptron.auer_samples`); the n − dk remaining
samples are x = 0 (a constant term). Then w·x = w_j t only involves w_j and

    ℓ_n(w) = (1/2n) [Σ_j Σ_{i on axis j} (y_i − σ(w_j t_i))² + const],

a sum of d one-dimensional functions: w is a local minimum iff every w_j is a
local minimum of its own term, so the k^d combinations of the k minima of
each axis are the minima. The experiment counts them without using that
argument: local searches (trust-region Newton with numnet's exact Hessian)
from a grid of starts, their end points deduplicated and kept when the
gradient vanishes and the exact Hessian is positive definite.
"""

import itertools
import time

import numpy as np

from ..curvature import hessian_dense
from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..optim import minimize
from . import ExperimentResult
from ._params import Int, IntList, ParameterError, experiment
from .perceptron import auer_samples

__all__ = ["auer_experiment", "auer_data", "count_minima", "start_grid"]

NAME = "auer"
HELP = "Auer et al. in d dimensions: floor(n/d)^d local minima of a sigmoid neuron, counted from a grid (notes 001)."

#: The largest dimension accepted on the command line: the grid has (points per axis)^d starts.
MAX_DIM = 4


#: The most local searches a command line may ask for (about 20 ms each).
MAX_STARTS = 5000


def _checks(p):
    for d in p["dims"]:
        n = len(start_grid(d, p["per_axis"]))
        if n > MAX_STARTS:
            raise ParameterError(
                f"dims {d} with per_axis {p['per_axis']} needs {n} local searches, more than "
                f"{MAX_STARTS}: lower per_axis or dims",
                "per_axis",
                "dims",
            )


def auer_data(d, n):
    """Samples (X, y) of the d-dimensional construction with n samples (k = ⌊n/d⌋ per axis, the rest x = 0).

    Returns
    -------
    X : ndarray of shape (n, d)
    y : ndarray of shape (n,)
    """
    if not (isinstance(d, (int, np.integer)) and d >= 1):
        raise ValueError(f"d must be a positive integer, got {d!r}")
    if not (isinstance(n, (int, np.integer)) and n >= d):
        raise ValueError(f"n must be an integer >= d = {d}, got {n!r}")
    k = n // d
    t, y1 = auer_samples(k)
    X, y = np.zeros((n, d)), np.full(n, y1[0])
    for j in range(d):
        X[j * k : (j + 1) * k, j] = t
    return X, y


def _objective(X, y):
    net = Sequential([Dense(X.shape[1], 1, "sigmoid", bias=False)])
    return Objective(net, "squared_error", X, y)


def start_grid(d, per_axis, points_per_decade=2):
    """Starts: every combination of per-axis values, one negative and a log grid over the wells' scales.

    The wells of :func:`~numnet.experiments.perceptron.auer_samples` are at
    w = 10^i, i < per_axis; the grid covers 10^-1 … 10^per_axis.
    """
    axis = np.concatenate(
        [[-1.0], np.logspace(-1, per_axis, points_per_decade * (per_axis + 1) + 1)]
    )
    return np.array(list(itertools.product(axis, repeat=d)))


def count_minima(obj, starts, *, method="trust-ncg", max_iter=200, gtol=1e-13, rtol=1e-6):
    """Local searches from every start; the distinct strict local minima they end at.

    A search's end point is a minimum when its gradient is below ``gtol``
    relative to the curvature (‖∇ℓ‖ ≤ 1e-6 · λ_min · ‖w‖) and the exact
    Hessian (:func:`~numnet.curvature.hessian_dense`) is positive definite;
    two minima are the same when they agree to ``rtol`` relatively in every
    coordinate.

    Returns
    -------
    list of (w, ℓ(w), λ_min(∇²ℓ(w)))
        Sorted by w.
    """
    found = []
    for w0 in starts:
        res = minimize(obj, w0, method, max_iter=max_iter, gtol=gtol)
        w = res.x
        lam = float(np.linalg.eigvalsh(0.5 * (hessian_dense(obj, w) + hessian_dense(obj, w).T))[0])
        if lam <= 0 or res.grad_norm > 1e-6 * lam * max(1.0, float(np.linalg.norm(w))):
            continue
        if not any(np.allclose(w, f[0], rtol=rtol, atol=0) for f in found):
            found.append((w, float(res.fun), lam))
    return sorted(found, key=lambda m: tuple(m[0]))


@experiment(
    NAME,
    HELP,
    checks=_checks,
    dims=IntList(1, MAX_DIM, empty=False, example="1,2,3", help="dimensions d"),
    per_axis=Int(
        1,
        4,
        why="minimizers 10^i, and the grid grows as its d-th power",
        help="samples per axis k = floor(n/d)",
    ),
    extra=Int(0, 10, help="samples x = 0 added to the d*k (n = d*k + extra)"),
)
def auer_experiment(*, dims=(1, 2, 3), per_axis=3, extra=1, method="trust-ncg", plot=True):
    """Count the local minima of the d-dimensional Auer construction for each d.

    Parameters
    ----------
    dims : sequence of int, default=(1, 2, 3)
    per_axis : int, default=3
        k = ⌊n/d⌋; n = d·k + extra.
    extra : int, default=1
        Samples at x = 0, so that n is not a multiple of d for extra ≥ 1.
    method : str, default="trust-ncg"
        Local search (a second-order method: the wells are very flat).
    plot : bool, default=True
        Draw ``auer.png`` (the loss over the plane for d = 2).

    Returns
    -------
    ExperimentResult
        numbers per d: ``n_<d>`` (samples), ``formula_<d>`` (⌊n/d⌋^d),
        ``counted_<d>``, ``starts_<d>``, ``bad_<d>`` (minima above the
        lowest), ``min_curvature_<d>`` (smallest λ_min at a minimum),
        ``seconds_<d>``; ``all_match``.
    """
    numbers, tables, planes = {}, [], {}
    for d in dims:
        n = d * per_axis + extra
        X, y = auer_data(d, n)
        obj, starts = _objective(X, y), start_grid(d, per_axis)
        t0 = time.perf_counter()
        minima = count_minima(obj, starts, method=method)
        values = np.array([m[1] for m in minima])
        numbers.update(
            {
                f"n_{d}": n,
                f"formula_{d}": (n // d) ** d,
                f"counted_{d}": len(minima),
                f"starts_{d}": len(starts),
                f"bad_{d}": int((values > values.min() * (1 + 1e-9)).sum()),
                f"min_curvature_{d}": min(m[2] for m in minima),
                f"seconds_{d}": time.perf_counter() - t0,
            }
        )
        tables.append(
            f"d = {d}: n = {n}, floor(n/d)^d = {(n // d) ** d}, counted {len(minima)} minima "
            f"from {len(starts)} starts ({numbers[f'bad_{d}']} worse than the best)"
        )
        if d == 2:
            planes = {"obj": obj, "minima": minima}
    numbers["all_match"] = all(numbers[f"counted_{d}"] == numbers[f"formula_{d}"] for d in dims)
    figures = {"auer.png": _figure(planes)} if plot and planes else {}
    return ExperimentResult(NAME, numbers, figures, "\n".join(tables))


def _figure(planes):
    from ..plots import new_figure

    obj, minima = planes["obj"], planes["minima"]
    fig, axes = new_figure(1, width=5.0, height=4.2)
    ax = axes[0, 0]
    g = np.logspace(-0.5, np.log10(max(m[0].max() for m in minima)) + 0.7, 120)
    S = np.array([[obj.value(np.array([a, b])) for a in g] for b in g])
    cs = ax.contourf(
        np.log10(g), np.log10(g), np.log10(S - S.min() + 1e-6), levels=30, cmap="viridis"
    )
    fig.colorbar(cs, ax=ax, label="log10(ℓ − min ℓ + 1e-6)")
    w = np.array([m[0] for m in minima])
    ax.plot(np.log10(w[:, 0]), np.log10(w[:, 1]), "r.", ms=9, label=f"{len(minima)} local minima")
    ax.set(xlabel="log10 w₁", ylabel="log10 w₂", title="Auer et al., d = 2")
    ax.legend(loc="lower right", fontsize=8)
    return fig
