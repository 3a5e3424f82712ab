"""Backpropagation on any DAG (notes 002): chain, residual and inception networks on spirals.

Notes 002, "Different DAG structures": backpropagation works for any directed
acyclic graph of modules, not only for the plain layerwise chain; the notes
show residual blocks and the inception module (parallel branches of
different depths, with dimension reductions, concatenated). Each network
here is a :class:`~numnet.graph.Graph` over one flat θ: a stem
Dense(2, w), ``n_modules`` modules of width w, and a linear head Dense(w, 2)
with a softmax cross-entropy loss. The modules:

- chain: Z = σ(σ(X W₁ + b₁) W₂ + b₂), two dense layers;
- residual: Z = X + σ(σ(X W₁ + b₁) W₂ + b₂), the same layers with an
  :class:`~numnet.graph.Add` skip connection (the same parameter count);
- inception: Z = [σ(X W_a), σ(σ(X R_b) W_b), σ(σ(σ(X R_c) V_c) W_c)]
  (biases omitted here), three branches of depth 1, 2 and 3 whose first
  layers reduce the width to w/2, joined by :class:`~numnet.graph.Concat`
  (15/16 of the chain's module weights).

Every network is trained by the same method from ``n_seeds`` random starts
with the same budget of passes over the data (a value or a gradient is half
a pass, a Hessian- or Gauss-Newton-vector product one, an epoch one: see
:mod:`numnet.experiments.single_layer_peaks`). Final numbers are at each
run's best iterate (the lowest training loss, what ``minimize`` returns);
curves follow the iterates.
"""

import numpy as np

from ..datasets import spirals, train_val_test_split
from ..graph import Add, Concat, Graph, Node
from ..layers import Dense
from ..objective import Objective
from . import ExperimentResult
from ._common import accuracy, seeded_runs
from ._params import Choice, Int, Training, experiment
from ._runs import curve, pass_grid, plot_band, stats

__all__ = ["dag_experiment", "dag_networks", "ARCHITECTURES", "METHOD_OPTIONS"]

NAME = "dag"
HELP = "backprop on any DAG (notes 002): chain, residual and inception networks of equal size on spirals"

ARCHITECTURES = ("chain", "residual", "inception")
#: The methods this experiment offers, each with all of its options (nothing inherited).
METHOD_OPTIONS = {
    "lbfgs": {},
    "newton-cg": {"max_cg": 20},
    "gauss-newton": {"max_cg": 20, "solver": "cg"},
    "adam": {"learning_rate": 0.01, "batch_size": 32, "full_eval": False},
}


def _needs(p):
    return [
        Training(
            dag_networks(p["width"], p["n_modules"])["residual"],
            p["n_samples"],
            p["method"],
            ("n_samples", "width", "n_modules"),
        )
    ]


def dag_networks(width=16, n_modules=4, *, d_in=2, n_outputs=2, activation="tanh"):
    """``{"chain", "residual", "inception"}`` → :class:`Graph` (module docstring)."""
    if width < 3:
        raise ValueError(f"width must be at least 3 (three inception branches), got {width}")
    return {
        arch: Graph(d_in, _nodes(arch, d_in, width, n_modules, n_outputs, activation))
        for arch in ARCHITECTURES
    }


def _nodes(arch, d_in, w, n_modules, n_outputs, act):
    nodes, prev = [Node("stem", Dense(d_in, w, act))], "stem"
    for k in range(n_modules):
        new = (_inception if arch == "inception" else _two_layers)(f"m{k}", prev, w, act)
        if arch == "residual":
            new.append(Node(f"m{k}", Add(), (prev, new[-1].name)))
        nodes += new
        prev = new[-1].name
    return nodes + [Node("head", Dense(w, n_outputs), prev)]


def _two_layers(name, prev, w, act):
    return [
        Node(f"{name}.1", Dense(w, w, act), prev),
        Node(f"{name}.2", Dense(w, w, act), f"{name}.1"),
    ]


def _inception(name, prev, w, act):
    """Branches of depth 1, 2, 3 with widths a, b, a (a = w//4, b = w − 2a), reductions to r = w//2."""
    a, r = max(1, w // 4), max(1, w // 2)
    b = w - 2 * a
    return [
        Node(f"{name}.a", Dense(w, a, act), prev),
        Node(f"{name}.b1", Dense(w, r, act), prev),
        Node(f"{name}.b2", Dense(r, b, act), f"{name}.b1"),
        Node(f"{name}.c1", Dense(w, r, act), prev),
        Node(f"{name}.c2", Dense(r, r, act), f"{name}.c1"),
        Node(f"{name}.c3", Dense(r, a, act), f"{name}.c2"),
        Node(name, Concat(), (f"{name}.a", f"{name}.b2", f"{name}.c3")),
    ]


@experiment(
    NAME,
    HELP,
    needs=_needs,
    n_samples=Int(4, why="two of each class, one of each held out", help="spiral points"),
    width=Int(3, why="three inception branches", help="module width w"),
    n_modules=Int(1, help="modules per network"),
    method=Choice(tuple(METHOD_OPTIONS), help="training method for every network"),
    passes=Int(1, help="budget of passes over the data per run"),
    max_iter=Int(1, help="at most this many iterations per run"),
    n_seeds=Int(1, help="random starts per network"),
)
def dag_experiment(
    *,
    n_samples=1000,
    width=16,
    n_modules=4,
    method="lbfgs",
    passes=150,
    max_iter=1000,
    n_seeds=3,
    val_fraction=0.3,
    seed=0,
    plot=True,
):
    """Train the chain, residual and inception networks on spirals with one method and budget.

    Parameters
    ----------
    n_samples : int, default=1000
        Spiral points (noise 0.05), split into training and validation.
    width, n_modules : int, default=16, 4
        Module width w (at least 3) and the number of modules.
    method : str, default="lbfgs"
        A key of :data:`METHOD_OPTIONS`.
    passes : float, default=150
        Budget of work per run in passes over the training data.
    max_iter : int, default=1000
        At most this many iterations (epochs for Adam) per run.
    n_seeds : int, default=3
        Random starts per network: seeds ``seed``, ``seed + 1``, …
    val_fraction : float, default=0.3
    seed : int, default=0
        Seed of the data and of the first start.
    plot : bool, default=True
        Draw ``dag.png``.

    Returns
    -------
    ExperimentResult
        numbers per architecture ``<arch>_n_params`` and the mean and standard
        deviation over seeds (``_mean``, ``_std``) of ``<arch>_loss``,
        ``_train_accuracy``, ``_val_accuracy``, ``_passes``, ``_time``; the
        per-seed values under ``<arch>_runs``; the mean curves against
        ``passes_grid`` under ``curves``.

    Notes
    -----
    Notes 002: the gradient of a DAG is one reverse sweep over the nodes in
    reverse topological order; a node with several consumers (the input of
    a residual or inception module) sums their cotangents, and Add and Concat
    pass the cotangent to every input (Add) or split its columns (Concat).
    """
    if method not in METHOD_OPTIONS:
        raise ValueError(f"method must be one of {tuple(METHOD_OPTIONS)}, got {method!r}")
    X, y = spirals(n_samples, 0.05, random_state=seed)
    Xtr, ytr, Xva, yva, _, _ = train_val_test_split(
        X, y, val_fraction=val_fraction, test_fraction=0.0, random_state=seed
    )
    grid, numbers, curves = pass_grid(passes), {}, {}
    for arch, net in dag_networks(width, n_modules).items():
        train, val = (
            Objective(net, "cross_entropy", Xtr, ytr),
            Objective(net, "cross_entropy", Xva, yva),
        )
        traces = seeded_runs(
            train,
            net,
            method,
            n_seeds,
            seed,
            passes=passes,
            max_iter=max_iter,
            **METHOD_OPTIONS[method],
        )
        numbers.update(_summary(arch, net, traces, train, val))
        curves[arch] = {
            "loss": [curve(t, grid) for t in traces],
            "train_accuracy": [curve(t, grid, lambda th: accuracy(train, th)) for t in traces],
            "val_accuracy": [curve(t, grid, lambda th: accuracy(val, th)) for t in traces],
        }
    numbers["passes_grid"] = grid
    numbers["curves"] = {
        a: {k: np.mean(v, axis=0) for k, v in c.items()} for a, c in curves.items()
    }
    figures = {"dag.png": _figure(grid, curves, method, numbers)} if plot else {}
    return ExperimentResult(NAME, numbers, figures, _table(numbers, method, n_seeds))


def _summary(arch, net, traces, train, val):
    runs = {
        "loss": [float(t.result.fun) for t in traces],
        "train_accuracy": [accuracy(train, t.result.x) for t in traces],
        "val_accuracy": [accuracy(val, t.result.x) for t in traces],
        "passes": [float(t.passes[-1]) for t in traces],
        "time": [float(t.time[-1]) for t in traces],
    }
    out = {f"{arch}_n_params": int(net.n_params), f"{arch}_runs": runs}
    for key, values in runs.items():
        out[f"{arch}_{key}_mean"], out[f"{arch}_{key}_std"] = stats(values)
    return out


def _table(nb, method, n_seeds):
    lines = [
        f"{method}, mean ± std over {n_seeds} seeds",
        f"{'network':>10} {'params':>6} {'train loss':>19} {'train acc':>13} {'val acc':>13} "
        f"{'passes':>6} {'time s':>6}",
    ]
    for a in ARCHITECTURES:
        pm = lambda k, f: f"{nb[f'{a}_{k}_mean']:{f}} ± {nb[f'{a}_{k}_std']:{f}}"  # noqa: E731
        lines.append(
            f"{a:>10} {nb[f'{a}_n_params']:6d} {pm('loss', '8.2e')} {pm('train_accuracy', '.3f')} "
            f"{pm('val_accuracy', '.3f')} {nb[f'{a}_passes_mean']:6.0f} {nb[f'{a}_time_mean']:6.2f}"
        )
    return "\n".join(lines)


def _figure(grid, curves, method, nb):
    from ..plots import new_figure

    fig, axes = new_figure(3, width=3.6, height=2.9)
    titles = {
        "loss": "training loss",
        "train_accuracy": "training accuracy",
        "val_accuracy": "validation accuracy",
    }
    for ax, (key, title) in zip(axes[0], titles.items()):
        for arch, c in curves.items():
            plot_band(ax, grid, c[key], f"{arch} ({nb[f'{arch}_n_params']} params)")
        ax.set(xlabel="passes over the data", ylabel=title, title=f"{title} ({method})")
    axes[0, 0].set_yscale("log")
    axes[0, 0].legend(fontsize=8)
    return fig
