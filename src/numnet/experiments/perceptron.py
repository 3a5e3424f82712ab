"""The perceptron: delta-rule SGD recovers a planted w*, yet its landscape can be terrible (notes 001).

Two experiments on the single neuron ŷ = σ(w·x) (logistic σ) with the
quadratic loss ℓ_n(w) = (1/2n) Σ_i (y_i − σ(w·x_i))²:

- **Delta rule.** On planted-truth data x ~ N(0, I), y = σ(w*·x), mini-batch
  SGD with the delta rule recovers w*; the relative recovery error
  ‖w − w*‖/‖w*‖ is recorded every epoch.
- **Auer et al. (Theorem 12.1).** One-dimensional data built so that every
  sample creates its own local minimum: :func:`auer_samples`. The minima
  are counted numerically (a grid, then safeguarded Newton steps with the
  exact Hessian) and are as many as the samples.
"""

import numpy as np

from ..datasets import planted_perceptron
from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..optim import minimize
from . import ExperimentResult
from ._params import Float, Int, Training, experiment

__all__ = [
    "perceptron_experiment",
    "auer_samples",
    "auer_objective",
    "count_local_minima",
    "delta_rule",
]

NAME = "perceptron"
HELP = "Perceptron: delta-rule SGD recovers w*; the Auer et al. landscape has one minimum per sample (notes 001)."


#: The largest Auer construction whose minima are all found in float64: the minimizers are 10^i, and
#: from 161 samples on the count stays at 160 (measured with :func:`count_local_minima`).
MAX_MINIMA = 160


def _needs(p):
    return [
        Training(
            Sequential([Dense(p["n_features"], 1, "sigmoid", bias=False)]),
            p["n_samples"],
            "sgd",
            ("n_samples", "n_features"),
        )
    ]


@experiment(
    NAME,
    HELP,
    needs=_needs,
    n_minima=Int(
        1,
        MAX_MINIMA,
        why="minimizers 10^i resolvable in float64",
        help="samples (hence local minima) of the Auer construction",
    ),
    n_samples=Int(1, help="planted-perceptron samples for the delta rule"),
    n_features=Int(1, help="planted-perceptron dimension d"),
    epochs=Int(1, help="delta-rule SGD epochs"),
    learning_rate=Float(
        0.0, 1e3, open_min=True, help="constant SGD step; above about 1 the delta rule diverges"
    ),
)
def perceptron_experiment(
    *,
    seed=0,
    n_minima=6,
    n_samples=500,
    n_features=10,
    epochs=20,
    learning_rate=0.2,
    batch_size=1,
    plot=True,
):
    """Run the Auer construction and the delta rule.

    Parameters
    ----------
    seed : int
        Seed of the planted data, the start and the SGD shuffles.
    n_minima : int, default=6
        Samples of the Auer construction (each creates one local minimum).
    n_samples, n_features : int, default=500, 10
        Size of the planted-perceptron data.
    epochs : int, default=20
        Delta-rule SGD epochs.
    learning_rate : float, default=0.2
        Constant SGD step η.
    batch_size : int, default=1
        Mini-batch size (1 is the classical delta rule).
    plot : bool, default=True
        Draw ``perceptron.png``.

    Returns
    -------
    ExperimentResult
        numbers: ``auer_samples``, ``auer_local_minima`` (counted), ``auer_minimizers``,
        ``auer_minimum_values``, ``auer_min_curvature`` (smallest ℓ″ at the minima),
        ``recovery_error`` (per epoch) and ``final_recovery_error``.
    """
    obj = auer_objective(*auer_samples(n_minima))
    minima = count_local_minima(obj)
    X, y, w_true = planted_perceptron(n_samples, n_features, random_state=seed)
    errors = delta_rule(
        X, y, w_true, epochs=epochs, learning_rate=learning_rate, batch_size=batch_size, seed=seed
    )
    numbers = {
        "auer_samples": n_minima,
        "auer_local_minima": len(minima),
        "auer_minimizers": [m[0] for m in minima],
        "auer_minimum_values": [m[1] for m in minima],
        "auer_min_curvature": min((m[2] for m in minima), default=float("nan")),
        "auer_bad_minima": sum(m[1] > min(v[1] for v in minima) * (1 + 1e-9) for m in minima),
        "recovery_error": errors,
        "final_recovery_error": errors[-1],
    }
    figures = {"perceptron.png": _figure(obj, minima, errors)} if plot else {}
    return ExperimentResult(NAME, numbers, figures, _table(numbers))


def auer_samples(n, ratio=10.0, target=0.7):
    """One-dimensional samples (x_i, y_i) whose loss has one local minimum per sample.

    Parameters
    ----------
    n : int
        Number of samples.
    ratio : float, default=10.0
        Ratio between consecutive minimizers c_i = ratio^i.
    target : float, default=0.7
        Every y_i (strictly between ½ and 1).

    Returns
    -------
    x, y : ndarray of shape (n,)

    Notes
    -----
    Notes 001, Theorem 12.1 and its picture: sample i alone has loss
    ½(σ(w x_i) − y_i)², zero at w = c_i = logit(y_i)/x_i and flat (the
    sigmoid saturates) far from c_i. With x_i = logit(y)/c_i and
    c_i = ratio^i, the well of sample i has width ∝ c_i, and at w = c_i every
    other sample is either saturated (σ ≈ 1 for j < i) or nearly constant
    (σ ≈ ½ for j > i), so each well survives in the sum: n local minima,
    with values ½ mean_j (σ(c_i x_j) − y)², different from each other.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not 0.5 < target < 1:
        raise ValueError(f"target must lie in (0.5, 1), got {target!r}")
    if not ratio > 1:
        raise ValueError(f"ratio must be > 1, got {ratio!r}")
    centers = float(ratio) ** np.arange(n)
    return np.log(target / (1 - target)) / centers, np.full(n, float(target))


def auer_objective(x, y):
    """ℓ_n(w) = (1/2n) Σ (y_i − σ(w x_i))² as an :class:`~numnet.objective.Objective` with θ = [w]."""
    net = Sequential([Dense(1, 1, "sigmoid", bias=False)])
    return Objective(net, "squared_error", np.asarray(x, dtype=float)[:, None], y)


def count_local_minima(obj, *, n_grid=4000, w_max=None, tol=1e-13, max_newton=60):
    """Local minima of a one-parameter objective: grid bracketing, then safeguarded Newton.

    Parameters
    ----------
    obj : Objective
        With ``obj.n_params == 1``.
    n_grid : int, default=4000
        Grid points, uniform in t = asinh(w / w₀) (log-like on both signs).
    w_max : float, optional
        Grid half-width; default 1e3 times the largest 1/|x|-scale of the data.
    tol : float, default=1e-13
        Newton stops when |ℓ′(w)| ≤ tol · max(1, |ℓ″(w)| |w|).
    max_newton : int, default=60

    Returns
    -------
    list of (w, ℓ(w), ℓ″(w))
        One entry per strict local minimum (ℓ′ changes sign from − to + on
        the grid, and ℓ″ > 0 at the refined point), sorted by w.

    Notes
    -----
    ℓ′ and ℓ″ are the library's ``grad`` and ``hvp`` (the R-operator, note
    004). In each bracket [a, b] with ℓ′(a) < 0 < ℓ′(b) Newton's step
    w ← w − ℓ′(w)/ℓ″(w) is taken when it stays inside the bracket and
    ℓ″ > 0; otherwise the bracket is bisected.
    """
    if obj.n_params != 1:
        raise ValueError(f"obj must have exactly one parameter, got n_params={obj.n_params}")
    scale = 1.0 / np.max(np.abs(obj.X))
    w_max = 1e3 / np.min(np.abs(obj.X[obj.X != 0])) if w_max is None else w_max
    w = scale * np.sinh(np.linspace(-np.arcsinh(w_max / scale), np.arcsinh(w_max / scale), n_grid))
    g = np.array([obj.grad(np.array([wi]))[0] for wi in w])
    brackets = np.flatnonzero((g[:-1] < 0) & (g[1:] > 0))
    found = [_newton_1d(obj, w[i], w[i + 1], tol, max_newton) for i in brackets]
    return [m for m in found if m[2] > 0]


def _newton_1d(obj, a, b, tol, max_newton):
    """Safeguarded Newton on ℓ′ inside [a, b] with ℓ′(a) < 0 < ℓ′(b); returns (w, ℓ, ℓ″)."""
    w = 0.5 * (a + b)
    for _ in range(max_newton):
        lin = obj.at(np.array([w]))
        g, h = lin.grad[0], lin.hvp(np.ones(1))[0]
        if abs(g) <= tol * max(1.0, abs(h * w)):
            break
        a, b = (w, b) if g < 0 else (a, w)
        step = w - g / h if h > 0 else np.nan
        w = step if a < step < b else 0.5 * (a + b)
    lin = obj.at(np.array([w]))
    return float(w), float(lin.value), float(lin.hvp(np.ones(1))[0])


def delta_rule(X, y, w_true, *, epochs=20, learning_rate=0.2, batch_size=1, seed=0):
    """Mini-batch SGD on the perceptron; the relative recovery error after each epoch.

    Notes
    -----
    Notes 001, "delta rule": ∇_w ½(y_i − ŷ_i)² = (ŷ_i − y_i) ŷ_i (1 − ŷ_i) x_i,
    and w ← w − η mean_{i∈S} ∇ℓ_i over a mini-batch S (``method="sgd"`` of
    :func:`numnet.optim.minimize` on the library's objective, whose
    gradient is exactly this). Error: ‖w − w*‖ / ‖w*‖, the first entry at
    the start w = 0.
    """
    obj = Objective(
        Sequential([Dense(X.shape[1], 1, "sigmoid", bias=False)]), "squared_error", X, y
    )
    w0 = np.zeros(obj.n_params, dtype=obj.dtype)
    norm = float(np.linalg.norm(w_true))

    def record(result):
        return {"recovery_error": float(np.linalg.norm(result.x - w_true)) / norm}

    res = minimize(
        obj,
        w0,
        "sgd",
        callback=record,
        max_iter=epochs,
        gtol=0.0,
        learning_rate=learning_rate,
        batch_size=batch_size,
        seed=seed,
        full_eval=False,
    )
    return [1.0] + [h["recovery_error"] for h in res.history]


def _table(numbers):
    lines = [
        (
            f"Auer construction: {numbers['auer_samples']} samples, "
            f"{numbers['auer_local_minima']} local minima ({numbers['auer_bad_minima']} worse than the best)"
        )
    ]
    lines += [
        f"  w = {w:10.4g}   loss = {v:.6f}"
        for w, v in zip(numbers["auer_minimizers"], numbers["auer_minimum_values"])
    ]
    lines.append(
        f"delta rule: relative recovery error {numbers['final_recovery_error']:.3g} "
        f"after {len(numbers['recovery_error']) - 1} epochs"
    )
    return "\n".join(lines)


def _figure(obj, minima, errors):
    from ..plots import new_figure

    fig, axes = new_figure(2, width=4.2, height=3.3)
    ws = np.array([m[0] for m in minima])
    grid = np.logspace(np.log10(ws.min()) - 1.5, np.log10(ws.max()) + 1.5, 800)
    ax = axes[0, 0]
    ax.semilogx(grid, [obj.value(np.array([w])) for w in grid], lw=1.2)
    ax.plot(ws, [m[1] for m in minima], "o", color="C3", label=f"{len(minima)} local minima")
    ax.set(xlabel="w", ylabel="loss ℓₙ(w)", title=f"Auer et al.: {obj.n_samples} samples")
    ax.legend()
    ax = axes[0, 1]
    ax.semilogy(np.arange(len(errors)), errors, "o-", ms=3)
    ax.set(xlabel="epoch", ylabel="‖w − w*‖ / ‖w*‖", title="delta-rule SGD, planted w*")
    return fig
