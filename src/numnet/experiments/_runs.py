"""Runs of several seeds on one axis of work, shared by the ``dag`` and ``rnn`` experiments.

A run is a :class:`~numnet.experiments._common.Trace` (every
iterate and its work in passes over the data). Curves of different runs are
read off a common grid of passes: at each grid point p, the iterate a run
had after at most p passes. Spread over seeds is the population standard
deviation; figures draw the mean and the min–max band.
"""

import numpy as np

__all__ = ["pass_grid", "curve", "stats", "plot_band"]


def pass_grid(budget, n_points=60):
    """``n_points`` grid points from 0 to ``budget`` passes."""
    return np.linspace(0.0, float(budget), n_points)


def curve(trace, grid, metric=None):
    """``metric(θ)`` (the training loss when None) of the last iterate within each grid point's passes."""
    idx = np.maximum(np.searchsorted(trace.passes, grid, side="right") - 1, 0)
    if metric is None:
        return trace.loss[idx]
    values = {i: metric(trace.thetas[i]) for i in np.unique(idx)}
    return np.array([values[i] for i in idx])


def stats(values):
    """``(mean, std)`` of per-seed values, as floats."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std())


def plot_band(ax, grid, curves, label, **kwargs):
    """The mean of ``curves`` (one row per seed) against ``grid``, with its min–max band."""
    C = np.asarray(curves, dtype=float)
    (line,) = ax.plot(grid, C.mean(axis=0), label=label, **kwargs)
    ax.fill_between(
        grid, C.min(axis=0), C.max(axis=0), color=line.get_color(), alpha=0.2, linewidth=0
    )
    return line
