"""Non-convexity: the loss of a single layer along two random directions (notes 000).

Notes 000, "Non-convexity": plot the cross-entropy J(θ + α dK + β dW) over a
grid of (α, β), with dK a random direction in the hidden layer's parameters
(K, b) and dW one in the output weights W. With ``filter_normalize`` every
unit's block of a direction (its incoming weights and bias) is rescaled to
the norm of the same block of θ (Li et al., "Visualizing the loss landscape
of neural nets", 2018), so that plots at different θ are comparable.

Non-convexity is measured on the grid: the fraction of interior grid points
where the 2 × 2 finite-difference Hessian of the surface has a negative
eigenvalue (0 for a convex function).
"""

import numpy as np

from ..activations import ACTIVATIONS
from ..plots import new_figure
from . import ExperimentResult
from ._common import peaks_problem, peaks_samples_kind, peaks_training
from ._params import Choice, Flag, Float, Int, deprecated_alias, experiment

__all__ = [
    "landscape_experiment",
    "random_direction",
    "network_direction",
    "loss_surface",
    "nonconvex_fraction",
]

NAME = "landscape"
HELP = "loss of a single layer on peaks along two random directions (dK, dW): contour and surface"


def _needs(p):
    return peaks_training(p["n_samples"], p["n_hidden"], ["lbfgs"], ("n_samples", "n_hidden"))


def random_direction(net, theta, layer, rng, *, filter_normalize=False):
    """A standard normal direction in the parameters of ``net.layers[layer]``, zero elsewhere.

    With ``filter_normalize`` each output unit's column of W together with
    its bias is rescaled to the norm of the same entries of ``theta``.
    """
    d = np.zeros_like(theta)
    s = net.slices[layer]
    d[s] = rng.standard_normal(s.stop - s.start)
    if filter_normalize:
        _normalize_units(net.layers[layer], theta[s], d[s])
    return d


def network_direction(net, theta, rng, *, filter_normalize=False):
    """A standard normal direction in every layer's parameters (each layer as :func:`random_direction`)."""
    d = np.zeros_like(theta)
    for i in range(len(net.layers)):
        d += random_direction(net, theta, i, rng, filter_normalize=filter_normalize)
    return d


def _normalize_units(layer, theta, d):
    """In place: each unit j's (W[:, j], b[j]) block of ``d`` gets the norm of ``theta``'s."""
    t, v = layer.unpack(theta), layer.unpack(d)
    blocks = [(t["W"], v["W"])] + ([(t["b"][None, :], v["b"][None, :])] if layer.bias else [])
    norm = lambda pairs, k: np.sqrt(sum((p[k] ** 2).sum(axis=0) for p in pairs))  # noqa: E731
    scale = norm(blocks, 0) / np.maximum(norm(blocks, 1), np.finfo(d.dtype).tiny)
    for _, vb in blocks:
        vb *= scale


def loss_surface(obj, theta, d1, d2, alphas, betas):
    """``S[i, j] = obj.value(theta + alphas[j] d1 + betas[i] d2)`` (rows follow β, as in contour)."""
    return np.array([[obj.value(theta + a * d1 + b * d2) for a in alphas] for b in betas])


def nonconvex_fraction(S, h1, h2):
    """Fraction of interior grid points whose finite-difference 2 × 2 Hessian has a negative eigenvalue.

    Central differences on the grid (spacing ``h1`` along columns, ``h2``
    along rows); eigenvalues below −1e-8 · max|H| count as negative.
    """
    fxx = (S[1:-1, 2:] - 2 * S[1:-1, 1:-1] + S[1:-1, :-2]) / h1**2
    fyy = (S[2:, 1:-1] - 2 * S[1:-1, 1:-1] + S[:-2, 1:-1]) / h2**2
    fxy = (S[2:, 2:] - S[2:, :-2] - S[:-2, 2:] + S[:-2, :-2]) / (4 * h1 * h2)
    lam_min = 0.5 * (fxx + fyy) - np.sqrt(0.25 * (fxx - fyy) ** 2 + fxy**2)
    scale = max(np.abs(fxx).max(), np.abs(fyy).max(), np.abs(fxy).max(), np.finfo(float).tiny)
    return float(np.mean(lam_min < -1e-8 * scale))


def _train(obj, theta0, max_iter):
    if max_iter <= 0:
        return theta0
    from ..optim import minimize

    return minimize(obj, theta0, "lbfgs", max_iter=max_iter).x


@experiment(
    NAME,
    HELP,
    needs=_needs,
    n_samples=peaks_samples_kind(),
    n_hidden=Int(1, help="hidden width m"),
    activation=Choice(sorted(ACTIVATIONS), help="hidden activation"),
    train_iter=Int(0, help="L-BFGS iterations before plotting; 0 plots at the random start"),
    radius=Float(
        0.0,
        1e100,
        open_min=True,
        why="finite differences of the surface overflow from about 1e150",
        help="grid half-width",
    ),
    n_grid=Int(3, why="a centre and two neighbours per axis", help="grid points per axis"),
    filter_normalize=Flag(help="rescale each unit's block of a direction to the norm of θ's block"),
)
def landscape_experiment(
    *,
    n_samples=500,
    n_hidden=32,
    activation="tanh",
    train_iter=100,
    radius=1.0,
    n_grid=31,
    filter_normalize=False,
    seed=0,
):
    """Loss of a single layer on peaks along two random directions (dK, dW).

    Parameters
    ----------
    n_samples, n_hidden : int
        Peaks points and hidden width m.
    activation : str
    train_iter : int
        L-BFGS iterations from a random start before the surface is taken
        (0: at the random start, as in the notes).
    radius : float
        The grid covers [−radius, radius]² in (α, β).
    n_grid : int
        Grid points per axis (at least 3).
    filter_normalize : bool
        Filter-normalized directions (see the module docstring).
    seed : int

    Returns
    -------
    ExperimentResult
        numbers: ``center_loss``, ``min_loss``, ``max_loss``,
        ``nonconvex_fraction``, ``n_local_minima`` and the grid; figure
        ``landscape.png`` (contour and surface).
    """
    if n_grid < 3:
        raise ValueError(f"n_grid must be at least 3, got {n_grid}")
    prob = peaks_problem(
        n_samples=n_samples,
        n_hidden=n_hidden,
        activation=activation,
        alpha=0.0,
        val_fraction=0.2,
        seed=seed,
    )
    rng = np.random.default_rng(seed)
    theta = _train(prob.train, prob.net.init(rng), train_iter)
    dK, dW = (
        random_direction(prob.net, theta, i, rng, filter_normalize=filter_normalize) for i in (0, 1)
    )
    t = np.linspace(-radius, radius, n_grid)
    S = loss_surface(prob.train, theta, dK, dW, t, t)
    h = t[1] - t[0]
    numbers = {
        "center_loss": float(prob.train.value(theta)),
        "min_loss": float(S.min()),
        "max_loss": float(S.max()),
        "nonconvex_fraction": nonconvex_fraction(S, h, h),
        "n_local_minima": _count_local_minima(S),
        "train_iter": train_iter,
        "filter_normalize": bool(filter_normalize),
        "radius": radius,
        "alphas": t,
        "surface": S,
    }
    return ExperimentResult(NAME, numbers, {"landscape.png": _figure(t, S, filter_normalize)})


def _count_local_minima(S):
    """Interior grid points strictly below their 8 neighbours."""
    c = S[1:-1, 1:-1]
    shifts = [
        S[1 + i : S.shape[0] - 1 + i, 1 + j : S.shape[1] - 1 + j]
        for i in (-1, 0, 1)
        for j in (-1, 0, 1)
        if (i, j) != (0, 0)
    ]
    return int(np.all([c < s for s in shifts], axis=0).sum())


def _figure(t, S, filter_normalize):
    fig, axes = new_figure(2, width=4.2, height=3.6)
    axes[0, 1].remove()
    ax3 = fig.add_subplot(1, 2, 2, projection="3d")
    A, B = np.meshgrid(t, t)
    cs = axes[0, 0].contourf(A, B, S, levels=20, cmap="viridis")
    axes[0, 0].contour(A, B, S, levels=10, colors="k", linewidths=0.4)
    fig.colorbar(cs, ax=axes[0, 0])
    axes[0, 0].plot(0, 0, "r+", ms=10)
    label = " (filter-normalized)" if filter_normalize else ""
    axes[0, 0].set(xlabel="α  (along dK)", ylabel="β  (along dW)", title="cross-entropy" + label)
    ax3.plot_surface(A, B, S, cmap="viridis", linewidth=0, rcount=24, ccount=24, antialiased=False)
    ax3.set(xlabel="α", ylabel="β", title="J(θ + α dK + β dW)")
    return fig


#: Deprecated name of :func:`landscape_experiment`.
landscape = deprecated_alias(landscape_experiment, "landscape")
