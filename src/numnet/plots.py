"""Matplotlib figures, always with the Agg backend, saved atomically as PNG.

Matplotlib is imported on first use (:func:`pyplot`), not when this module
is imported, so modules that only may draw (the experiments, the CLI) stay
cheap to import. ``numnet.plots.plt`` still gives ``matplotlib.pyplot``.
"""

from functools import cache

import numpy as np

from ._files import atomic_path

__all__ = ["new_figure", "save_figure", "pyplot", "plt", "grid_points", "plot_decision_regions"]


@cache
def pyplot():
    """``matplotlib.pyplot``, the Agg backend selected once, on the first call."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def __getattr__(name):
    if name == "plt":
        return pyplot()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def new_figure(ncols=1, nrows=1, *, width=4.5, height=3.5, **kwargs):
    """A figure with ``nrows × ncols`` axes of the given size per panel (inches)."""
    return pyplot().subplots(
        nrows,
        ncols,
        figsize=(width * ncols, height * nrows),
        squeeze=False,
        constrained_layout=True,
        **kwargs,
    )


def save_figure(fig, path, dpi=110):
    """Write ``fig`` as a PNG to ``path`` atomically and close it; return the path."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    pyplot().close(fig)
    return path


def grid_points(x_range, y_range, n_grid):
    """The ``n_grid × n_grid`` grid over ``x_range × y_range``: ``(t0, t1, P)``.

    ``t0``, ``t1`` are the axis coordinates (``np.linspace``) and ``P``, of
    shape (n_grid², 2), the points, one per row, the first coordinate running
    fastest (``np.meshgrid(t0, t1)``), so ``values.reshape(n_grid, n_grid)``
    is an image with rows along the second coordinate.
    """
    t0, t1 = np.linspace(*x_range, n_grid), np.linspace(*y_range, n_grid)
    return t0, t1, np.stack(np.meshgrid(t0, t1), axis=-1).reshape(-1, 2)


def plot_decision_regions(
    ax,
    classify,
    X,
    y,
    *,
    extent=None,
    n_grid=120,
    n_classes=None,
    pad=0.05,
    alpha=0.6,
    size=4,
    linewidth=0.2,
    aspect=None,
    interpolation="nearest",
    cmap="viridis",
):
    """Draw a 2-D classifier's decision regions on ``ax`` as an image, with the points ``X`` coloured by ``y``.

    Parameters
    ----------
    ax : matplotlib Axes
    classify : callable
        ``classify(P) -> labels``: class indices (0, 1, …) of the grid points
        ``P`` of shape (n_grid², 2), float64 (cast them, or predict in chunks,
        inside ``classify``).
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,)
        Class indices of the points.
    extent : (x_min, x_max, y_min, y_max), optional
        The region drawn; default the bounding box of ``X`` widened by
        ``pad`` times its size on each side.
    n_grid : int, default=120
        Grid points per axis.
    n_classes : int, optional
        Fixes the colour scale to 0 … n_classes − 1 (image and points alike).
    alpha, size, linewidth, aspect, interpolation, cmap
        The image's opacity, the points' size and edge width, the axes'
        aspect (None: Matplotlib's default), the image's interpolation and
        the colour map.

    Returns
    -------
    matplotlib.image.AxesImage
    """
    if extent is None:
        lo, hi = X.min(axis=0), X.max(axis=0)
        margin = pad * (hi - lo)
        extent = (lo[0] - margin[0], hi[0] + margin[0], lo[1] - margin[1], hi[1] + margin[1])
    t0, t1, P = grid_points(extent[:2], extent[2:], n_grid)
    labels = np.asarray(classify(P)).reshape(n_grid, n_grid)
    scale = {} if n_classes is None else {"vmin": 0, "vmax": n_classes - 1}
    image = ax.imshow(
        labels,
        origin="lower",
        extent=(t0[0], t0[-1], t1[0], t1[-1]),
        cmap=cmap,
        alpha=alpha,
        interpolation=interpolation,
        aspect=aspect,
        **scale,
    )
    ax.scatter(
        X[:, 0], X[:, 1], c=y, s=size, cmap=cmap, edgecolors="k", linewidths=linewidth, **scale
    )
    return image
