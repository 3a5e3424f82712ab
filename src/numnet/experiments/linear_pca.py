"""Linear two-layer autoencoder and PCA: no spurious local minima (notes 001, Baldi–Hornik).

The network X ↦ X W₁ W₂ (n_features → p → n_features, no biases, identity
activations) is trained on centered data with the mean squared error from
several random starts by a second-order method to a tight tolerance. Every
run ends at a global minimum: the learned p-dimensional subspace is the span
of the top-p principal directions (largest principal angle ~1e-9) and the
loss equals the PCA optimum ½ Σ_{i>p} λ_i. The other critical points of
Lemma 12.5 are saddles; the experiment builds one and shows its negative
Hessian eigenvalue.
"""

import numpy as np
from scipy.linalg import subspace_angles

from ..curvature import hessian_dense
from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..optim import minimize
from . import ExperimentResult
from ._params import Int, Memory, ParameterError, experiment

__all__ = ["linear_pca_experiment", "pca_data", "autoencoder_objective", "pca_subspace"]

NAME = "linear-pca"
HELP = "Linear two-layer autoencoder = PCA: every random start reaches the PCA subspace (notes 001, Baldi-Hornik)."


def _checks(p):
    """p < n_f (the saddle uses the (p+1)-th eigenvector), n > n_f (full-rank centered data: a unique
    PCA subspace and W₁ determined)."""
    if p["n_components"] >= p["n_features"]:
        raise ParameterError(
            f"n_components {p['n_components']} must be smaller than n_features "
            f"{p['n_features']}: a bottleneck, and the saddle needs the next eigenvector",
            "n_components",
            "n_features",
        )
    if p["n_samples"] <= p["n_features"]:
        raise ParameterError(
            f"n_samples {p['n_samples']} must exceed n_features {p['n_features']}: with "
            "fewer rows the centered data are rank-deficient and the minimum is not unique",
            "n_samples",
            "n_features",
        )


def _needs(p):
    """The dense Hessians of the 2 n_f p parameters."""
    w = 2 * p["n_features"] * p["n_components"]
    return [
        Memory(8 * 3 * w * w, ("n_features", "n_components"), f"dense Hessians of {w:,} parameters")
    ]


@experiment(
    NAME,
    HELP,
    checks=_checks,
    needs=_needs,
    n_features=Int(2, why="one more than the bottleneck at least", help="input width n_f"),
    n_components=Int(1, help="bottleneck width p, below --n-features"),
    n_samples=Int(3, help="samples, more than --n-features"),
    n_starts=Int(1, help="random starts"),
)
def linear_pca_experiment(
    *,
    seed=0,
    n_features=8,
    n_components=3,
    n_samples=500,
    n_starts=8,
    method="newton-cg",
    gtol=1e-11,
    max_iter=300,
    plot=True,
):
    """Train the linear autoencoder from random starts and compare it with PCA.

    Parameters
    ----------
    seed : int
        Seed of the data and the starts.
    n_features, n_components, n_samples : int, default=8, 3, 500
        n_f, p and n.
    n_starts : int, default=8
        Random starts (``net.init`` with the "normal" scheme).
    method : str, default="newton-cg"
        A second-order method of :func:`numnet.optim.minimize`.
    gtol : float, default=1e-11
        Gradient-norm tolerance.
    max_iter : int, default=300
    plot : bool, default=True
        Draw ``linear_pca.png``.

    Returns
    -------
    ExperimentResult
        numbers: ``max_angle`` (largest principal angle per start, radians),
        ``loss_excess`` (final loss minus the PCA optimum, per start),
        ``pca_optimal_loss``, ``spurious_minima`` (starts that stopped away
        from the PCA subspace), ``min_hessian_eig`` (per start),
        ``saddle_loss_excess`` and ``saddle_min_hessian_eig``.

    Notes
    -----
    Notes 001, Theorem 12.3 and Lemma 12.5, in code notation: the notes'
    f(A, B) = Σ_i ‖x_i − A B x_i‖² with samples in columns is here
    E = (1/2n) ‖X − X W₁ W₂‖_F², W₁ = Bᵀ (n_f × p), W₂ = Aᵀ (p × n_f). With
    Σ = XᵀX/n = U Λ Uᵀ (λ₁ > … > λ_{n_f}), every minimum has
    W₁ W₂ = U_p U_pᵀ and E = ½ Σ_{i>p} λ_i; the learned subspace is
    range(W₂ᵀ) (= range(A)). A critical point with eigenvector set
    J ≠ {1, …, p}, W₁ = U_J, W₂ = U_Jᵀ, is a saddle.
    """
    rng = np.random.default_rng(seed)
    X = pca_data(n_samples, n_features, rng)
    obj = autoencoder_objective(X, n_components)
    lam, U = pca_subspace(X)
    optimum = 0.5 * float(lam[n_components:].sum())
    runs = [
        _train(obj, obj.net.init(rng, scheme="normal"), method, gtol, max_iter)
        for _ in range(n_starts)
    ]
    stats = [_assess(obj, res.x, U[:, :n_components], optimum) for res in runs]
    saddle = _saddle(obj, U, n_components, optimum)
    numbers = {
        "n_features": n_features,
        "n_components": n_components,
        "n_starts": n_starts,
        "eigenvalues": lam,
        "pca_optimal_loss": optimum,
        "max_angle": [s["angle"] for s in stats],
        "loss_excess": [s["excess"] for s in stats],
        "min_hessian_eig": [s["min_eig"] for s in stats],
        "iterations": [r.nit for r in runs],
        "worst_angle": max(s["angle"] for s in stats),
        "worst_loss_excess": max(abs(s["excess"]) for s in stats),
        "spurious_minima": sum(s["angle"] > 1e-6 for s in stats),
        "saddle_loss_excess": saddle["excess"],
        "saddle_min_hessian_eig": saddle["min_eig"],
    }
    figures = {"linear_pca.png": _figure(runs, optimum, stats[0], saddle)} if plot else {}
    return ExperimentResult(NAME, numbers, figures, _table(numbers))


def pca_data(n_samples, n_features, rng, decay=0.7):
    """Centered Gaussian data with covariance spectrum decay^k in a random orthonormal basis."""
    Q = np.linalg.qr(rng.standard_normal((n_features, n_features)))[0]
    X = rng.standard_normal((n_samples, n_features)) * decay ** (0.5 * np.arange(n_features)) @ Q.T
    return X - X.mean(axis=0)


def autoencoder_objective(X, n_components):
    """E = (1/2n)‖X − X W₁ W₂‖² for the linear net n_f → p → n_f without biases."""
    n_f = X.shape[1]
    net = Sequential([Dense(n_f, n_components, bias=False), Dense(n_components, n_f, bias=False)])
    return Objective(net, "squared_error", X, X)


def pca_subspace(X):
    """Eigenvalues (descending) and eigenvectors (columns) of XᵀX / n."""
    lam, U = np.linalg.eigh(X.T @ X / X.shape[0])
    return lam[::-1], U[:, ::-1]


def _train(obj, theta0, method, gtol, max_iter):
    return minimize(obj, theta0, method, max_iter=max_iter, gtol=gtol)


def _assess(obj, theta, Up, optimum):
    W1, W2 = (p["W"] for p in obj.net.unpack(theta))
    angle = max(subspace_angles(W2.T, Up).max(), subspace_angles(W1, Up).max())
    eigs = np.linalg.eigvalsh(_symmetric(hessian_dense(obj, theta)))
    return {
        "angle": float(angle),
        "excess": float(obj.value(theta)) - optimum,
        "min_eig": float(eigs[0]),
        "eigs": eigs,
    }


def _saddle(obj, U, p, optimum):
    """The critical point of Lemma 12.5 with J = {1, …, p−1, p+1}: W₁ = U_J, W₂ = U_Jᵀ."""
    UJ = U[:, list(range(p - 1)) + [p]]
    theta = np.concatenate([UJ.ravel(), UJ.T.ravel()])
    eigs = np.linalg.eigvalsh(_symmetric(hessian_dense(obj, theta)))
    return {
        "excess": float(obj.value(theta)) - optimum,
        "min_eig": float(eigs[0]),
        "eigs": eigs,
        "grad_norm": float(np.linalg.norm(obj.grad(theta))),
    }


def _symmetric(H):
    return 0.5 * (H + H.T)


def _table(numbers):
    lines = [
        f"{'start':>5} {'largest angle':>14} {'loss - PCA optimum':>19} {'min eig(H)':>11} {'iterations':>10}"
    ]
    for i, (a, e, m, k) in enumerate(
        zip(
            numbers["max_angle"],
            numbers["loss_excess"],
            numbers["min_hessian_eig"],
            numbers["iterations"],
        )
    ):
        lines.append(f"{i:>5} {a:>14.2e} {e:>19.2e} {m:>11.2e} {k:>10}")
    lines.append(
        f"saddle J={{1..p-1, p+1}}: loss - optimum {numbers['saddle_loss_excess']:.3g}, "
        f"min eig(H) {numbers['saddle_min_hessian_eig']:.3g}"
    )
    return "\n".join(lines)


def _figure(runs, optimum, stat, saddle):
    from ..plots import new_figure

    fig, axes = new_figure(2, width=4.2, height=3.3)
    ax = axes[0, 0]
    for res in runs:
        f = np.array([h["fun"] for h in res.history]) - optimum
        ax.semilogy(np.arange(1, f.size + 1), np.maximum(f, 1e-17), lw=1)
    ax.axhline(saddle["excess"], color="k", ls="--", lw=0.8, label="saddle J={1..p-1,p+1}")
    ax.set(xlabel="iteration", ylabel="loss − PCA optimum", title=f"{len(runs)} random starts")
    ax.legend(fontsize=8)
    ax = axes[0, 1]
    ax.plot(stat["eigs"], "o", ms=4, label="at a learned minimum")
    ax.plot(saddle["eigs"], "x", ms=5, label="at the saddle")
    ax.set_yscale("symlog", linthresh=1e-3)
    ax.axhline(0, color="k", lw=0.5)
    ax.set(xlabel="index", ylabel="Hessian eigenvalue", title="Hessian spectra")
    ax.legend(fontsize=8)
    return fig
