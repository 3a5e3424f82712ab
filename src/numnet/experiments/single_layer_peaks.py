"""Training a single layer on peaks (notes 000): first- against second-order methods.

The network of notes 000, S = W σ(KY + b), here F = σ(X W₁ + b₁) W₂ + b₂
(W₁ = Kᵀ), is trained with a softmax cross-entropy loss from one random
start by each method of :func:`numnet.optim.minimize`: mini-batch SGD,
Newton-CG (exact Hessian products by the R-operator), Gauss-Newton, the
block Gauss-Newton of notes 000 (Gauss-Newton on (K, b), full Hessian on W,
coupling ignored), variable projection (VarPro) and L-BFGS. The experiment
records loss and accuracy against iterations and time, and the work in
passes over the data: a value or a gradient is half a pass (a forward or a
backward sweep), a Hessian- or Gauss-Newton-vector product a full pass
(tangent forward plus backward), and an SGD epoch one pass.
"""

from typing import NamedTuple

import numpy as np

from ..datasets import peaks, train_val_test_split
from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..plots import new_figure
from ..regularizers import Tikhonov
from . import ExperimentResult

__all__ = ["NAME", "HELP", "add_arguments", "run", "single_layer_peaks", "PeaksProblem",
           "peaks_problem", "accuracy", "train_method", "Trace", "decision_map", "METHOD_OPTIONS",
           "MIN_PEAKS_SAMPLES", "peaks_samples", "check_peaks_memory"]

NAME = "single-layer"
HELP = "train a single layer on peaks: SGD, Newton-CG, Gauss-Newton, block GN, VarPro, L-BFGS"

DEFAULT_METHODS = ("sgd", "newton-cg", "gauss-newton", "block-gauss-newton", "varpro", "lbfgs")
#: Options of each method in this experiment. SGD: mini-batches of 32, a fixed step with momentum,
#: the full objective value (not the gradient) after each epoch.
#: Newton-type methods: truncated CG of at most 10 products per step (cheap, inexact steps);
#: VarPro: at most 5 Newton steps for the output layer per outer step.
METHOD_OPTIONS = {"sgd": {"learning_rate": 0.05, "batch_size": 32, "momentum": 0.9, "full_eval": False},
                  "newton-cg": {"max_cg": 10}, "gauss-newton": {"max_cg": 10},
                  "block-gauss-newton": {"max_cg": 10},
                  "varpro": {"max_cg": 10, "max_inner": 5, "inner_gtol": 1e-6}}


#: The fewest peaks points the experiments on peaks take: 5 classes of equal size and a stratified
#: 20 % validation split need 5 validation rows, one of each class.
MIN_PEAKS_SAMPLES = 25


def peaks_samples():
    """The argparse type of ``--n-samples`` of the experiments on peaks (at least :data:`MIN_PEAKS_SAMPLES`)."""
    from ..cli._parser import int_range

    return int_range(MIN_PEAKS_SAMPLES, why="5 classes, a fifth of each held out")


def check_peaks_memory(n_samples, n_hidden, methods, flags):
    """Refuse (``CommandError`` naming ``flags``) a peaks network 2 → n_hidden → 5 too large to train."""
    from ..cli._memory import require_training_memory

    net = Sequential([Dense(2, n_hidden), Dense(n_hidden, 5)])
    for method in methods:
        require_training_memory(net, n_samples, method, flags)


def add_arguments(parser):
    from ..cli._parser import method_list, positive_float, positive_int

    parser.add_argument("--methods", type=method_list(), default=",".join(DEFAULT_METHODS),
                        help="comma-separated minimize methods (default: %(default)s)")
    parser.add_argument("--n-samples", type=peaks_samples(), default=1000, help="peaks points (default: 1000)")
    parser.add_argument("--n-hidden", type=positive_int, default=32, help="hidden width m (default: 32)")
    parser.add_argument("--passes", type=positive_float, default=1000,
                        help="budget of passes over the data per method (default: 1000)")
    parser.add_argument("--max-iter", type=positive_int, default=2000,
                        help="at most this many iterations per method (epochs for SGD) (default: 2000)")
    parser.add_argument("--max-time", type=positive_float, default=None, help="seconds per method")


def run(args):
    methods = args.methods
    check_peaks_memory(args.n_samples, args.n_hidden, methods, f"--n-samples {args.n_samples} with --n-hidden "
                       f"{args.n_hidden}")
    return single_layer_peaks(methods=methods, n_samples=args.n_samples, n_hidden=args.n_hidden,
                              passes=args.passes, max_iter=args.max_iter, max_time=args.max_time,
                              seed=args.seed)


class PeaksProblem(NamedTuple):
    """A single-layer classifier on peaks: network, training and validation objectives."""

    net: Sequential
    train: Objective
    val: Objective


def peaks_problem(*, n_samples=1000, n_classes=5, n_hidden=32, activation="tanh", alpha=1e-4,
                  val_fraction=0.2, seed=0, dtype=np.float64):
    """Peaks data split into training/validation and the single-layer network of notes 000.

    The network is F = σ(X W₁ + b₁) W₂ + b₂ (notes: S = W σ(KY + b), K = W₁ᵀ)
    with a softmax cross-entropy loss and weight decay ½α‖W‖² on the weights
    (not the biases).
    """
    X, y = peaks(n_samples, n_classes, random_state=seed, dtype=dtype)
    Xtr, ytr, Xva, yva, _, _ = train_val_test_split(X, y, val_fraction=val_fraction, test_fraction=0.0,
                                                    random_state=seed)
    net = Sequential([Dense(2, n_hidden, activation), Dense(n_hidden, n_classes)])
    reg = Tikhonov(alpha, mask=~net.bias_mask()) if alpha > 0 else None
    return PeaksProblem(net, Objective(net, "cross_entropy", Xtr, ytr, reg),
                        Objective(net, "cross_entropy", Xva, yva))


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


def train_method(obj, theta0, method, *, passes=None, max_iter=100, max_time=None, **options):
    """Run ``minimize`` recording every iterate, stopping once the work reaches ``passes``.

    ``options`` override the experiment's :data:`METHOD_OPTIONS`. Returns a :class:`Trace`.
    """
    from ..optim import minimize

    thetas, passes, budget = [theta0], [0.0], passes

    def record(res):
        thetas.append(res.x.copy())
        passes.append(_passes(method, res))
        if budget is not None and passes[-1] >= budget:
            raise StopIteration

    opts = {**METHOD_OPTIONS.get(method, {}), **options}
    res = minimize(obj, theta0, method, callback=record, max_iter=max_iter, gtol=1e-8,
                   max_time=max_time, **opts)
    loss = np.array([obj.value(theta0)] + [h["fun"] for h in res.history])
    time = np.array([0.0] + [h["time"] for h in res.history])
    return Trace(method, loss, time, np.array(passes), thetas, res)


def decision_map(net, theta, n_grid=120, lim=3.0):
    """Predicted class on an ``n_grid`` × ``n_grid`` grid of [−lim, lim]²."""
    t = np.linspace(-lim, lim, n_grid)
    P = np.stack(np.meshgrid(t, t), axis=-1).reshape(-1, 2).astype(theta.dtype)
    return net.predict(theta, P).argmax(axis=1).reshape(n_grid, n_grid)


def single_layer_peaks(*, methods=DEFAULT_METHODS, n_samples=1000, n_hidden=32, passes=1000,
                       max_iter=2000, max_time=None, seed=0):
    """Train the single layer on peaks with each method from the same start.

    Parameters
    ----------
    methods : sequence of str
        :func:`numnet.optim.minimize` methods.
    n_samples, n_hidden : int
    passes : float
        Budget of work per method in passes over the data (module docstring).
    max_iter : int
        At most this many iterations per method (epochs for SGD).
    max_time : float, optional
        Seconds per method.
    seed : int

    Returns
    -------
    ExperimentResult
        numbers per method ``<method>_loss``, ``_train_accuracy``,
        ``_val_accuracy``, ``_time``, ``_passes``, ``_nit``; figures
        ``single_layer.png`` (loss and accuracy against iterations and time)
        and ``single_layer_boundaries.png`` (decision regions).
    """
    prob = peaks_problem(n_samples=n_samples, n_hidden=n_hidden, seed=seed)
    theta0 = prob.net.init(seed)
    traces = [train_method(prob.train, theta0, m, passes=passes, max_iter=max_iter, max_time=max_time)
              for m in methods]
    numbers = {}
    for tr in traces:
        x = tr.result.x
        numbers.update({f"{tr.method}_loss": float(tr.result.fun),
                        f"{tr.method}_train_accuracy": accuracy(prob.train, x),
                        f"{tr.method}_val_accuracy": accuracy(prob.val, x),
                        f"{tr.method}_time": float(tr.time[-1]), f"{tr.method}_passes": float(tr.passes[-1]),
                        f"{tr.method}_nit": int(tr.result.nit)})
    figures = {"single_layer.png": _curves_figure(prob, traces),
               "single_layer_boundaries.png": _boundaries_figure(prob, traces)}
    return ExperimentResult(NAME.replace("-", "_"), numbers, figures, _table(numbers, methods))


def _table(nb, methods):
    lines = [f"{'method':>20} {'loss':>9} {'train acc':>9} {'val acc':>8} {'iters':>6} {'passes':>8} {'time s':>7}"]
    lines += [f"{m:>20} {nb[f'{m}_loss']:9.4f} {nb[f'{m}_train_accuracy']:9.3f} {nb[f'{m}_val_accuracy']:8.3f} "
              f"{nb[f'{m}_nit']:6d} {nb[f'{m}_passes']:8.0f} {nb[f'{m}_time']:7.2f}" for m in methods]
    return "\n".join(lines)


def _curves_figure(prob, traces):
    fig, axes = new_figure(2, 2, width=3.6, height=2.7)
    (a, b), (c, d) = axes
    for tr in traces:
        t = np.maximum(tr.time, 1e-3)
        a.loglog(np.arange(1, tr.loss.size + 1), tr.loss, label=tr.method)
        b.loglog(np.maximum(tr.passes, 0.5), tr.loss, label=tr.method)
        c.loglog(t, tr.loss, label=tr.method)
        d.semilogx(t, [accuracy(prob.val, th) for th in tr.thetas], label=tr.method)
    a.set(xlabel="iteration + 1 (SGD: epoch)", ylabel="training loss", title="loss against iterations")
    b.set(xlabel="passes over the data", ylabel="training loss", title="loss against work")
    c.set(xlabel="time [s]", ylabel="training loss", title="loss against time")
    d.set(xlabel="time [s]", ylabel="validation accuracy", title="accuracy against time")
    a.legend(fontsize=7)
    return fig


def _boundaries_figure(prob, traces):
    ncols = min(3, len(traces))
    nrows = -(-len(traces) // ncols)
    fig, axes = new_figure(ncols, nrows, width=2.6, height=2.6)
    X, y = prob.val.X, prob.val.Y.argmax(axis=1)
    for ax, tr in zip(axes.flat, traces):
        ax.imshow(decision_map(prob.net, tr.result.x), origin="lower", extent=(-3, 3, -3, 3),
                  cmap="viridis", alpha=0.6, interpolation="nearest")
        ax.scatter(X[:, 0], X[:, 1], c=y, s=4, cmap="viridis", edgecolors="k", linewidths=0.2)
        ax.set_title(f"{tr.method}: val acc {accuracy(prob.val, tr.result.x):.2f}", fontsize=9)
        ax.set_axis_off()
    for ax in list(axes.flat)[len(traces):]:
        ax.set_axis_off()
    return fig
