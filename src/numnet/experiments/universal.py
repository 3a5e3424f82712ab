"""Universal approximation with n hidden units and the O(1/n) rate (notes 002).

A smooth 1-D and a smooth 2-D function, f(x) = exp(−‖x‖²/2) cos(a x₁), are
fitted by one-hidden-layer networks f_n(x) = tanh(x W₁ + b₁) W₂ + b₂ with n
hidden units, for n = 1, 2, 4, …. The squared error ∫_{B(r)} (f − f_n)² dμ
(μ uniform on the ball of radius r, estimated on fresh test points) is
compared with the bound 4 r² C(f)² / n of note 002, where
C(f) = ∫ |ω| |f̂(ω)| dω is known in closed form for these functions; the
rate is the slope of log error against log n.
"""

import numpy as np
from scipy import stats

from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..optim import minimize
from . import ExperimentResult
from ._params import CommandLine, Int, IntList, Training, experiment

__all__ = [
    "universal_experiment",
    "target_function",
    "barron_constant",
    "ball_samples",
    "fit_units",
]

NAME = "universal"
HELP = "Universal approximation: error of n hidden units against n, next to the 4r^2C(f)^2/n bound (notes 002)."


def _powers_of_two(max_units):
    return tuple(2**k for k in range(max_units.bit_length()))


def _needs(p):
    return [Training(_net(2, p["units"][-1], "tanh"), 4000, "lbfgs", ("units",))]


@experiment(
    NAME,
    HELP,
    needs=_needs,
    units=IntList(
        1,
        empty=False,
        example="1,2,4",
        help="numbers of hidden units n fitted",
        cli=CommandLine(
            "max-units",
            Int(
                2,
                why="two widths at least, for a rate",
                help="largest n: every power of 2 up to it is fitted",
            ),
            _powers_of_two,
            max,
        ),
    ),
    max_iter=Int(1, help="optimizer iterations per fit"),
)
def universal_experiment(
    *,
    seed=0,
    units=(1, 2, 4, 8, 16, 32, 64),
    dims=(1, 2),
    frequency=2.0,
    radius=(3.0, 2.5),
    n_train=(300, 1500),
    n_test=4000,
    max_iter=1000,
    n_starts=2,
    activation="tanh",
    method="lbfgs",
    plot=True,
):
    """Fit f in each dimension with every number of hidden units; report errors, bounds and rates.

    Parameters
    ----------
    seed : int
    units : sequence of int, default=(1, 2, 4, …, 64)
        Numbers of hidden units n (increasing).
    dims : sequence of int, default=(1, 2)
        Input dimensions d (1 or 2).
    frequency : float, default=2.0
        a in f(x) = exp(−‖x‖²/2) cos(a x₁).
    radius : sequence of float, default=(3.0, 2.5)
        Radius r of the ball B(r) for each dimension.
    n_train : sequence of int, default=(300, 1500)
        Training points (uniform on the ball) for each dimension.
    n_test : int, default=4000
        Fresh test points estimating ∫ (f − f_n)² dμ.
    max_iter : int, default=1000
        Iterations of each fit.
    n_starts : int, default=2
        Random starts per n, besides the warm start from the previous n.
    activation : str, default="tanh"
        Bounded monotone (sigmoidal) activation.
    method : str, default="lbfgs"
        Method of :func:`numnet.optim.minimize`.
    plot : bool, default=True
        Draw ``universal.png``.

    Returns
    -------
    ExperimentResult
        numbers, for each d: ``errors_<d>d`` (test squared error per n),
        ``bound_<d>d`` (4r²C(f)²/n), ``rate_<d>d`` (fitted slope of log
        error vs log n), ``C_<d>d`` (C(f)), ``train_loss_<d>d`` (training
        mean squared error per n) and ``max_error_over_bound``.
    """
    rng = np.random.default_rng(seed)
    units, numbers, curves = list(units), {"units": list(units)}, {}
    for d, r, n_tr in zip(dims, radius, n_train):
        X, Xt = ball_samples(n_tr, d, r, rng), ball_samples(n_test, d, r, rng)
        obj = Objective(_net(d, 1, activation), "squared_error", X, target_function(X, frequency))
        fits = fit_units(
            obj,
            units,
            rng,
            activation=activation,
            max_iter=max_iter,
            n_starts=n_starts,
            method=method,
        )
        ft = target_function(Xt, frequency)
        err = [
            float(np.mean((_net(d, n, activation).predict(t, Xt)[:, 0] - ft) ** 2))
            for n, t in zip(units, fits)
        ]
        C = barron_constant(d, frequency)
        numbers.update(
            {
                f"errors_{d}d": err,
                f"bound_{d}d": [4 * r * r * C * C / n for n in units],
                f"rate_{d}d": float(np.polyfit(np.log(units), np.log(err), 1)[0]),
                f"C_{d}d": C,
                f"radius_{d}d": r,
                f"train_loss_{d}d": [
                    float(2 * _objective(obj, n, activation).value(t)) for n, t in zip(units, fits)
                ],
            }
        )
        curves[d] = (Xt, ft, fits[-1])
    numbers["max_error_over_bound"] = max(
        e / b for d in dims for e, b in zip(numbers[f"errors_{d}d"], numbers[f"bound_{d}d"])
    )
    figures = {"universal.png": _figure(numbers, dims, curves, activation)} if plot else {}
    return ExperimentResult(NAME, numbers, figures, _table(numbers, dims))


def target_function(X, frequency=2.0):
    """f(x) = exp(−‖x‖²/2) cos(a x₁), a = ``frequency``; X of shape (n, d) gives shape (n,)."""
    return np.exp(-0.5 * np.sum(X * X, axis=1)) * np.cos(frequency * X[:, 0])


def barron_constant(d, frequency=2.0):
    """C(f) = ∫ |ω| |f̂(ω)| dω for :func:`target_function` in d = 1 or 2 dimensions.

    Notes
    -----
    Note 002: C(f) = ∫ |ω| |f(ω)| dω with f(x) = ∫ e^{iω·x} f̂(ω) dω. Since
    exp(−‖x‖²/2) = ∫ e^{iω·x} φ_d(ω) dω (φ_d the standard normal density),
    f̂(ω) = ½ [φ_d(ω − a e₁) + φ_d(ω + a e₁)] ≥ 0, so C(f) = E‖ω‖ for
    ω ~ N(a e₁, I_d): the mean of the folded normal (d = 1) or of the Rice
    distribution (d = 2) with parameter a.
    """
    if d == 1:
        return float(stats.foldnorm(frequency).mean())
    if d == 2:
        return float(stats.rice(frequency).mean())
    raise ValueError(f"d must be 1 or 2, got {d!r}")


def ball_samples(n, d, radius, rng):
    """n points uniform on the d-dimensional ball of the given radius."""
    U = rng.standard_normal((n, d))
    U /= np.linalg.norm(U, axis=1, keepdims=True)
    return U * (radius * rng.uniform(size=(n, 1)) ** (1.0 / d))


def fit_units(obj, units, rng, *, activation="tanh", max_iter=400, n_starts=2, method="lbfgs"):
    """Least-squares fits with each number of hidden units; the best of a warm and random starts.

    ``obj`` gives the data (its net is ignored). For each n the warm start
    is the previous fit with its hidden units kept and n − n_prev new
    random units whose output weights are zero (so it starts at the
    previous loss); ``n_starts`` fresh random starts are added, and the fit
    with the lowest training loss is kept. Returns one θ per n.
    """
    fits, prev = [], None
    for n in units:
        o = _objective(obj, n, activation)
        starts = [o.net.init(rng, scheme="normal") for _ in range(n_starts)]
        if prev is not None:
            starts.append(_grow(prev, obj.net.d_in, n, rng))
        results = [minimize(o, t, method, max_iter=max_iter, gtol=1e-10) for t in starts]
        prev = min(results, key=lambda res: res.fun).x
        fits.append(prev)
    return fits


def _net(d, n, activation):
    return Sequential([Dense(d, n, activation), Dense(n, 1)])


def _objective(obj, n, activation):
    return Objective(_net(obj.net.d_in, n, activation), obj.loss, obj.X, obj.Y)


def _grow(theta, d, n, rng):
    """Embed an m-unit θ into n units: new units random inside, zero outgoing weights."""
    m = (theta.size - 1) // (d + 2)
    small, big = _net(d, m, "identity").unpack(theta), _net(d, n, "identity")
    new = big.init(rng, scheme="normal")
    p = big.unpack(new)
    p[0]["W"][:, :m], p[0]["b"][:m] = small[0]["W"], small[0]["b"]
    p[1]["W"][:m], p[1]["W"][m:], p[1]["b"][...] = small[1]["W"], 0.0, small[1]["b"]
    return new


def _table(numbers, dims):
    head = f"{'n':>4} " + " ".join(f"{f'error {d}-D':>11} {f'bound {d}-D':>11}" for d in dims)
    lines = [head]
    for i, n in enumerate(numbers["units"]):
        lines.append(
            f"{n:>4} "
            + " ".join(
                f"{numbers[f'errors_{d}d'][i]:>11.3e} {numbers[f'bound_{d}d'][i]:>11.3e}"
                for d in dims
            )
        )
    lines.append(
        "fitted rate (slope of log error vs log n): "
        + ", ".join(f"{d}-D {numbers[f'rate_{d}d']:.2f}" for d in dims)
        + "  (bound: -1)"
    )
    return "\n".join(lines)


def _figure(numbers, dims, curves, activation):
    from ..plots import new_figure

    fig, axes = new_figure(2, width=4.2, height=3.3)
    ax, n = axes[0, 0], np.array(numbers["units"])
    for i, d in enumerate(dims):
        err = np.array(numbers[f"errors_{d}d"])
        ax.loglog(n, err, "o-", color=f"C{i}", label=f"{d}-D, slope {numbers[f'rate_{d}d']:.2f}")
        ax.loglog(
            n, numbers[f"bound_{d}d"], "--", color=f"C{i}", lw=0.8, label=f"{d}-D bound 4r²C²/n"
        )
    ax.set(xlabel="hidden units n", ylabel="∫ (f − fₙ)² dμ", title="approximation error")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    if 1 in curves:
        Xt, ft, theta = curves[1]
        order = np.argsort(Xt[:, 0])
        fn = _net(1, n[-1], activation).predict(theta, Xt)[:, 0]
        ax.plot(Xt[order, 0], ft[order], "k", lw=2, label="f")
        ax.plot(Xt[order, 0], fn[order], "C1--", label=f"f_n, n={n[-1]}")
        ax.set(xlabel="x", title="1-D fit")
        ax.legend(fontsize=8)
    return fig
