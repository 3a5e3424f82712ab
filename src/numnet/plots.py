"""Matplotlib figures, always with the Agg backend, saved atomically as PNG.

Matplotlib is imported on first use (:func:`pyplot`), not when this module
is imported, so modules that only may draw (the experiments, the CLI) stay
cheap to import. ``numnet.plots.plt`` still gives ``matplotlib.pyplot``.
"""

from functools import cache

from ._files import atomic_path

__all__ = ["new_figure", "save_figure", "pyplot", "plt"]


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
    return pyplot().subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                             constrained_layout=True, **kwargs)


def save_figure(fig, path, dpi=110):
    """Write ``fig`` as a PNG to ``path`` atomically and close it; return the path."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    pyplot().close(fig)
    return path
