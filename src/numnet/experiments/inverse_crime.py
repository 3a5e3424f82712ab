"""The inverse crime (notes 000): recover a planted single layer up to its symmetries.

Data come from the planted model C = softmax(W σ(K Y + b)) (notes 000, "Test
problem"; here Y = softmax(tanh(X W₁ + b₁) W₂) with W₁ = Kᵀ, W₂ = Wᵀ,
:func:`numnet.datasets.inverse_crime`). Fitting the same architecture by
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

from ..datasets import inverse_crime as planted_softmax
from ..layers import Dense
from ..losses import softmax
from ..network import Sequential
from ..objective import Objective
from ..plots import new_figure
from . import ExperimentResult

__all__ = ["NAME", "HELP", "add_arguments", "run", "inverse_crime", "Alignment", "align",
           "unit_matrix"]

NAME = "inverse-crime"
HELP = "fit the planted softmax model of notes 000 and align the parameters up to symmetries"


def add_arguments(parser):
    from ..cli._parser import int_range, method_name, positive_int

    parser.add_argument("--n-samples", type=positive_int, default=500, help="n (default: 500)")
    parser.add_argument("--n-features", type=positive_int, default=50, help="n_f (default: 50)")
    parser.add_argument("--n-classes", type=int_range(2, why="a softmax over two classes at least"), default=10,
                        help="n_c (default: 10)")
    parser.add_argument("--n-hidden", type=positive_int, default=40, help="m (default: 40)")
    parser.add_argument("--method", type=method_name, default="gauss-newton",
                        help="minimize method (default: gauss-newton)")
    parser.add_argument("--max-iter", type=positive_int, default=100, help="iterations (default: 100)")


def run(args):
    from ..cli._memory import require_training_memory

    net = Sequential([Dense(args.n_features, args.n_hidden), Dense(args.n_hidden, args.n_classes)])
    require_training_memory(net, args.n_samples, args.method, f"--n-samples {args.n_samples}, --n-features "
                            f"{args.n_features}, --n-hidden {args.n_hidden}, --n-classes {args.n_classes}")
    return inverse_crime(n_samples=args.n_samples, n_features=args.n_features, n_classes=args.n_classes,
                         n_hidden=args.n_hidden, method=args.method, max_iter=args.max_iter, seed=args.seed)


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
    return Alignment(perm, signs, A[:, :n_f].T, A[:, n_f], A[:, n_f + 1:])


def _relative(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _errors(al, P):
    W2c = P.W2 - P.W2.mean(axis=1, keepdims=True)
    return {"error_K": _relative(al.W1, P.W1), "error_b": _relative(al.b1, P.b),
            "error_W": _relative(al.W2, W2c),
            "error_all": _relative(unit_matrix(al.W1, al.b1, al.W2), unit_matrix(P.W1, P.b, P.W2))}


def inverse_crime(*, n_samples=500, n_features=50, n_classes=10, n_hidden=40, method="gauss-newton",
                  max_iter=100, seed=0):
    """Fit the planted model from a random start and measure the aligned parameter error.

    Parameters
    ----------
    n_samples, n_features, n_classes, n_hidden : int
        The notes' n = 500, n_f = 50, n_c = 10, m = 40.
    method : str
        A :func:`numnet.optim.minimize` method.
    max_iter : int
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
    res = minimize(obj, net.init(seed + 1), method, max_iter=max_iter, gtol=1e-10)
    (p1, p2) = net.unpack(res.x)
    al = align(p1["W"], p1["b"], p2["W"], P.W1, P.b, P.W2)
    unaligned = _relative(unit_matrix(p1["W"], p1["b"], p2["W"]), unit_matrix(P.W1, P.b, P.W2))
    numbers = {"method": method, "nit": res.nit, "kl_misfit": res.fun - obj.value(theta_true),
               "max_prob_error": float(np.abs(softmax(net.predict(res.x, P.X)) - P.Y).max()),
               **_errors(al, P), "error_unaligned": unaligned, "n_sign_flips": int((al.signs < 0).sum()),
               "loss_history": [h["fun"] for h in res.history]}
    return ExperimentResult(NAME.replace("-", "_"), numbers, {"inverse_crime.png": _figure(al, P, numbers)})


def _figure(al, P, numbers):
    fig, axes = new_figure(2, width=4.0, height=3.4)
    ax = axes[0, 0]
    ax.plot(P.W1.ravel(), al.W1.ravel(), ".", ms=2, label="K")
    W2c = P.W2 - P.W2.mean(axis=1, keepdims=True)
    ax.plot(W2c.ravel(), al.W2.ravel(), ".", ms=3, label="W (centered)")
    lim = np.abs(P.W1).max() * 1.05
    ax.plot([-lim, lim], [-lim, lim], "k-", lw=0.5)
    ax.set(xlabel="true", ylabel="recovered, aligned",
           title=f"aligned error {numbers['error_all']:.1e}")
    ax.legend(fontsize=8, markerscale=4)
    kl = np.maximum(np.array(numbers["loss_history"]) - (numbers["loss_history"][-1] - numbers["kl_misfit"]),
                    1e-18)
    axes[0, 1].semilogy(np.arange(1, len(kl) + 1), kl)
    axes[0, 1].set(xlabel="iteration", ylabel="misfit KL(Y ‖ softmax(F))", title=numbers["method"])
    return fig
