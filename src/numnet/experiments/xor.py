"""XOR: a linear model cannot separate it, one hidden layer can (notes 002).

The four points X = (±1, ±1) with labels y = −x₁x₂ ∈ {−1, 1}. Trained with
the binomial log-likelihood E = (1/n) Σ ln(1 + exp(−2 y F)), the linear model
F = X w + b has gradient exactly zero at w = 0, b = 0 (the four terms cancel),
and that point is its global minimum (E is convex), with E = ln 2 and no
decision at all. No line classifies more than three of the four points. A
network F = tanh(X W₁ + b₁) W₂ + b₂ with one hidden layer separates them.
"""

import numpy as np

from ..datasets import xor
from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..optim import minimize
from . import ExperimentResult
from ._params import Int, Training, experiment

__all__ = ["xor_experiment", "linear_accuracy_bound"]

NAME = "xor"
HELP = "XOR: the linear logistic model is stuck at w=0, b=0; one hidden layer separates it (notes 002)."


def _needs(p):
    return [
        Training(
            Sequential([Dense(2, p["n_hidden"]), Dense(p["n_hidden"], 1)]),
            4,
            "lbfgs",
            ("n_hidden",),
        )
    ]


@experiment(
    NAME,
    HELP,
    needs=_needs,
    n_hidden=Int(1, help="hidden units of the nonlinear model"),
    n_starts=Int(1, help="random starts of each model"),
)
def xor_experiment(*, seed=0, n_hidden=4, n_starts=5, activation="tanh", plot=True):
    """Train the linear and the one-hidden-layer model on XOR from random starts.

    Parameters
    ----------
    seed : int
        Seed of the random starts.
    n_hidden : int, default=4
        Hidden units of the nonlinear model.
    n_starts : int, default=5
        Random starts of each model.
    activation : str, default="tanh"
        Hidden activation.
    plot : bool, default=True
        Draw the figure ``xor.png``.

    Returns
    -------
    ExperimentResult
        numbers: ``grad_norm_at_zero`` (exactly 0), ``loss_at_zero`` (ln 2),
        ``linear_accuracy`` (per start), ``linear_accuracy_bound`` (best over
        every line through the data), ``hidden_accuracy`` (per start),
        ``hidden_loss`` (per start).

    Notes
    -----
    Notes 002: ∇_w E = −(2/n) Σ_i y_i σ(−2 y_i (w·x_i + b)) x_i; at w = 0, b = 0,
    σ(0) = ½ and ∇_w E = −(1/n) Xᵀ y = 0, ∇_b E = −(1/n) Σ y_i = 0, because
    Σ y_i = 0 and Σ y_i x_i = 0 for XOR. Accuracy counts sign(F) = y.
    """
    X, y = xor()
    rng = np.random.default_rng(seed)
    linear = Objective(Sequential([Dense(2, 1)]), "binomial", X, y)
    zero = np.zeros(linear.n_params)
    lin0 = linear.at(zero)
    hidden = Objective(
        Sequential([Dense(2, n_hidden, activation), Dense(n_hidden, 1)]), "binomial", X, y
    )
    fits = {
        "linear": [_fit(linear, rng) for _ in range(n_starts)],
        "hidden": [_fit(hidden, rng) for _ in range(n_starts)],
    }
    numbers = {
        "grad_norm_at_zero": float(np.linalg.norm(lin0.grad)),
        "loss_at_zero": float(lin0.value),
        "ln2": float(np.log(2.0)),
        "linear_accuracy": [_accuracy(linear, t) for t in fits["linear"]],
        "linear_loss": [float(linear.value(t)) for t in fits["linear"]],
        "linear_accuracy_bound": linear_accuracy_bound(X, y),
        "hidden_accuracy": [_accuracy(hidden, t) for t in fits["hidden"]],
        "hidden_loss": [float(hidden.value(t)) for t in fits["hidden"]],
    }
    numbers["linear_best_accuracy"] = max(numbers["linear_accuracy"])
    numbers["hidden_best_accuracy"] = max(numbers["hidden_accuracy"])
    numbers["hidden_all_separate"] = bool(min(numbers["hidden_accuracy"]) == 1.0)
    figures = (
        {"xor.png": _figure(linear, fits["linear"][0], hidden, fits["hidden"][0], X, y)}
        if plot
        else {}
    )
    return ExperimentResult(NAME, numbers, figures, _table(numbers))


def linear_accuracy_bound(X, y, eps=1e-6):
    """Best accuracy of any linear classifier sign(x·w + b) on 2-D points in general position.

    A line achieving some split of the points can be moved until it passes
    through two of them, i and j; a tiny shift then puts both on one side and
    a tiny rotation about their midpoint puts them on opposite sides. Trying
    these four lines for every pair, with both orientations, enumerates every
    linear split, so the result is the exact optimum (XOR: 3/4).
    """
    best, n = 0.0, X.shape[0]
    for i in range(n):
        for j in range(i + 1, n):
            for s in _near_lines(X, X[i], X[j], eps):
                best = max(best, np.mean(s == y), np.mean(-s == y))
    return float(best)


def _near_lines(X, a, b, eps):
    """Signs of X against the line through a and b, shifted by ±eps or rotated by ±eps about (a+b)/2."""
    mid, d = 0.5 * (a + b), b - a
    for angle, shift in ((0.0, eps), (0.0, -eps), (eps, 0.0), (-eps, 0.0)):
        c, s = np.cos(angle), np.sin(angle)
        normal = np.array([-(s * d[0] + c * d[1]), c * d[0] - s * d[1]])
        yield np.sign((X - mid) @ normal + shift)


def _fit(obj, rng):
    theta0 = obj.net.init(rng, scheme="normal")
    return minimize(obj, theta0, "lbfgs", max_iter=500, gtol=1e-8).x


def _accuracy(obj, theta):
    return float(np.mean(np.sign(obj.predict(theta)[:, 0]) == obj.Y[:, 0]))


def _table(numbers):
    rows = [
        ("linear  w·x + b", numbers["linear_best_accuracy"], min(numbers["linear_loss"])),
        ("1 hidden layer", numbers["hidden_best_accuracy"], min(numbers["hidden_loss"])),
    ]
    lines = [f"{'model':<16} {'best accuracy':>14} {'best loss':>11}"]
    lines += [f"{m:<16} {a:>14.2f} {v:>11.3g}" for m, a, v in rows]
    return "\n".join(lines)


def _figure(linear, t_lin, hidden, t_hid, X, y):
    from ..plots import new_figure

    fig, axes = new_figure(2, width=3.6, height=3.3)
    g = np.linspace(-1.6, 1.6, 121)
    G = np.stack(np.meshgrid(g, g), axis=-1).reshape(-1, 2)
    for ax, obj, theta, title in (
        (axes[0, 0], linear, t_lin, "linear: P(y=1)"),
        (axes[0, 1], hidden, t_hid, "1 hidden layer: P(y=1)"),
    ):
        P = obj.loss.link(obj.predict(theta, G)).reshape(g.size, g.size)
        im = ax.contourf(g, g, P, levels=np.linspace(0, 1, 11), cmap="RdBu_r")
        ax.scatter(X[:, 0], X[:, 1], c=y, cmap="RdBu_r", edgecolors="k", s=80, vmin=-1, vmax=1)
        ax.set_title(title)
        ax.set_aspect("equal")
    fig.colorbar(im, ax=axes[0, 1], shrink=0.8)
    return fig
