"""Workload 10: classification — time to a training loss and to a validation accuracy, 1 and 2 threads.

Two problems with a softmax cross-entropy loss and no regularization:
peaks (notes 000; 1,000 points in 5 classes, 800 for training and 200 for
validation) with the notes' single hidden layer 2-32-5 tanh, and digits
(1,347 training and 450 validation images, the split of workload 5) with
64-64-10 tanh. Contenders, each from three seeds:

- numnet's ``minimize`` with Gauss-Newton, Levenberg–Marquardt,
  Newton-CG and L-BFGS (default options, ``gtol=0``), recording every
  accepted iterate; on peaks and one thread also the structured methods
  block Gauss-Newton and variable projection (block and Schur curvature)
  and mini-batch SGD and Adam (:data:`PEAKS_METHODS`: the comparison of
  first- and second-order methods on the notes' problem that the former
  ``benchmarks/bench_optimizers.py`` made);
- PyTorch full-batch Adam (lr 0.01) and ``torch.optim.LBFGS`` (strong
  Wolfe), float64, same network and initial weights as numnet;
- scikit-learn's ``MLPClassifier`` with ``solver="lbfgs"`` and ``"adam"``
  (its own initialization for the seed, ``alpha=0`` so that its loss is
  the same, ``tol=0``). It has no callback, so its trace is a series of
  fresh fits with growing ``max_iter`` budgets k (×1.5 until both goals
  are reached, then a bisection for each goal): the time to a goal is the
  fit time of the smallest budget reaching it.

The validation accuracy is measured outside the timed run (the clock is
paused). The clock is the run's ``--clock`` on one thread (``cpu``: the
process's CPU time, which other processes do not inflate) and wall time
on two. A run stops when both goals are reached or at :data:`CAP_S`.
Small problems are where thread pools cost more than they give, and not
every library alike, so everything runs on 1 and on 2 threads.
"""

import math
import os
import time
import warnings

import numpy as np

from ._contenders import (
    ADAM,
    TORCH_LBFGS,
    mlp,
    numnet_methods,
    numnet_run,
    torch_adam_run,
    torch_lbfgs_run,
)
from ._timing import threads_limited
from ._trace import Goals, Trace, best_row, describe, loss_at_median, row

__all__ = ["run", "NAME", "PROBLEMS", "QUICK_PROBLEMS", "budget_trace", "make_problem"]

NAME = "classification"
SEEDS = (0, 1, 2)
METHODS = ("gauss-newton", "levenberg-marquardt", "newton-cg", "lbfgs")
#: Further numnet contenders on peaks (one thread): label -> (method, options). SGD/Adam: mini-batches of 32,
#: step sizes tuned by hand on this problem; an SGD/Adam step of the trace is an epoch.
PEAKS_METHODS = {
    "block-gauss-newton": ("block-gauss-newton", {}),
    "varpro": ("varpro", {}),
    "varpro, schur": ("varpro", {"curvature": "schur"}),
    "sgd, batch 32, lr 0.05, momentum 0.9": (
        "sgd",
        {"learning_rate": 0.05, "momentum": 0.9, "batch_size": 32},
    ),
    "adam, batch 32, lr 0.01": ("adam", {"learning_rate": 0.01, "batch_size": 32}),
}
CAP_S, QUICK_CAP_S = 8.0, 0.2
SCAN_FACTOR = 2.0  # scikit-learn's budget scan stops after this many caps of fitting
PROBLEMS = (
    {"name": "peaks", "hidden": 32, "loss": 3e-2, "accuracy": 0.94, "n": 1000},
    {"name": "digits", "hidden": 64, "loss": 1e-3, "accuracy": 0.97},
)
QUICK_PROBLEMS = (
    {"name": "peaks", "hidden": 4, "loss": 1.0, "accuracy": 0.4, "n": 200},
    {"name": "digits", "hidden": 4, "loss": 1.5, "accuracy": 0.5},
)


def _peaks(spec):
    from numnet.datasets import peaks, train_val_test_split

    X, y = peaks(spec["n"], 5, random_state=0)
    Xtr, ytr, Xva, yva, _, _ = train_val_test_split(
        X, y, val_fraction=0.2, test_fraction=0.0, random_state=0
    )
    return Xtr, ytr, Xva, yva


def _digits(spec):
    from sklearn.model_selection import train_test_split

    from numnet.datasets import digits

    X, y = digits()
    Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    return Xtr, ytr, Xva, yva


def make_problem(spec):
    """``(net, (Xtr, ytr, Xva, yva), label)`` of one entry of :data:`PROBLEMS`."""
    data = {"peaks": _peaks, "digits": _digits}[spec["name"]](spec)
    widths = (data[0].shape[1], spec["hidden"], int(data[1].max()) + 1)
    label = (
        f"{spec['name']}, {'-'.join(map(str, widths))} tanh, {len(data[0])} train / {len(data[2])} "
        f"validation, targets: loss {spec['loss']:.0e}, validation accuracy {spec['accuracy']:.0%}"
    )
    return mlp(widths), data, label


def _sklearn_fit(solver, hidden, data, seed, clock=time.perf_counter):
    """``fit(k) -> (seconds, training loss, validation accuracy)`` for a fresh ``MLPClassifier`` with budget k."""
    from sklearn.metrics import log_loss
    from sklearn.neural_network import MLPClassifier

    Xtr, ytr, Xva, yva = data

    def fit(k):
        est = MLPClassifier(
            (hidden,),
            activation="tanh",
            solver=solver,
            alpha=0.0,
            max_iter=k,
            tol=0.0,
            n_iter_no_change=10**9,
            random_state=seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # budgets below convergence warn by design
            t0 = clock()
            est.fit(Xtr, ytr)
            seconds = clock() - t0
        loss = log_loss(ytr, est.predict_proba(Xtr), labels=est.classes_)
        return seconds, loss, float(np.mean(est.predict(Xva) == yva))

    return fit


def _hits(points, goals):
    """``{goal: smallest budget reaching it}`` among ``points`` ({k: (seconds, loss, accuracy)})."""
    ok = {"loss": lambda p: p[1] <= goals.loss, "accuracy": lambda p: p[2] >= goals.accuracy}
    return {
        g: min((k for k, p in points.items() if test(p)), default=None) for g, test in ok.items()
    }


def budget_trace(fit, goals, *, k0=2, growth=1.5, k_max=100_000):
    """A :class:`~_trace.Trace` from fresh fits ``fit(k)`` with growing budgets, sorted by k (see the module)."""
    points, k, spent = {}, k0, 0.0
    while k <= k_max:
        points[k] = fit(k)
        spent += points[k][0]
        if (
            None not in _hits(points, goals).values()
            or points[k][0] >= goals.cap_s
            or spent >= SCAN_FACTOR * goals.cap_s
            or not math.isfinite(points[k][1])
        ):
            break
        k = max(k + 1, math.ceil(k * growth))
    for goal in ("loss", "accuracy"):
        _bisect(fit, points, goals, goal)
    trace = Trace(goals)
    trace.points, trace.steps = [points[k] for k in sorted(points)], sorted(points)
    return trace


def _bisect(fit, points, goals, goal):
    """Fit budgets between the smallest budget reaching ``goal`` and the largest miss below it until adjacent."""
    hit = _hits(points, goals)[goal]
    if hit is None:
        return
    lo = max((k for k in points if k < hit), default=0)
    while hit - lo > 1:
        mid = (lo + hit) // 2
        points[mid] = fit(mid)
        lo, hit = (lo, mid) if _hits({mid: points[mid]}, goals)[goal] else (mid, hit)


def _contenders(net, data, hidden, more=()):
    """``{impl: (role, unit of its steps, run(seed, theta0, goals) -> Trace)}``; ``more``: labels of PEAKS_METHODS."""
    from numnet.objective import Objective

    Xtr, ytr, Xva, yva = data
    obj = Objective(net, "cross_entropy", Xtr, ytr)
    acc = lambda theta: np.mean(net.predict(theta, Xva).argmax(axis=1) == yva)  # noqa: E731
    out = {
        f"numnet minimize({m})": (
            "numnet",
            "iterations",
            lambda s, th, g, m=m: numnet_run(obj, th, m, g, acc),
        )
        for m in numnet_methods(METHODS)
    }
    for label in more:
        method, options = PEAKS_METHODS[label]
        unit = "epochs" if method in ("sgd", "adam") else "iterations"
        out[f"numnet minimize({label})"] = (
            "numnet",
            unit,
            lambda s, th, g, m=method, o=options: numnet_run(obj, th, m, g, acc, **o),
        )
    out[ADAM] = (
        "peer",
        "steps",
        lambda s, th, g: torch_adam_run(
            net, th, "cross_entropy", Xtr, ytr, g, _torch_accuracy(Xva, yva)
        ),
    )
    out[TORCH_LBFGS] = (
        "peer",
        "evaluations",
        lambda s, th, g: torch_lbfgs_run(
            net, th, "cross_entropy", Xtr, ytr, g, _torch_accuracy(Xva, yva)
        ),
    )
    for solver, unit in (("lbfgs", "iterations"), ("adam", "epochs")):
        out[f"sklearn MLPClassifier({solver})"] = (
            "peer",
            unit,
            lambda s, th, g, solver=solver: budget_trace(
                _sklearn_fit(solver, hidden, data, s, g.clock), g
            ),
        )
    return out


def _torch_accuracy(Xva, yva):
    import torch

    Xt = torch.from_numpy(Xva)
    return lambda model: float(np.mean(model(Xt).argmax(dim=1).numpy() == yva))


def _race(contenders, seeds, thetas, goals):
    """Traces of every contender from every seed, after one short untimed warm-up each; seeds interleaved."""
    warm = Goals(goals.loss, min(0.05, goals.cap_s), goals.accuracy, goals.clock)
    for _, _, fn in contenders.values():
        fn(seeds[0], thetas[0], warm)
    traces = {impl: [] for impl in contenders}
    for seed, theta in zip(seeds, thetas):
        for impl, (_, _, fn) in contenders.items():
            traces[impl].append(fn(seed, theta, goals))
    return traces


def _goal_case(spec, label, threads, contenders, traces, goal, clock):
    rows = [
        row(impl, role, traces[impl], goal, unit) for impl, (role, unit, _) in contenders.items()
    ]
    main = best_row(rows, "numnet")
    t_main = next((r["median_s"] for r in rows if r["impl"] == main), None)
    for r in loss_at_median(rows, traces, t_main):
        r["extra"] = describe(r)
    what = (
        f"training loss {spec['loss']:.0e}"
        if goal == "loss"
        else f"validation accuracy {spec['accuracy']:.0%}"
    )
    return {
        "workload": f"{NAME}_{goal}",
        "dtype": "float64",
        "threads": threads,
        "problem_name": spec["name"],
        "problem": f"{label}; time to {what}; {threads} thread{'s' if threads > 1 else ''}, {clock} clock",
        "goal": goal,
        "main": main,
        "best_peer": best_row(rows, "peer"),
        "rows": rows,
        "notes": [
            f"numnet's best: {main or 'none reached the goal'}; fastest peer: "
            f"{best_row(rows, 'peer') or 'none reached the goal'}."
        ],
    }


def _cases(spec, threads, settings, seeds):
    """The loss and accuracy cases of one problem at one thread count (the run's clock on one thread, else wall)."""
    net, data, label = make_problem(spec)
    clock = settings.clock if threads == 1 else "wall"
    goals = Goals(
        spec["loss"],
        QUICK_CAP_S if settings.quick else CAP_S,
        spec["accuracy"],
        settings.now if threads == 1 else time.perf_counter,
    )
    more = (
        [k for k, (m, _) in PEAKS_METHODS.items() if numnet_methods([m])]
        if spec["name"] == "peaks" and threads == 1
        else []
    )
    contenders = _contenders(net, data, spec["hidden"], more)
    with threads_limited(threads):
        traces = _race(contenders, seeds, [net.init(s) for s in seeds], goals)
    return [
        _goal_case(spec, label, threads, contenders, traces, goal, clock)
        for goal in ("loss", "accuracy")
    ]


def thread_counts():
    """1 and 2 threads (just 1 on a one-core machine)."""
    return sorted({1, min(2, os.cpu_count() or 1)})


def run(settings, dtypes):
    """Two cases (loss, accuracy) per problem and thread count; float64 only (none when float64 is not asked)."""
    if "float64" not in [np.dtype(d).name for d in dtypes]:
        return []
    seeds = SEEDS[:1] if settings.quick else SEEDS
    return [
        case
        for threads in thread_counts()
        for spec in (QUICK_PROBLEMS if settings.quick else PROBLEMS)
        for case in _cases(spec, threads, settings, seeds)
    ]
