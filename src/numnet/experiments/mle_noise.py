"""Maximum likelihood of the noise precision β for regression networks (notes 004).

Synthetic targets t = f(x) + ε with ε ~ N(0, β⁻¹ I_K) and a known β are fitted
by least squares (the maximum-likelihood w, which does not depend on β); then
β_ML = N K / Σ_n ‖y(x_n, w_ML) − t_n‖². With a perfect fit, β Σ ‖ε_n‖² is
χ² with N K degrees of freedom, so β_ML / β = N K / χ²_{NK}: the estimate
matches β within a few standard errors β √(2 / (N K)). Fresh noise draws
(replicates) show the spread.
"""

import numpy as np
from scipy import stats

from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..optim import minimize
from . import ExperimentResult
from ._params import Float, Int, Training, experiment

__all__ = ["mle_noise_experiment", "beta_ml", "beta_interval", "regression_data"]

NAME = "mle-noise"
HELP = "Maximum likelihood noise precision beta for 1-D and K-dimensional regression (notes 004)."


#: Parameters of the 1-D network 1 → 8 → 1: with at most this many samples the fit can interpolate the
#: noise and β_ML is infinite.
_W_1D = 8 * (1 + 2) + 1


def _needs(p):
    return [
        Training(
            Sequential([Dense(2, 8, "tanh"), Dense(8, 3)]), p["n_samples"], "lbfgs", ("n_samples",)
        )
    ]


@experiment(
    NAME,
    HELP,
    needs=_needs,
    beta=Float(
        1e-100, 1e100, why="noise std β^-1/2 finite in float64", help="true noise precision β"
    ),
    n_samples=Int(
        _W_1D + 1, why=f"more than the {_W_1D} parameters of the 1-D fit", help="samples N"
    ),
    n_replicates=Int(1, help="fresh noise draws per case"),
)
def mle_noise_experiment(
    *,
    seed=0,
    beta=25.0,
    n_samples=1000,
    n_outputs=3,
    n_hidden=8,
    n_replicates=10,
    max_iter=1000,
    n_sigma=3.0,
    plot=True,
):
    """Estimate β for a 1-D (K = 1) and a K-dimensional regression network.

    Parameters
    ----------
    seed : int
    beta : float, default=25.0
        True noise precision (noise standard deviation β^(−1/2)).
    n_samples : int, default=1000
        N.
    n_outputs : int, default=3
        K of the multi-output case.
    n_hidden : int, default=8
        Hidden tanh units of the fitted networks.
    n_replicates : int, default=10
        Noise draws per case (the first one is the headline estimate).
    max_iter : int, default=1000
        L-BFGS iterations per fit (each draw starts from the previous fit).
    n_sigma : float, default=3.0
        Width of the acceptance interval, in standard deviations.
    plot : bool, default=True
        Draw ``mle_noise.png``.

    Returns
    -------
    ExperimentResult
        numbers for case c in {"1d", "kd"}: ``beta_ml_<c>`` (first draw),
        ``z_<c>`` ((β_ML − β)/(β √(2/(NK)))), ``interval_<c>`` (the χ²
        interval of β_ML), ``within_<c>``, ``replicates_<c>`` (β_ML of every
        draw), ``replicate_mean_<c>``, ``replicate_std_<c>`` next to
        ``predicted_std_<c>`` = β √(2/(NK)), and ``beta_corrected_<c>`` =
        β_ML (1 − W/(NK)), the degrees-of-freedom correction for the W
        fitted parameters (exact for linear least squares; β_ML itself is
        biased upwards by about W/(NK) because the fit also absorbs noise).
    """
    if not beta > 0:
        raise ValueError(f"beta must be positive, got {beta!r}")
    rng = np.random.default_rng(seed)
    numbers, keep = {"beta": beta, "n_samples": n_samples}, {}
    for case, K, d in (("1d", 1, 1), ("kd", n_outputs, 2)):
        X, F = regression_data(n_samples, d, K, rng)
        est, corrected, theta, obj = [], [], None, None
        for _ in range(n_replicates):
            T = F + rng.standard_normal(F.shape) / np.sqrt(beta)
            obj = Objective(
                Sequential([Dense(d, n_hidden, "tanh"), Dense(n_hidden, K)]), "squared_error", X, T
            )
            theta = minimize(
                obj,
                obj.net.init(rng) if theta is None else theta,
                "lbfgs",
                max_iter=max_iter,
                gtol=1e-8,
                ftol=1e-13,
            ).x
            est.append(beta_ml(obj, theta))
            corrected.append(est[-1] * (1 - obj.n_params / (n_samples * K)))
            if len(est) == 1:
                keep[case] = (obj, theta)
        numbers.update(_case_numbers(case, est, beta, n_samples * K, n_sigma))
        numbers[f"beta_corrected_{case}"] = corrected[0]
    figures = {"mle_noise.png": _figure(numbers, keep, beta)} if plot else {}
    return ExperimentResult(NAME, numbers, figures, _table(numbers))


def regression_data(n_samples, d, K, rng):
    """Inputs x uniform on [−2, 2]^d and noise-free targets f(x) of K smooth functions."""
    X = rng.uniform(-2, 2, size=(n_samples, d))
    s = X.sum(axis=1)
    funcs = [np.sin(s), np.cos(X[:, 0] - X[:, -1]) / 2, np.tanh(X[:, 0] - X[:, -1])]
    if K > len(funcs):
        raise ValueError(f"K must be at most {len(funcs)}, got {K!r}")
    return X, np.stack(funcs[:K], axis=1)


def beta_ml(obj, theta):
    """β_ML = N K / Σ_n ‖y(x_n, w) − t_n‖² (notes 004).

    Notes
    -----
    Note 004: 1/β_ML = (1/(N K)) Σ_n ‖y(x_n, w_ML) − t_n‖². The library's
    least-squares loss is E = (1/N) Σ_n ½‖y_n − t_n‖², so β_ML = K / (2E).
    """
    return obj.net.d_out / (2.0 * obj.loss.value(obj.predict(theta), obj.Y))


def beta_interval(beta, dof, n_sigma=3.0):
    """Central interval of β_ML = β · dof / χ²_dof with the coverage of ±n_sigma of a normal."""
    tail = stats.norm.sf(n_sigma)
    return (beta * dof / stats.chi2.isf(tail, dof), beta * dof / stats.chi2.ppf(tail, dof))


def _case_numbers(case, est, beta, dof, n_sigma):
    lo, hi = beta_interval(beta, dof, n_sigma)
    se = beta * np.sqrt(2.0 / dof)
    return {
        f"beta_ml_{case}": est[0],
        f"z_{case}": (est[0] - beta) / se,
        f"interval_{case}": [lo, hi],
        f"within_{case}": bool(lo <= est[0] <= hi),
        f"replicates_{case}": est,
        f"replicate_mean_{case}": float(np.mean(est)),
        f"replicate_std_{case}": float(np.std(est, ddof=1)) if len(est) > 1 else float("nan"),
        f"predicted_std_{case}": float(se),
        f"dof_{case}": dof,
    }


def _table(numbers):
    lines = [
        f"true beta = {numbers['beta']:g}, N = {numbers['n_samples']}",
        f"{'case':<6} {'beta_ML':>9} {'z':>6} {'3-sigma interval':>21} "
        f"{'mean ± std over draws':>24} {'predicted std':>13}",
    ]
    for case in ("1d", "kd"):
        lo, hi = numbers[f"interval_{case}"]
        lines.append(
            f"{case:<6} {numbers[f'beta_ml_{case}']:>9.3f} {numbers[f'z_{case}']:>6.2f} "
            f"{f'[{lo:.2f}, {hi:.2f}]':>21} "
            f"{numbers[f'replicate_mean_{case}']:>14.3f} ± {numbers[f'replicate_std_{case}']:<7.3f} "
            f"{numbers[f'predicted_std_{case}']:>13.3f}"
        )
    return "\n".join(lines)


def _figure(numbers, keep, beta):
    from ..plots import new_figure

    fig, axes = new_figure(2, width=4.2, height=3.3)
    ax = axes[0, 0]
    for i, case in enumerate(("1d", "kd")):
        dof, est = numbers[f"dof_{case}"], np.array(numbers[f"replicates_{case}"]) / beta
        grid = np.linspace(0.8, 1.2, 400)
        # density of β_ML/β = dof/χ²_dof at r: χ²-density(dof/r) · dof/r²
        ax.plot(
            grid,
            stats.chi2.pdf(dof / grid, dof) * dof / grid**2,
            color=f"C{i}",
            label=f"theory {case}",
        )
        ax.plot(
            est,
            np.full(est.size, -1.5 - 2.5 * i),
            "|",
            ms=12,
            mew=1.5,
            color=f"C{i}",
            label=f"{len(est)} draws {case}",
        )
    ax.axvline(1.0, color="k", lw=0.8)
    ax.set(xlabel="β_ML / β", ylabel="density", title="spread of the estimate")
    ax.legend(fontsize=7)
    ax = axes[0, 1]
    obj, theta = keep["1d"]
    sq = 2 * obj.n_samples * obj.loss.value(obj.predict(theta), obj.Y)
    b = np.linspace(0.5 * beta, 1.5 * beta, 300)
    nll = 0.5 * b * sq - 0.5 * obj.n_samples * np.log(b / (2 * np.pi))
    ax.plot(b, nll, "C0")
    ax.axvline(
        numbers["beta_ml_1d"], color="C3", ls="--", label=f"β_ML = {numbers['beta_ml_1d']:.2f}"
    )
    ax.axvline(beta, color="k", lw=0.8, label=f"true β = {beta:g}")
    ax.set(xlabel="β", ylabel="−ln p(t | x, w_ML, β)", title="1-D: likelihood in β")
    ax.legend(fontsize=8)
    return fig
