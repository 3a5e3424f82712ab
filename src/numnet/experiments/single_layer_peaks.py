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

import numpy as np

from ..plots import new_figure
from . import ExperimentResult
from ._common import (
    MIN_PEAKS_SAMPLES,
    PEAKS_METHOD_OPTIONS,
    PeaksProblem,
    Trace,
    accuracy,
    decision_map,
    peaks_problem,
    peaks_samples_kind,
    peaks_training,
    plot_decision_regions,
)
from ._common import train_method as _train_method
from ._params import Float, Int, Methods, Optional, deprecated_alias, experiment

__all__ = [
    "single_layer_peaks_experiment",
    "METHOD_OPTIONS",
    "train_method",
    # defined in numnet.experiments._common, kept here for the code that imported them from here
    "PeaksProblem",
    "peaks_problem",
    "accuracy",
    "Trace",
    "decision_map",
    "MIN_PEAKS_SAMPLES",
]

NAME = "single-layer"
HELP = "train a single layer on peaks: SGD, Newton-CG, Gauss-Newton, block GN, VarPro, L-BFGS"

DEFAULT_METHODS = ("sgd", "newton-cg", "gauss-newton", "block-gauss-newton", "varpro", "lbfgs")
#: The options of each method in this experiment (:data:`numnet.experiments._common.PEAKS_METHOD_OPTIONS`).
METHOD_OPTIONS = PEAKS_METHOD_OPTIONS


def train_method(obj, theta0, method, *, passes=None, max_iter=100, max_time=None, **options):
    """:func:`numnet.experiments._common.train_method` with this experiment's :data:`METHOD_OPTIONS`
    (``options`` override them)."""
    return _train_method(
        obj,
        theta0,
        method,
        passes=passes,
        max_iter=max_iter,
        max_time=max_time,
        **{**METHOD_OPTIONS.get(method, {}), **options},
    )


def _needs(p):
    return peaks_training(p["n_samples"], p["n_hidden"], p["methods"], ("n_samples", "n_hidden"))


@experiment(
    NAME,
    HELP,
    needs=_needs,
    methods=Methods(help="comma-separated minimize methods"),
    n_samples=peaks_samples_kind(),
    n_hidden=Int(1, help="hidden width m"),
    passes=Float(0.0, open_min=True, help="budget of passes over the data per method"),
    max_iter=Int(1, help="at most this many iterations per method (epochs for SGD)"),
    max_time=Optional(Float(0.0, open_min=True), help="seconds per method"),
)
def single_layer_peaks_experiment(
    *,
    methods=DEFAULT_METHODS,
    n_samples=1000,
    n_hidden=32,
    passes=1000,
    max_iter=2000,
    max_time=None,
    seed=0,
):
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
    traces = [
        train_method(prob.train, theta0, m, passes=passes, max_iter=max_iter, max_time=max_time)
        for m in methods
    ]
    numbers = {}
    for tr in traces:
        x = tr.result.x
        numbers.update(
            {
                f"{tr.method}_loss": float(tr.result.fun),
                f"{tr.method}_train_accuracy": accuracy(prob.train, x),
                f"{tr.method}_val_accuracy": accuracy(prob.val, x),
                f"{tr.method}_time": float(tr.time[-1]),
                f"{tr.method}_passes": float(tr.passes[-1]),
                f"{tr.method}_nit": int(tr.result.nit),
            }
        )
    figures = {
        "single_layer.png": _curves_figure(prob, traces),
        "single_layer_boundaries.png": _boundaries_figure(prob, traces),
    }
    return ExperimentResult(NAME, numbers, figures, _table(numbers, methods))


def _table(nb, methods):
    lines = [
        f"{'method':>20} {'loss':>9} {'train acc':>9} {'val acc':>8} {'iters':>6} {'passes':>8} {'time s':>7}"
    ]
    lines += [
        f"{m:>20} {nb[f'{m}_loss']:9.4f} {nb[f'{m}_train_accuracy']:9.3f} {nb[f'{m}_val_accuracy']:8.3f} "
        f"{nb[f'{m}_nit']:6d} {nb[f'{m}_passes']:8.0f} {nb[f'{m}_time']:7.2f}"
        for m in methods
    ]
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
    a.set(
        xlabel="iteration + 1 (SGD: epoch)", ylabel="training loss", title="loss against iterations"
    )
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
        plot_decision_regions(ax, prob.net, tr.result.x, X, y)
        ax.set_title(f"{tr.method}: val acc {accuracy(prob.val, tr.result.x):.2f}", fontsize=9)
        ax.set_axis_off()
    for ax in list(axes.flat)[len(traces) :]:
        ax.set_axis_off()
    return fig


#: Deprecated names: the entry point is :func:`single_layer_peaks_experiment`, and the kind and the memory
#: needs of the peaks experiments are in :mod:`numnet.experiments._common`.
single_layer_peaks = deprecated_alias(single_layer_peaks_experiment, "single_layer_peaks")


def peaks_samples():
    """Deprecated: the argparse type of ``--n-samples`` of the experiments on peaks."""
    import warnings

    from ..cli._parser import argparse_type

    warnings.warn(
        "peaks_samples is deprecated; the CLI builds options from numnet.experiments._common."
        "peaks_samples_kind",
        DeprecationWarning,
        stacklevel=2,
    )
    return argparse_type(peaks_samples_kind())


def check_peaks_memory(n_samples, n_hidden, methods, flags):
    """Deprecated: refuse (``CommandError`` naming ``flags``) a peaks network 2 → n_hidden → 5 too large to
    train; experiments now declare :func:`numnet.experiments._common.peaks_training` as their needs."""
    import warnings

    from ..cli._memory import require_training_memory

    warnings.warn(
        "check_peaks_memory is deprecated; declare peaks_training needs",
        DeprecationWarning,
        stacklevel=2,
    )
    for need in peaks_training(n_samples, n_hidden, methods, ()):
        require_training_memory(need.net, need.n_rows, need.method, flags)
