"""Small convolutional networks on the digits, epoch by epoch: the helpers of ``alexnet-claims``.

A run trains a network by a stochastic method of :func:`numnet.optim.minimize`
("sgd" or "adam": one iteration is one epoch, one pass over the training
rows) and records, after every epoch, the training objective and the
accuracy of the current iterate on named data sets. Index 0 of every curve
is the start. Spread over seeds is the population standard deviation.
"""

import time
from typing import NamedTuple

import numpy as np
from sklearn.model_selection import train_test_split

from ..datasets import digits, train_val_test_split
from ..objective import Objective
from ..optim import minimize
from ..regularizers import Tikhonov

__all__ = [
    "DIGITS_SHAPE",
    "Run",
    "accuracy",
    "digits_split",
    "train_epochs",
    "first_epoch",
    "stop_epoch",
    "stats",
    "table",
    "figure",
]

#: One digit as a channels-last image.
DIGITS_SHAPE = (8, 8, 1)


class Run(NamedTuple):
    """One training run: per epoch (index 0 is the start) the objective and the accuracies."""

    loss: np.ndarray
    accuracy: dict
    theta: np.ndarray
    seconds: float


def accuracy(net, theta, X, y):
    """Fraction of the rows of X whose largest output is the label y (dropout off: inference)."""
    return float(np.mean(net.predict(theta, X).argmax(axis=1) == y))


def digits_split(seed, *, val_fraction=0.2, test_fraction=0.2, n_train=None):
    """Stratified training/validation/test split of the digits; training rows cut to ``n_train``.

    Returns ``{"train": (X, y), "val": (X, y), "test": (X, y)}`` (an empty
    validation set is left out).
    """
    X, y = digits()
    Xtr, ytr, Xva, yva, Xte, yte = train_val_test_split(
        X, y, val_fraction=val_fraction, test_fraction=test_fraction, random_state=seed
    )
    if n_train is not None and n_train < len(ytr):
        if not 10 <= n_train:
            raise ValueError(
                f"n_train must be at least 10 (one digit of each class), got {n_train}"
            )
        Xtr, _, ytr, _ = train_test_split(
            Xtr, ytr, train_size=n_train, stratify=ytr, random_state=seed
        )
    elif n_train is not None and n_train > len(ytr):
        raise ValueError(f"n_train must be at most {len(ytr)} (the training split), got {n_train}")
    sets = {"train": (Xtr, ytr), "val": (Xva, yva), "test": (Xte, yte)}
    return {k: v for k, v in sets.items() if len(v[1])}


def train_epochs(net, train, theta0, method, epochs, *, watch=(), alpha=0.0, **options):
    """Train ``net`` on ``train = (X, y)`` for ``epochs`` epochs, recording accuracies on ``watch``.

    Parameters
    ----------
    net : Sequential
    train : tuple (X, y)
    theta0 : ndarray
    method : {"sgd", "adam"}
    epochs : int
    watch : dict name -> (X, y)
        Data sets whose accuracy is recorded after every epoch.
    alpha : float, default=0.0
        Weight decay ½α‖W‖² on the weights (not the biases), notes 003.
    **options
        Options of ``method`` (learning_rate, batch_size, seed, augment, …).

    Returns
    -------
    Run
        ``theta`` is the last iterate (not the lowest-loss one ``minimize`` returns).
    """
    reg = Tikhonov(alpha, mask=~net.bias_mask()) if alpha > 0 else None
    obj = Objective(net, "cross_entropy", *train, reg)
    watch = dict(watch)
    acc = {name: [accuracy(net, theta0, *data)] for name, data in watch.items()}
    last = [theta0]

    def record(res):
        last[0] = res.x
        for name, data in watch.items():
            acc[name].append(accuracy(net, res.x, *data))

    t0 = time.perf_counter()
    res = minimize(obj, theta0, method, callback=record, max_iter=epochs, gtol=0.0, **options)
    seconds = time.perf_counter() - t0
    loss = np.array([obj.value(theta0)] + [h["fun"] for h in res.history])
    return Run(loss, {k: np.array(v) for k, v in acc.items()}, last[0], seconds)


def first_epoch(values, test):
    """The first epoch ≥ 1 whose value passes ``test``, or None."""
    hits = [k for k in range(1, len(values)) if test(values[k])]
    return hits[0] if hits else None


def stop_epoch(val_accuracy, patience):
    """Early stopping: the epoch at which ``patience`` epochs have not improved the best, or the last.

    Returns ``(stop, best)``: the stopping epoch and the first epoch in
    1..stop with the highest validation accuracy (the model kept).
    """
    best, waited = 1, 0
    for k in range(2, len(val_accuracy)):
        if val_accuracy[k] > val_accuracy[best]:
            best, waited = k, 0
        else:
            waited += 1
        if waited >= patience:
            return k, best
    return len(val_accuracy) - 1, best


def stats(values):
    """``(mean, std)`` of per-seed values as floats (population std; (None, None) if any is None)."""
    if any(v is None for v in values):
        return None, None
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std())


def figure(relu_tanh, regularization, stopping, cnn):
    """Six panels: (a) loss and training error against passes, (b) accuracies and gaps, (c) validation
    curves with the stopping epochs, and the test accuracy of the digits CNN."""
    from ..plots import new_figure

    fig, axes = new_figure(3, 2, width=3.6, height=2.8)
    for act, r in relu_tanh["activations"].items():
        for k, (loss, err) in enumerate(zip(r["loss"], r["train_error"])):
            kw = {
                "color": "C0" if act == "relu" else "C3",
                "alpha": 0.8,
                "label": act if k == 0 else None,
            }
            axes[0, 0].semilogy(loss, **kw)
            axes[0, 1].semilogy(np.maximum(err, 1e-4), **kw)
    axes[0, 1].axhline(relu_tanh["target_error"], color="k", ls=":", lw=1, label="target")
    axes[0, 0].set(xlabel="passes (epochs)", ylabel="training loss", title="(a) relu vs tanh: loss")
    axes[0, 1].set(xlabel="passes (epochs)", ylabel="training error", title="(a) training error")
    _bars(axes[0, 2], regularization)
    _gap_curves(axes[1, 0], regularization)
    for k, (val, test) in enumerate(zip(stopping["val_accuracy"], stopping["test_accuracy"])):
        (line,) = axes[1, 1].plot(val, label=f"seed {k}: validation")
        axes[1, 1].plot(test, color=line.get_color(), ls="--", lw=0.8)
        axes[1, 1].axvline(stopping["stop_epoch"][k], color=line.get_color(), ls=":", lw=1)
    axes[1, 1].set(
        xlabel="epoch",
        ylabel="accuracy (dashed: test)",
        ylim=(0.8, 1.0),
        title="(c) early stopping (dotted: stop)",
    )
    axes[1, 2].plot(np.arange(1, len(cnn["test_accuracy_curve"]) + 1), cnn["test_accuracy_curve"])
    axes[1, 2].axhline(0.98, color="k", ls=":", lw=1)
    axes[1, 2].set(
        xlabel="epoch",
        ylabel="test accuracy",
        ylim=(0.9, 1.0),
        title=f"digits CNN ({cnn['method']}): {cnn['test_accuracy']:.3f}",
    )
    for ax in (axes[0, 0], axes[0, 1], axes[1, 0], axes[1, 1]):
        ax.legend(fontsize=7)
    return fig


def _bars(ax, reg):
    names = list(reg["variants"])
    x = np.arange(len(names))
    low = 1.0
    for dx, key, label in ((-0.2, "train_accuracy", "train"), (0.2, "test_accuracy", "test")):
        mean, std = ([reg["variants"][n][f"{key}_{s}"] for n in names] for s in ("mean", "std"))
        ax.bar(x + dx, mean, 0.4, label=label, yerr=std)
        low = min(low, *np.subtract(mean, std))
    ax.set(
        xticks=x,
        xticklabels=names,
        ylim=(max(0.0, low - 0.05), 1.01),
        ylabel="accuracy",
        title=f"(b) n_train={reg['n_train']}: last epoch",
    )
    ax.legend(fontsize=7)


def _gap_curves(ax, reg):
    for name, v in reg["variants"].items():
        ax.plot(np.mean(v["gap_curve"], axis=0), label=name)
    ax.set(xlabel="epoch", ylabel="train − test accuracy", title="(b) generalization gap (mean)")


def _pm(mean, std, fmt=".3f"):
    return "n/a" if mean is None else f"{mean:{fmt}} ± {std:{fmt}}"


def table(a, b, c, cnn):
    """The printed table of the three parts and the digits CNN, each with what was observed."""
    return "\n".join(
        _table_a(a)
        + [""]
        + _table_b(b)
        + [""]
        + _table_c(c)
        + [
            "",
            f"digits CNN: {cnn['architecture']} ({cnn['n_params']} parameters), {cnn['method']}, "
            f"{cnn['epochs']} epochs, {cnn['seconds']:.1f} s: test accuracy {cnn['test_accuracy']:.4f} "
            f"on {cnn['n_test']} digits (seed {cnn['seed']}, stratified)",
        ]
    )


def _table_a(a):
    acts, n = a["activations"], len(a["activations"]["relu"]["loss"])
    lines = [
        f"(a) relu vs tanh: {a['architecture'].format(act='σ')}, sgd (momentum 0.9, batch 32, "
        f"lr {a['learning_rate']:g}), {a['init']} init, {n} seeds, {a['epochs']} passes",
        f"{'activation':>10} {'passes to ' + format(a['target_error'], '.0%') + ' train error':>28}"
        f" {'mean ± std':>12} {'final loss':>10}",
    ]
    for act, r in acts.items():
        per = ",".join("-" if p is None else str(p) for p in r["passes_to_target"])
        mean = _pm(r["passes_to_target_mean"], r["passes_to_target_std"], ".1f")
        lines.append(f"{act:>10} {per:>28} {mean:>12} {r['final_loss_mean']:10.4f}")
    ratio = acts["tanh"]["final_loss_mean"] / acts["relu"]["final_loss_mean"]
    return lines + [
        f"observed: relu needed no more passes than tanh on {a['relu_no_slower']} of {n} seeds ('-': "
        f"not reached); final loss tanh/relu = {ratio:.2f} (AlexNet, CIFAR-10: 6x fewer passes)"
    ]


def _table_b(b):
    var = b["variants"]
    n = len(var["plain"]["gap"])
    lines = [
        f"(b) overfitting: {b['architecture']}, {b['n_train']} training digits, adam, {b['epochs']} epochs, "
        f"dropout {b['dropout']:g}, shift {b['augment']['shift']} rotate {b['augment']['rotate']:g}; "
        f"last epoch, mean ± std over {n} seeds",
        f"{'variant':>10} {'train acc':>15} {'test acc':>15} {'train − test':>15}",
    ]
    for v, r in var.items():
        cells = (
            _pm(r[f"{k}_mean"], r[f"{k}_std"]) for k in ("train_accuracy", "test_accuracy", "gap")
        )
        lines.append(f"{v:>10} " + " ".join(f"{cell:>15}" for cell in cells))
    others = [v for v in var if v != "plain"]
    diff = {
        k: " / ".join(f"{var[v][k] - var['plain'][k]:+.3f}" for v in others)
        for k in ("gap_mean", "test_accuracy_mean")
    }
    return lines + [
        f"observed against plain ({' / '.join(others)}): gap {diff['gap_mean']}, "
        f"test accuracy {diff['test_accuracy_mean']}"
    ]


def _table_c(c):
    saved = c["epochs"] - c["stop_epoch_mean"]
    delta = np.subtract(c["early_test_accuracy"], c["last_test_accuracy"])
    return [
        f"(c) early stopping (plain runs of (b), patience {c['patience']}): stop at epochs {c['stop_epoch']} "
        f"of {c['epochs']}, best at {c['best_epoch']}",
        f"test accuracy early-stopped {_pm(c['early_test_accuracy_mean'], c['early_test_accuracy_std'])}, "
        f"last epoch {_pm(c['last_test_accuracy_mean'], c['last_test_accuracy_std'])}",
        f"observed: {saved:.1f} epochs saved on average; early − last test accuracy per seed "
        f"{', '.join(f'{d:+.3f}' for d in delta)}",
    ]
