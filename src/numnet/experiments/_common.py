"""What several experiments share: the peaks problems, recorded training runs, decision regions.

The single layer on peaks of notes 000 (:func:`peaks_problem`), its data split
for random features (:func:`peaks_split`, :func:`fit_and_score`,
:func:`activation_spectra`), runs of :func:`numnet.optim.minimize` that keep
every iterate and their work in passes over the data (:func:`train_method`,
:class:`Trace`), and the decision regions of a 2-D classifier
(:func:`decision_map`, :func:`plot_decision_regions`). ``demo``,
``single-layer``, ``random-features``, ``landscape``, ``dag``, ``rnn`` and the
benchmarks use them; the experiments' own modules re-export the public names
they used to define.

Work is counted in passes over the data: a value or a gradient is half a pass
(a forward or a backward sweep), a Hessian- or Gauss-Newton-vector product a
full pass (tangent forward plus backward), and an SGD epoch one pass.
"""

from typing import NamedTuple

import numpy as np

from ..datasets import peaks, train_val_test_split
from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..random_features import feature_spectrum, fit_least_squares, random_features
from ..regularizers import Tikhonov
from ._params import Int, Training

__all__ = [
    "MIN_PEAKS_SAMPLES",
    "peaks_samples_kind",
    "peaks_network",
    "peaks_training",
    "PeaksProblem",
    "peaks_problem",
    "accuracy",
    "Trace",
    "PEAKS_METHOD_OPTIONS",
    "train_method",
    "decision_map",
    "plot_decision_regions",
    "RF_ACTIVATIONS",
    "peaks_split",
    "fit_and_score",
    "effective_rank",
    "activation_spectra",
]

#: The fewest peaks points the experiments on peaks take: 5 classes of equal size and a stratified
#: 20 % validation split need 5 validation rows, one of each class.
MIN_PEAKS_SAMPLES = 25


def peaks_samples_kind(help="peaks points"):  # noqa: A002 (argparse's word)
    """The kind of ``n_samples`` of the experiments on peaks (at least :data:`MIN_PEAKS_SAMPLES`)."""
    return Int(MIN_PEAKS_SAMPLES, why="5 classes, a fifth of each held out", help=help)


def peaks_network(n_hidden, n_classes=5, activation="tanh"):
    """The single layer of notes 000 on peaks, 2 → n_hidden → n_classes."""
    return Sequential([Dense(2, n_hidden, activation), Dense(n_hidden, n_classes)])


def peaks_training(n_samples, n_hidden, methods, params):
    """The memory needs (:class:`~numnet.experiments._params.Training`) of training the peaks network on
    ``n_samples`` points by each of ``methods``; ``params`` are the parameters they grow with."""
    net = peaks_network(n_hidden)
    return [Training(net, n_samples, method, tuple(params)) for method in methods]


class PeaksProblem(NamedTuple):
    """A single-layer classifier on peaks: network, training and validation objectives."""

    net: Sequential
    train: Objective
    val: Objective


def peaks_problem(
    *,
    n_samples=1000,
    n_classes=5,
    n_hidden=32,
    activation="tanh",
    alpha=1e-4,
    val_fraction=0.2,
    seed=0,
    dtype=np.float64,
):
    """Peaks data split into training/validation and the single-layer network of notes 000.

    The network is F = σ(X W₁ + b₁) W₂ + b₂ (notes: S = W σ(KY + b), K = W₁ᵀ)
    with a softmax cross-entropy loss and weight decay ½α‖W‖² on the weights
    (not the biases).
    """
    X, y = peaks(n_samples, n_classes, random_state=seed, dtype=dtype)
    Xtr, ytr, Xva, yva, _, _ = train_val_test_split(
        X, y, val_fraction=val_fraction, test_fraction=0.0, random_state=seed
    )
    net = peaks_network(n_hidden, n_classes, activation)
    reg = Tikhonov(alpha, mask=~net.bias_mask()) if alpha > 0 else None
    return PeaksProblem(
        net,
        Objective(net, "cross_entropy", Xtr, ytr, reg),
        Objective(net, "cross_entropy", Xva, yva),
    )


def accuracy(obj, theta):
    """Fraction of the objective's samples whose largest output is the target class."""
    return float(np.mean(obj.predict(theta).argmax(axis=1) == obj.Y.argmax(axis=1)))


class Trace(NamedTuple):
    """One run: per iteration (index 0 is the start) loss, time, passes, parameters; and the result."""

    method: str
    loss: np.ndarray
    time: np.ndarray
    passes: np.ndarray
    thetas: list
    result: object


def _passes(method, res):
    """Work so far in passes over the data (see the module docstring)."""
    from ..optim import METHODS

    if getattr(METHODS[method], "stochastic", False):  # one iteration is one epoch
        return float(res.nit)
    return 0.5 * (res.nfev + res.ngev) + res.nhvp


#: Options of each method on the peaks single layer (``single-layer`` and ``demo``). SGD: mini-batches of
#: 32, a fixed step with momentum, the full objective value (not the gradient) after each epoch.
#: Newton-type methods: truncated CG of at most 10 products per step (cheap, inexact steps);
#: VarPro: at most 5 Newton steps for the output layer per outer step.
PEAKS_METHOD_OPTIONS = {
    "sgd": {"learning_rate": 0.05, "batch_size": 32, "momentum": 0.9, "full_eval": False},
    "newton-cg": {"max_cg": 10},
    "gauss-newton": {"max_cg": 10},
    "block-gauss-newton": {"max_cg": 10},
    "varpro": {"max_cg": 10, "max_inner": 5, "inner_gtol": 1e-6},
}


def train_method(obj, theta0, method, *, passes=None, max_iter=100, max_time=None, **options):
    """Run ``minimize(obj, theta0, method, **options)`` recording every iterate, stopping once the work
    reaches ``passes``; a :class:`Trace`. Nothing but ``options`` is passed to the method."""
    from ..optim import minimize

    thetas, done, budget = [theta0], [0.0], passes

    def record(res):
        thetas.append(res.x.copy())
        done.append(_passes(method, res))
        if budget is not None and done[-1] >= budget:
            raise StopIteration

    res = minimize(
        obj,
        theta0,
        method,
        callback=record,
        max_iter=max_iter,
        gtol=1e-8,
        max_time=max_time,
        **options,
    )
    loss = np.array([obj.value(theta0)] + [h["fun"] for h in res.history])
    time = np.array([0.0] + [h["time"] for h in res.history])
    return Trace(method, loss, time, np.array(done), thetas, res)


def seeded_runs(obj, net, method, n_seeds, seed, **kwargs):
    """One :func:`train_method` run per start ``net.init(seed + k)``, k = 0, …, n_seeds − 1."""
    return [train_method(obj, net.init(seed + k), method, **kwargs) for k in range(n_seeds)]


def decision_map(net, theta, n_grid=120, lim=3.0):
    """Predicted class on an ``n_grid`` × ``n_grid`` grid of [−lim, lim]²."""
    t = np.linspace(-lim, lim, n_grid)
    P = np.stack(np.meshgrid(t, t), axis=-1).reshape(-1, 2).astype(theta.dtype)
    return net.predict(theta, P).argmax(axis=1).reshape(n_grid, n_grid)


def plot_decision_regions(ax, net, theta, X, y, *, lim=3.0, size=4, linewidth=0.2):
    """The classes ``net`` predicts on [−lim, lim]² as an image on ``ax``, the points ``X`` coloured by ``y``
    on top (:func:`numnet.plots.plot_decision_regions`)."""
    from ..plots import plot_decision_regions as draw

    def classify(P):
        return net.predict(theta, P.astype(theta.dtype)).argmax(axis=1)

    return draw(ax, classify, X, y, extent=(-lim, lim, -lim, lim), size=size, linewidth=linewidth)


#: The activations of the random-feature comparisons.
RF_ACTIVATIONS = ("sin", "tanh", "relu")


def peaks_split(n_samples=1000, seed=0):
    """Peaks with 5 classes split 80/20: ``(X_train, y_train, X_val, y_val)``."""
    X, y = peaks(n_samples, 5, random_state=seed)
    return train_val_test_split(X, y, val_fraction=0.2, test_fraction=0.0, random_state=seed)[:4]


def fit_and_score(features, data, alpha=0.0):
    """Fit W by least squares on one-hot classes; return (training error, validation error)."""
    Xtr, ytr, Xva, yva = data
    n_classes = int(ytr.max()) + 1
    theta = fit_least_squares(features, Xtr, np.eye(n_classes)[ytr], alpha=alpha)
    m = features.n_hidden
    W, c = theta[: m * n_classes].reshape(m, n_classes), theta[m * n_classes :]
    err = lambda X, y: float(np.mean((features.transform(X) @ W + c).argmax(axis=1) != y))  # noqa: E731
    return err(Xtr, ytr), err(Xva, yva)


def effective_rank(s, rel=1e-4):
    """Number of singular values above ``rel`` times the largest."""
    return int((s > rel * s[0]).sum()) if s.size and s[0] > 0 else 0


def activation_spectra(X, n_hidden, seed=0, activations=RF_ACTIVATIONS + ("identity",)):
    """``{activation: FeatureSpectrum}`` of σ(X Kᵀ + b) for the same random K, b (seed)."""
    return {
        act: feature_spectrum(random_features(X.shape[1], n_hidden, act, random_state=seed), X)
        for act in activations
    }
