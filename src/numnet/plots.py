"""Matplotlib figures, always with the Agg backend, saved atomically as PNG."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ._files import atomic_path  # noqa: E402

__all__ = ["new_figure", "save_figure", "plt"]


def new_figure(ncols=1, nrows=1, *, width=4.5, height=3.5, **kwargs):
    """A figure with ``nrows × ncols`` axes of the given size per panel (inches)."""
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), squeeze=False,
                        constrained_layout=True, **kwargs)


def save_figure(fig, path, dpi=110):
    """Write ``fig`` as a PNG to ``path`` atomically and close it; return the path."""
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    plt.close(fig)
    return path
