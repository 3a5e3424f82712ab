"""Figures of ``numnet train``: the loss curve and the decision regions of two-feature data."""

import numpy as np

from ..plots import new_figure
from ._training import predict_labels

__all__ = ["loss_figure", "decision_figure"]

#: Grid points per forward pass of the decision figure: its activations stay those of a training batch.
_CHUNK = 1024


def loss_figure(history, method):
    """Training loss (and validation loss and accuracy when recorded) against iterations."""
    fig, axes = new_figure(1, width=4.6, height=3.3)
    ax = axes[0, 0]
    it = [h["nit"] for h in history]
    ax.semilogy(it, [h["fun"] for h in history], label="training objective")
    if history and "val_loss" in history[0]:
        ax.semilogy(it, [h["val_loss"] for h in history], label="validation loss")
    if history and "val_accuracy" in history[0]:
        ax2 = ax.twinx()
        ax2.plot(it, [h["val_accuracy"] for h in history], "C2:", label="validation accuracy")
        ax2.set_ylabel("validation accuracy")
        ax2.legend(loc="center right", fontsize=8)
    ax.set(xlabel="iteration", ylabel="loss", title=f"training with {method}")
    ax.legend(loc="upper right", fontsize=8)
    return fig


def decision_figure(net, theta, X, y, classes, n_grid=200):
    """Predicted class over the bounding box of X, with the training points on top."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.05 * (hi - lo)
    t0, t1 = (np.linspace(lo[i] - pad[i], hi[i] + pad[i], n_grid) for i in (0, 1))
    P = np.stack(np.meshgrid(t0, t1), axis=-1).reshape(-1, 2)
    labels = np.concatenate(
        [
            predict_labels(net.predict(theta, P[i : i + _CHUNK]), classes)
            for i in range(0, len(P), _CHUNK)
        ]
    )
    Z = np.searchsorted(classes, labels).reshape(n_grid, n_grid)
    fig, axes = new_figure(1, width=4.2, height=3.8)
    ax = axes[0, 0]
    ax.imshow(
        Z,
        origin="lower",
        extent=(t0[0], t0[-1], t1[0], t1[-1]),
        aspect="auto",
        cmap="viridis",
        alpha=0.55,
        vmin=0,
        vmax=len(classes) - 1,
    )
    ax.scatter(
        X[:, 0],
        X[:, 1],
        c=np.searchsorted(classes, y),
        s=6,
        cmap="viridis",
        edgecolors="k",
        linewidths=0.2,
        vmin=0,
        vmax=len(classes) - 1,
    )
    ax.set(xlabel="x₁", ylabel="x₂", title="decision regions (training points)")
    return fig
