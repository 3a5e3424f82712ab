"""Baldi–Hornik beyond the autoencoder: every critical point of a linear two-layer net, classified (notes 001).

Theorem 12.3 and Lemmas 12.4–12.5 of notes 001 for general data, Y ≠ X: the
two-layer linear network x ↦ A B x fitted by least squares has, when Σ_XX is
invertible and Σ = Σ_YX Σ_XX⁻¹ Σ_XY has distinct eigenvalues λ₁ > … > λ_d > 0,
one critical point (up to an invertible C) for each index set 𝒥 ⊂ {1..d_y}
with |𝒥| ≤ p, and all of them are saddles except 𝒥 = {1..p}, the global
minimum. The experiment builds every one, checks that the gradient
vanishes, computes its Hessian eigenvalues with numnet's exact Hessian
(the R-operator, :func:`~numnet.curvature.hessian_dense`), and trains the
network from random starts, which all end at the global minimum.
"""

import itertools
import time

import numpy as np
from scipy.linalg import subspace_angles

from ..curvature import hessian_dense
from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..optim import minimize
from . import ExperimentResult
from ._params import Int, ParameterError, experiment

__all__ = ["baldi_hornik_experiment", "regression_data", "critical_point", "sigma_matrices"]

NAME = "baldi-hornik"
HELP = (
    "Linear two-layer net, Y != X: every critical point by index set, saddles except J = {1..p}; random starts "
    "reach the global minimum (notes 001)."
)

#: Largest d_y on the command line: 2^d_y index sets are built, each with a dense Hessian.
MAX_OUTPUTS = 12


def _checks(p):
    if not p["n_components"] < p["n_outputs"] or p["n_components"] > p["n_inputs"]:
        raise ParameterError(
            f"n_components {p['n_components']} must be below n_outputs {p['n_outputs']} and at "
            f"most n_inputs {p['n_inputs']} (a bottleneck)",
            "n_components",
            "n_outputs",
            "n_inputs",
        )
    if p["n_samples"] <= p["n_inputs"]:
        raise ParameterError(
            f"n_samples {p['n_samples']} must exceed n_inputs {p['n_inputs']}: Σ_XX must be "
            "invertible",
            "n_samples",
            "n_inputs",
        )


def regression_data(n_samples, n_inputs, n_outputs, rng, noise=0.3):
    """X with a random covariance and Y = X M + noise (samples as rows): Y ≠ X, generic Σ."""
    L = rng.standard_normal((n_inputs, n_inputs)) / np.sqrt(n_inputs)
    X = rng.standard_normal((n_samples, n_inputs)) @ (L + np.eye(n_inputs))
    M = rng.standard_normal((n_inputs, n_outputs))
    return X, X @ M + noise * rng.standard_normal((n_samples, n_outputs))


def sigma_matrices(X, Y):
    """Σ_XX = XᵀX/n, Σ_XY = XᵀY/n, Σ_YY, and the eigenpairs (descending) of Σ = Σ_YX Σ_XX⁻¹ Σ_XY."""
    n = X.shape[0]
    Sxx, Sxy, Syy = X.T @ X / n, X.T @ Y / n, Y.T @ Y / n
    lam, U = np.linalg.eigh(Sxy.T @ np.linalg.solve(Sxx, Sxy))
    return Sxx, Sxy, Syy, lam[::-1], U[:, ::-1]


def critical_point(Sxx, Sxy, U, J, p):
    """θ = (W₁, W₂) of Lemma 12.5 with C = I and L = 0: W₁ = [Σ_XX⁻¹ Σ_XY U_𝒥, 0], W₂ = [U_𝒥ᵀ; 0].

    In the notes' notation A = [U_𝒥, 0] (W₂ = Aᵀ) and B = [U_𝒥ᵀ Σ_YX Σ_XX⁻¹; 0] (W₁ = Bᵀ).
    """
    d_x, d_y = Sxy.shape
    W1, W2 = np.zeros((d_x, p)), np.zeros((p, d_y))
    UJ = U[:, list(J)]
    W1[:, : len(J)] = np.linalg.solve(Sxx, Sxy @ UJ)
    W2[: len(J), :] = UJ.T
    return np.concatenate([W1.ravel(), W2.ravel()])


def _network(d_x, p, d_y):
    return Sequential([Dense(d_x, p, bias=False), Dense(p, d_y, bias=False)])


def _classify(obj, theta, J, p, optimum, tol):
    H = hessian_dense(obj, theta)
    eigs = np.linalg.eigvalsh(0.5 * (H + H.T))
    scale = max(abs(eigs[-1]), np.finfo(float).tiny)
    return {
        "J": tuple(int(j) + 1 for j in J),
        "rank": len(J),
        "excess": float(obj.value(theta)) - optimum,
        "grad_norm": float(np.linalg.norm(obj.grad(theta))),
        "min_eig": float(eigs[0]),
        "saddle": bool(eigs[0] < -tol * scale),
        "global": tuple(J) == tuple(range(p)),
        "n_zero": int(np.sum(np.abs(eigs) <= tol * scale)),
    }


@experiment(
    NAME,
    HELP,
    checks=_checks,
    n_inputs=Int(1, 200, help="d_x"),
    n_outputs=Int(2, MAX_OUTPUTS, why="2^d_y index sets are enumerated", help="d_y"),
    n_components=Int(1, help="bottleneck p, below --n-outputs and at most --n-inputs"),
    n_samples=Int(2, 10**6, help="samples, more than --n-inputs"),
    n_starts=Int(1, 1000, help="random starts"),
)
def baldi_hornik_experiment(
    *,
    seed=0,
    n_inputs=8,
    n_outputs=6,
    n_components=3,
    n_samples=400,
    n_starts=10,
    method="trust-ncg",
    gtol=1e-11,
    max_iter=300,
    tol=1e-9,
    plot=True,
):
    """Enumerate and classify the critical points; train from random starts.

    Parameters
    ----------
    seed : int
    n_inputs, n_outputs, n_components, n_samples : int, default=8, 6, 3, 400
        d_x, d_y, p (< d_y, ≤ d_x) and n.
    n_starts : int, default=10
        Random starts (``net.init`` with the "normal" scheme).
    method : str, default="trust-ncg"
        Training method (it uses negative curvature, so it leaves saddles).
    gtol : float, default=1e-11
    max_iter : int, default=300
    tol : float, default=1e-9
        Eigenvalues below −tol·λ_max make a saddle; |λ| ≤ tol·λ_max count as zero.
    plot : bool, default=True
        Draw ``baldi_hornik.png``.

    Returns
    -------
    ExperimentResult
        numbers: ``eigenvalues`` (of Σ), ``min_gap`` (smallest λ_i − λ_{i+1}),
        ``n_critical`` (= Σ_{r ≤ p} C(d_y, r)), ``n_saddles``, ``n_minima``,
        ``global_is_minimum``, ``max_grad_norm`` and ``max_value_error``
        (loss against ½(tr Σ_YY − Σ_{i∈𝒥} λ_i)) over the critical points,
        ``zero_eigs_at_global`` (= p², the invariance AB = (AC)(C⁻¹B)),
        per start ``start_excess`` and ``start_angle`` (largest principal
        angle between range(W₂ᵀ) and U_p), ``n_global`` (starts ending at
        the global minimum).

    Notes
    -----
    Code notation: E = (1/2n)‖Y − X W₁ W₂‖_F², W₁ = Bᵀ (d_x × p), W₂ = Aᵀ
    (p × d_y). With Σ = U Λ Uᵀ, at the critical point of 𝒥 the product is
    W₁ W₂ = Σ_XX⁻¹ Σ_XY U_𝒥 U_𝒥ᵀ and E = ½(tr Σ_YY − Σ_{i∈𝒥} λ_i): the
    minimum ½(tr Σ_YY − Σ_{i≤p} λ_i) is reached only for 𝒥 = {1..p}.
    """
    rng = np.random.default_rng(seed)
    X, Y = regression_data(n_samples, n_inputs, n_outputs, rng)
    Sxx, Sxy, Syy, lam, U = sigma_matrices(X, Y)
    obj = Objective(_network(n_inputs, n_components, n_outputs), "squared_error", X, Y)
    optimum = 0.5 * float(np.trace(Syy) - lam[:n_components].sum())
    t0 = time.perf_counter()
    points = [
        _classify(obj, critical_point(Sxx, Sxy, U, J, n_components), J, n_components, optimum, tol)
        for r in range(n_components + 1)
        for J in itertools.combinations(range(n_outputs), r)
    ]
    t_points = time.perf_counter() - t0
    starts = [
        _train(obj, U[:, :n_components], optimum, rng, method, gtol, max_iter)
        for _ in range(n_starts)
    ]
    glob = next(p for p in points if p["global"])
    numbers = {
        "eigenvalues": lam,
        "min_gap": float(np.min(-np.diff(lam))),
        "optimum": optimum,
        "n_critical": len(points),
        "n_saddles": sum(p["saddle"] for p in points),
        "n_minima": sum(not p["saddle"] for p in points),
        "global_is_minimum": not glob["saddle"],
        "max_grad_norm": max(p["grad_norm"] for p in points),
        "max_value_error": max(
            abs(
                p["excess"]
                - 0.5 * float(lam[:n_components].sum() - lam[list(np.array(p["J"], int) - 1)].sum())
            )
            for p in points
        ),
        "zero_eigs_at_global": glob["n_zero"],
        "global_min_eig": glob["min_eig"],
        "start_excess": [s["excess"] for s in starts],
        "start_angle": [s["angle"] for s in starts],
        "n_global": sum(
            s["excess"] < 1e-9 * max(1.0, optimum) and s["angle"] < 1e-6 for s in starts
        ),
        "n_starts": n_starts,
        "critical_points": points,
        "seconds_critical": t_points,
    }
    figures = {"baldi_hornik.png": _figure(points, starts)} if plot else {}
    return ExperimentResult(NAME.replace("-", "_"), numbers, figures, _table(numbers))


def _train(obj, Up, optimum, rng, method, gtol, max_iter):
    res = minimize(obj, obj.net.init(rng, scheme="normal"), method, max_iter=max_iter, gtol=gtol)
    W2 = obj.net.unpack(res.x)[1]["W"]
    return {
        "excess": float(res.fun) - optimum,
        "angle": float(subspace_angles(W2.T, Up).max()),
        "curve": np.array([h["fun"] for h in res.history]) - optimum,
        "nit": res.nit,
    }


def _table(nb):
    lines = [f"{'J':>14} {'loss - optimum':>15} {'min eig(H)':>11} {'|grad|':>9}  kind"]
    for p in nb["critical_points"]:
        kind = "global minimum" if p["global"] else ("saddle" if p["saddle"] else "MINIMUM?")
        lines.append(
            f"{str(set(p['J']) or '{}'):>14} {p['excess']:>15.4g} {p['min_eig']:>11.3g} "
            f"{p['grad_norm']:>9.1e}  {kind}"
        )
    lines.append(
        f"{nb['n_critical']} critical points: {nb['n_saddles']} saddles, {nb['n_minima']} minimum; "
        f"{nb['n_global']}/{nb['n_starts']} random starts reach the global minimum "
        f"(worst excess {max(nb['start_excess']):.2e}, worst angle {max(nb['start_angle']):.2e})"
    )
    return "\n".join(lines)


def _figure(points, starts):
    from ..plots import new_figure

    fig, axes = new_figure(2, width=4.2, height=3.4)
    ax = axes[0, 0]
    for r, marker in zip(sorted({p["rank"] for p in points}), "os^vDP"):
        sel = [p for p in points if p["rank"] == r]
        ax.plot(
            [p["excess"] for p in sel],
            [p["min_eig"] for p in sel],
            marker,
            ms=6,
            mfc="none",
            label=f"|J| = {r}",
        )
    glob = next(p for p in points if p["global"])
    ax.plot(glob["excess"], glob["min_eig"], "k*", ms=12, label="J = {1..p}")
    ax.axhline(0, color="k", lw=0.5)
    ax.set(
        xlabel="loss − optimum", ylabel="smallest Hessian eigenvalue", title="critical points by J"
    )
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    for s in starts:
        ax.semilogy(np.arange(1, s["curve"].size + 1), np.maximum(s["curve"], 1e-16), lw=1)
    ax.set(xlabel="iteration", ylabel="loss − optimum", title=f"{len(starts)} random starts")
    return fig
