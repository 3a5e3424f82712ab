"""The inverse crime (notes 000): recover a planted single layer up to its symmetries.

Data come from the planted model C = softmax(W σ(K Y + b)) (notes 000, "Test
problem"; here Y = softmax(tanh(X W₁ + b₁) W₂) with W₁ = Kᵀ, W₂ = Wᵀ,
:func:`numnet.datasets.planted_softmax`). Fitting the same architecture by
Gauss-Newton can drive the misfit to zero, but the recovered parameters
equal the true ones only up to the weight-space symmetries of note 004:

- permutation of the hidden units: (W₁[:, j], b₁[j], W₂[j, :]) may be reordered;
- sign flips for odd σ: tanh(−a)(−v) = tanh(a) v, so a unit's
  (W₁[:, j], b₁[j], W₂[j, :]) may change sign together;
- the softmax shift: softmax(F + u 1ᵀ) = softmax(F) for any column u, so
  adding a constant to each row of W₂ (F = Z W₂) changes nothing; rows of W₂
  are compared after subtracting their mean over classes.

:func:`align` finds the permutation and the signs with the Hungarian
algorithm (``scipy.optimize.linear_sum_assignment``) on the distances
between units, and the parameter error is measured after alignment.
"""

from typing import NamedTuple

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..datasets import planted_softmax
from ..layers import Dense
from ..losses import softmax
from ..network import Sequential
from ..objective import Objective
from ..plots import new_figure
from . import ExperimentResult
from ._params import Choice, Int, Methods, Training, deprecated_alias, experiment

__all__ = [
    "inverse_crime_experiment",
    "Alignment",
    "align",
    "unit_matrix",
    "Planted",
    "planted_problem",
    "recovery_errors",
    "fresh_excess",
    "floor_evidence",
]

NAME = "inverse-crime"
HELP = "fit the planted softmax model of notes 000 and align the parameters up to symmetries"


def _needs(p):
    net = Sequential([Dense(p["n_features"], p["n_hidden"]), Dense(p["n_hidden"], p["n_classes"])])
    return [
        Training(
            net, p["n_samples"], p["method"], ("n_samples", "n_features", "n_hidden", "n_classes")
        )
    ]


class Alignment(NamedTuple):
    """Recovered parameters mapped onto the true ones: ``perm[i]`` is the unit matched to true unit i."""

    perm: np.ndarray
    signs: np.ndarray
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray


def unit_matrix(W1, b1, W2):
    """One row per hidden unit j: [W₁[:, j], b₁[j], W₂[j, :] − mean(W₂[j, :])]."""
    W2c = W2 - W2.mean(axis=1, keepdims=True)
    return np.hstack([W1.T, b1[:, None], W2c])


def align(W1, b1, W2, W1_true, b1_true, W2_true, *, odd=True):
    """Permute (and, for odd σ, flip) the hidden units of (W₁, b₁, W₂) to best match the truth.

    Parameters
    ----------
    W1, b1, W2 : ndarray
        Recovered hidden weights (n_f, m), biases (m,), output weights (m, n_c).
    W1_true, b1_true, W2_true : ndarray
        The planted ones.
    odd : bool, default=True
        Whether σ is odd (tanh, sin: sign flips are symmetries).

    Returns
    -------
    Alignment
        The matching and the aligned parameters; W2 is centered (softmax shift removed).
    """
    U, T = unit_matrix(W1, b1, W2), unit_matrix(W1_true, b1_true, W2_true)
    sq = lambda A, B: ((A[:, None, :] - B[None, :, :]) ** 2).sum(axis=2)  # noqa: E731
    same, flipped = sq(T, U), sq(T, -U)
    cost = np.minimum(same, flipped) if odd else same
    rows, perm = linear_sum_assignment(cost)
    signs = np.where(odd & (flipped[rows, perm] < same[rows, perm]), -1.0, 1.0)
    A = U[perm] * signs[:, None]
    n_f = W1.shape[0]
    return Alignment(perm, signs, A[:, :n_f].T, A[:, n_f], A[:, n_f + 1 :])


def _relative(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _errors(al, P):
    W2c = P.W2 - P.W2.mean(axis=1, keepdims=True)
    return {
        "error_K": _relative(al.W1, P.W1),
        "error_b": _relative(al.b1, P.b),
        "error_W": _relative(al.W2, W2c),
        "error_all": _relative(unit_matrix(al.W1, al.b1, al.W2), unit_matrix(P.W1, P.b, P.W2)),
    }


@experiment(
    NAME,
    HELP,
    needs=_needs,
    n_samples=Int(1, help="n"),
    n_features=Int(1, help="n_f"),
    n_classes=Int(2, why="a softmax over two classes at least", help="n_c"),
    n_hidden=Int(1, help="m"),
    method=Choice(Methods().choices, help="minimize method"),
    max_iter=Int(1, help="iterations"),
    solver=Choice(("cg", "dense"), help="linear solver of gauss-newton / levenberg-marquardt"),
)
def inverse_crime_experiment(
    *,
    n_samples=500,
    n_features=50,
    n_classes=10,
    n_hidden=40,
    method="gauss-newton",
    max_iter=100,
    solver="cg",
    seed=0,
):
    """Fit the planted model from a random start and measure the aligned parameter error.

    Parameters
    ----------
    n_samples, n_features, n_classes, n_hidden : int
        The notes' n = 500, n_f = 50, n_c = 10, m = 40.
    method : str
        A :func:`numnet.optim.minimize` method.
    max_iter : int
    solver : {"cg", "dense"}, default="cg"
        Linear solver of the step; only used when method is "gauss-newton"
        or "levenberg-marquardt" (named, never "auto", so that the result
        does not follow the automatic rule).
    seed : int
        Seed of the data and of the start.

    Returns
    -------
    ExperimentResult
        numbers: ``kl_misfit`` (cross-entropy minus its value at the truth),
        ``max_prob_error``, relative errors ``error_K``, ``error_b``,
        ``error_W`` and ``error_all`` after alignment, ``error_unaligned``,
        ``n_sign_flips``; figure ``inverse_crime.png``.
    """
    from ..optim import minimize

    P = planted_softmax(n_samples, n_features, n_classes, n_hidden, random_state=seed)
    net = Sequential([Dense(n_features, n_hidden, "tanh"), Dense(n_hidden, n_classes, bias=False)])
    obj = Objective(net, "cross_entropy", P.X, P.Y)
    theta_true = np.concatenate([P.W1.ravel(), P.b, P.W2.ravel()])
    if solver not in ("cg", "dense"):
        raise ValueError(f"solver must be 'cg' or 'dense', got {solver!r}")
    options = {"solver": solver} if method in ("gauss-newton", "levenberg-marquardt") else {}
    res = minimize(obj, net.init(seed + 1), method, max_iter=max_iter, gtol=1e-10, **options)
    (p1, p2) = net.unpack(res.x)
    al = align(p1["W"], p1["b"], p2["W"], P.W1, P.b, P.W2)
    unaligned = _relative(unit_matrix(p1["W"], p1["b"], p2["W"]), unit_matrix(P.W1, P.b, P.W2))
    numbers = {
        "method": method,
        "nit": res.nit,
        "kl_misfit": res.fun - obj.value(theta_true),
        "max_prob_error": float(np.abs(softmax(net.predict(res.x, P.X)) - P.Y).max()),
        **_errors(al, P),
        "error_unaligned": unaligned,
        "n_sign_flips": int((al.signs < 0).sum()),
        "loss_history": [h["fun"] for h in res.history],
    }
    return ExperimentResult(
        NAME.replace("-", "_"), numbers, {"inverse_crime.png": _figure(al, P, numbers)}
    )


def _figure(al, P, numbers):
    fig, axes = new_figure(2, width=4.0, height=3.4)
    ax = axes[0, 0]
    ax.plot(P.W1.ravel(), al.W1.ravel(), ".", ms=2, label="K")
    W2c = P.W2 - P.W2.mean(axis=1, keepdims=True)
    ax.plot(W2c.ravel(), al.W2.ravel(), ".", ms=3, label="W (centered)")
    lim = np.abs(P.W1).max() * 1.05
    ax.plot([-lim, lim], [-lim, lim], "k-", lw=0.5)
    ax.set(
        xlabel="true",
        ylabel="recovered, aligned",
        title=f"aligned error {numbers['error_all']:.1e}",
    )
    ax.legend(fontsize=8, markerscale=4)
    kl = np.maximum(
        np.array(numbers["loss_history"]) - (numbers["loss_history"][-1] - numbers["kl_misfit"]),
        1e-18,
    )
    axes[0, 1].semilogy(np.arange(1, len(kl) + 1), kl)
    axes[0, 1].set(xlabel="iteration", ylabel="misfit KL(Y ‖ softmax(F))", title=numbers["method"])
    return fig


class Planted(NamedTuple):
    """The planted problem: its data, network, objective, θ_true and E(θ_true)."""

    data: object
    net: Sequential
    obj: Objective
    theta_true: np.ndarray
    e_true: float


def planted_problem(n_samples=500, n_features=50, n_classes=10, n_hidden=40, seed=0):
    """The notes' inverse-crime problem and the network that fits it (tanh layer, linear output, no bias)."""
    P = planted_softmax(n_samples, n_features, n_classes, n_hidden, random_state=seed)
    net = Sequential([Dense(n_features, n_hidden, "tanh"), Dense(n_hidden, n_classes, bias=False)])
    obj = Objective(net, "cross_entropy", P.X, P.Y)
    theta_true = np.concatenate([P.W1.ravel(), P.b, P.W2.ravel()])
    return Planted(P, net, obj, theta_true, float(obj.value(theta_true)))


def recovery_errors(p, theta):
    """Relative errors of (K, b, W) after alignment (permutation, signs, softmax shift) and the unit cosines."""
    (p1, p2) = p.net.unpack(theta)
    al = align(p1["W"], p1["b"], p2["W"], p.data.W1, p.data.b, p.data.W2)
    cos = np.abs(np.sum(al.W1 * p.data.W1, axis=0)) / (
        np.linalg.norm(al.W1, axis=0) * np.linalg.norm(p.data.W1, axis=0)
    )
    return {
        **_errors(al, p.data),
        "units_recovered": int((cos > 0.999).sum()),
        "median_cos": float(np.median(cos)),
    }


def _spectrum(obj, theta):
    from ..curvature import hessian_dense

    H = hessian_dense(obj, theta)
    return np.linalg.eigh(0.5 * (H + H.T))


def fresh_excess(p, theta, n_fresh=10_000, seed=12345):
    """KL(truth ‖ model) averaged over fresh inputs x ~ N(0, I): does the fit of n points pin the function?"""
    X = np.random.default_rng(seed).standard_normal((n_fresh, p.data.X.shape[1]))
    logp_true = _log_softmax(p.net.predict(p.theta_true, X))
    logp = _log_softmax(p.net.predict(theta, X))
    return float(np.mean(np.sum(np.exp(logp_true) * (logp_true - logp), axis=1)))


def _log_softmax(F):
    F = F - F.max(axis=1, keepdims=True)
    return F - np.log(np.exp(F).sum(axis=1, keepdims=True))


def floor_evidence(p, theta_stall):
    """Why local methods stop short of θ_true: spectra, conditioning, b, norms and fresh data.

    Returns
    -------
    dict
        At θ_true: ``true_zero_eigs`` (|λ| ≤ 1e-12 λ_max: the m softmax
        shifts of W's rows), ``true_min_eig`` (smallest other eigenvalue),
        ``true_condition``, ``true_eigs_below_1e-6``; ``b_block_eigs``
        (range of the b-block of ∇²E), ``b_schur_eigs`` (range of the
        curvature in b when K and W follow: eigenvalues of ((∇²E)⁺)_bb⁻¹,
        the Schur complement) and ``b_share_weakest`` (weight of b in the
        weakest eigenvector). At the stall point: ``stall_excess``,
        ``stall_grad_norm``, ``stall_negative_eigs`` (< −1e-10),
        ``stall_min_eig``, recovery errors, ``stall_fresh_excess`` (KL on
        fresh inputs; 0 at θ_true); norms ``norm_true`` and ``norm_stall``
        (W centered) and ``alpha_crossover``: above this α the stall point
        has the lower J + ½α‖θ‖², so a Tikhonov path prefers it.
    """
    lam_t, V = _spectrum(p.obj, p.theta_true)
    scale = lam_t[-1]
    zero = np.abs(lam_t) <= 1e-12 * scale
    positive = lam_t[~zero]
    nf, m = p.data.X.shape[1], p.data.b.size
    b = slice(nf * m, nf * m + m)
    H_b = np.linalg.eigvalsh(_b_block(p, b))
    weakest = V[:, np.flatnonzero(~zero)[0]]
    Vp = V[:, ~zero]
    cov_b = np.linalg.eigvalsh(
        (Vp[b] / positive) @ Vp[b].T
    )  # (H⁺)_bb: b's curvature with the rest optimized
    lam_s = _spectrum(p.obj, theta_stall)[0]
    excess = float(p.obj.value(theta_stall)) - p.e_true
    n_true, n_stall = _centered_norm(p, p.theta_true), _centered_norm(p, theta_stall)
    return {
        "true_zero_eigs": int(zero.sum()),
        "true_min_eig": float(positive.min()),
        "true_max_eig": float(scale),
        "true_condition": float(scale / positive.min()),
        "true_eigs_below_1e-6": int((positive < 1e-6).sum()),
        "b_block_eigs": [float(H_b[0]), float(H_b[-1])],
        "b_share_weakest": float(np.sum(weakest[b] ** 2)),
        "b_schur_eigs": [float(1 / cov_b[-1]), float(1 / cov_b[0])],
        "stall_excess": excess,
        "stall_grad_norm": float(np.linalg.norm(p.obj.grad(theta_stall))),
        "stall_negative_eigs": int((lam_s < -1e-10).sum()),
        "stall_min_eig": float(lam_s[0]),
        **{f"stall_{k}": v for k, v in recovery_errors(p, theta_stall).items()},
        "stall_fresh_excess": fresh_excess(p, theta_stall),
        "norm_true": n_true,
        "norm_stall": n_stall,
        "alpha_crossover": float(2 * excess / (n_true**2 - n_stall**2))
        if n_true > n_stall
        else float("inf"),
        "eigs_true": lam_t,
        "eigs_stall": lam_s,
    }


def _b_block(p, b):
    lin = p.obj.at(p.theta_true)
    cols = []
    for j in range(b.start, b.stop):
        e = np.zeros(p.theta_true.size)
        e[j] = 1.0
        cols.append(lin.hvp(e)[b])
    return 0.5 * (np.array(cols) + np.array(cols).T)


def _centered_norm(p, theta):
    """‖θ‖ with W's rows centered (the softmax shift removed): the norm a Tikhonov path compares."""
    p1, p2 = p.net.unpack(theta)
    return float(np.linalg.norm(unit_matrix(p1["W"], p1["b"], p2["W"])))


#: Deprecated name of :func:`inverse_crime_experiment`.
inverse_crime = deprecated_alias(inverse_crime_experiment, "inverse_crime")
