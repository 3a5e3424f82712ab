"""Recurrent networks (notes 002): the adding problem, an unrolled RNN against an MLP of its size.

Notes 002, "Different DAG structures — RNN": a recurrent network unrolled
over T steps is a DAG whose T copies of the cell share one set of weights,
so backpropagation (through time) applies and the parameter count does not
grow with T. The task is the adding problem (Hochreiter & Schmidhuber
1997): a row is a sequence of T pairs x_t = (u_t, m_t), u_t ~ U[0, 1], with
marker m_t = 1 at one step of the first half and one of the second, 0
elsewhere; the target is y = Σ_t u_t m_t, the sum of the two marked values.

- RNN: h_t = tanh(x_t W_x + h_{t−1} W_h + b), F = h_T w + c
  (:class:`~numnet.layers.recurrent.Recurrent`), d_h(d_h + 4) + 1 parameters
  whatever T is;
- MLP: F = tanh(X W₁ + b₁) W₂ + b₂ on the flattened 2T inputs, with the width
  m whose count m(2T + 2) + 1 is closest to the RNN's: each hidden unit costs
  2T + 2 parameters, so at equal size it has a handful of units for the
  T products u_t m_t it would have to form. (A few times wider it does
  learn the task: width 10 at T = 10, 221 parameters, reached a held-out
  error of 0.007 with Gauss-Newton. What weight sharing buys is a
  parameter count independent of T.)

Both are trained on the same sequences by a first-order method (Adam) and a
second-order one (Gauss-Newton, as Martens & Sutskever trained RNNs) with
the same budget of passes over the data (see
:mod:`numnet.experiments.single_layer_peaks`; an Adam epoch is one pass) and
scored on fresh sequences by the normalized mean squared error
mean((F − y)²) / var(y), var(y) = 1/6 (1: predicting the mean 1), and the
fraction of predictions within 0.04 of the target (Hochreiter &
Schmidhuber's criterion). Final numbers are at each run's best iterate (the
lowest training loss, what ``minimize`` returns); curves follow the iterates.
"""

import numpy as np

from ..layers import Dense
from ..layers.recurrent import Recurrent
from ..network import Sequential
from ..objective import Objective
from . import ExperimentResult
from ._common import seeded_runs
from ._params import Int, Methods, Training, experiment
from ._runs import curve, pass_grid, plot_band, stats

__all__ = [
    "rnn_experiment",
    "adding_problem",
    "rnn_and_mlp",
    "nmse",
    "within",
    "METHOD_OPTIONS",
    "TARGET_VARIANCE",
]

NAME = "rnn"
HELP = "RNN vs an MLP of equal size on the adding problem (notes 002), trained by Adam and Gauss-Newton"

MODELS = ("rnn", "mlp")
#: var(u_i + u_j) for u_i, u_j ~ U[0, 1] independent: the error of predicting the mean, 1.
TARGET_VARIANCE = 1.0 / 6.0
#: The methods this experiment offers, each with all of its options (nothing inherited).
METHOD_OPTIONS = {
    "adam": {"learning_rate": 0.01, "batch_size": 50, "full_eval": False},
    "sgd": {"learning_rate": 0.05, "momentum": 0.9, "batch_size": 50, "full_eval": False},
    "gauss-newton": {"max_cg": 50, "solver": "cg"},
    "levenberg-marquardt": {"max_cg": 50, "solver": "cg"},
    "newton-cg": {"max_cg": 50},
    "lbfgs": {},
}


def _needs(p):
    rows = max(p["n_train"], p["n_test"])
    return [
        Training(net, rows, method, ("n_steps", "n_hidden", "n_train", "n_test"))
        for net in rnn_and_mlp(p["n_steps"], p["n_hidden"]).values()
        for method in p["methods"]
    ]


def adding_problem(n_samples, n_steps, rng):
    """Sequences of the adding problem (module docstring).

    Parameters
    ----------
    n_samples : int
    n_steps : int
        Sequence length T, at least 2.
    rng : int, np.random.Generator or None

    Returns
    -------
    X : ndarray of shape (n_samples, 2 n_steps)
        Rows (u_1, m_1, u_2, m_2, …): the flattened time-major (T, 2) sequences.
    y : ndarray of shape (n_samples, 1)
        Σ_t u_t m_t.
    """
    if n_steps < 2:
        raise ValueError(f"n_steps must be at least 2 (one marker in each half), got {n_steps}")
    rng = np.random.default_rng(rng)
    u, m, rows = (
        rng.uniform(size=(n_samples, n_steps)),
        np.zeros((n_samples, n_steps)),
        np.arange(n_samples),
    )
    m[rows, rng.integers(0, n_steps // 2, n_samples)] = 1.0
    m[rows, rng.integers(n_steps // 2, n_steps, n_samples)] = 1.0
    return np.stack([u, m], axis=-1).reshape(n_samples, 2 * n_steps), (u * m).sum(
        axis=1, keepdims=True
    )


def rnn_and_mlp(n_steps, n_hidden, activation="tanh"):
    """``{"rnn", "mlp"}`` → networks; the MLP's width makes its parameter count closest to the RNN's."""
    rnn = Sequential([Recurrent(n_steps, 2, n_hidden, activation=activation), Dense(n_hidden, 1)])
    width = max(1, round((rnn.n_params - 1) / (2 * n_steps + 2)))
    return {"rnn": rnn, "mlp": Sequential([Dense(2 * n_steps, width, activation), Dense(width, 1)])}


@experiment(
    NAME,
    HELP,
    needs=_needs,
    n_steps=Int(2, why="a marker in each half", help="sequence length T"),
    n_hidden=Int(1, help="RNN state width d_h"),
    n_train=Int(1, help="training sequences"),
    n_test=Int(1, help="held-out sequences"),
    methods=Methods(METHOD_OPTIONS, help="comma-separated training methods"),
    passes=Int(1, help="budget of passes over the data per run"),
    max_iter=Int(1, help="at most this many iterations (Adam: epochs) per run"),
    n_seeds=Int(1, help="random starts per run"),
)
def rnn_experiment(
    *,
    n_steps=10,
    n_hidden=6,
    n_train=1000,
    n_test=2000,
    methods=("adam", "gauss-newton"),
    passes=500,
    max_iter=5000,
    n_seeds=3,
    seed=0,
    plot=True,
):
    """Train the RNN and the MLP of equal size on the adding problem with each method.

    Parameters
    ----------
    n_steps : int, default=10
        Sequence length T (at least 2).
    n_hidden : int, default=6
        RNN state width d_h.
    n_train, n_test : int, default=1000, 2000
        Training and held-out sequences.
    methods : sequence of str, default=("adam", "gauss-newton")
        Keys of :data:`METHOD_OPTIONS`.
    passes : float, default=500
        Budget of work per run in passes over the training data.
    max_iter : int, default=5000
        At most this many iterations (Adam: epochs) per run.
    n_seeds : int, default=3
        Random starts per model and method: seeds ``seed``, ``seed + 1``, …
    seed : int, default=0
        Seed of the sequences and of the first start.
    plot : bool, default=True
        Draw ``rnn.png``.

    Returns
    -------
    ExperimentResult
        numbers ``rnn_n_params``, ``mlp_n_params``, ``target_variance``, and per
        run ``<model>_<method>_`` mean and standard deviation over seeds
        (``_mean``, ``_std``) of ``test_nmse``, ``train_nmse``,
        ``test_within_0.04``, ``passes``, ``time``; per-seed values under
        ``<model>_<method>_runs``; ``best_rnn_test_nmse`` and
        ``best_mlp_test_nmse`` (best mean over methods); mean held-out curves
        against ``passes_grid`` under ``curves``.

    Notes
    -----
    Notes 002: the unrolled RNN is a DAG with shared parameters; its
    gradient is backpropagation through time, gW_h = Σ_t h_{t−1}ᵀ gA_t summed
    over the T copies of the cell (:class:`~numnet.layers.recurrent.Recurrent`).
    The Gauss-Newton products Jᵀ J v (squared error: ∇²E = I/n) use the same
    jvp and vjp.
    """
    for m in methods:
        if m not in METHOD_OPTIONS:
            raise ValueError(f"methods must be keys of {tuple(METHOD_OPTIONS)}, got {m!r}")
    rng = np.random.default_rng(seed)
    (Xtr, ytr), (Xte, yte) = (
        adding_problem(n_train, n_steps, rng),
        adding_problem(n_test, n_steps, rng),
    )
    grid, nets = pass_grid(passes), rnn_and_mlp(n_steps, n_hidden)
    numbers = {f"{k}_n_params": int(net.n_params) for k, net in nets.items()}
    numbers["target_variance"], curves = TARGET_VARIANCE, {}
    for model, net in nets.items():
        train, test = (
            Objective(net, "squared_error", Xtr, ytr),
            Objective(net, "squared_error", Xte, yte),
        )
        for method in methods:
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
            numbers.update(_summary(f"{model}_{method}", traces, train, test))
            curves[f"{model}_{method}"] = [
                curve(t, grid, lambda th: nmse(test, th)) for t in traces
            ]
    for model in MODELS:
        numbers[f"best_{model}_test_nmse"] = min(
            numbers[f"{model}_{m}_test_nmse_mean"] for m in methods
        )
    numbers["passes_grid"] = grid
    numbers["curves"] = {k: np.mean(c, axis=0) for k, c in curves.items()}
    figures = {"rnn.png": _figure(grid, curves, numbers)} if plot else {}
    return ExperimentResult(NAME, numbers, figures, _table(numbers, methods, n_steps, n_seeds))


def nmse(obj, theta):
    """mean((F − y)²) / var(y) on ``obj``'s samples (its loss E is ½ the mean squared error)."""
    return 2.0 * float(obj.value(theta)) / TARGET_VARIANCE


def within(obj, theta, tol):
    """Fraction of ``obj``'s samples predicted within ``tol`` of the target."""
    return float(np.mean(np.abs(obj.predict(theta) - obj.Y) < tol))


def _summary(key, traces, train, test):
    """Per-seed numbers of the runs ``traces`` and their mean and std, under ``key``."""
    runs = {
        "test_nmse": [nmse(test, t.result.x) for t in traces],
        "train_nmse": [nmse(train, t.result.x) for t in traces],
        "test_within_0.04": [within(test, t.result.x, 0.04) for t in traces],
        "passes": [float(t.passes[-1]) for t in traces],
        "time": [float(t.time[-1]) for t in traces],
    }
    out = {f"{key}_runs": runs}
    for name, values in runs.items():
        out[f"{key}_{name}_mean"], out[f"{key}_{name}_std"] = stats(values)
    return out


def _table(nb, methods, n_steps, n_seeds):
    lines = [
        f"adding problem, T = {n_steps}; mean ± std over {n_seeds} seeds; nmse = mse / var(y)",
        f"{'model':>5} {'params':>6} {'method':>20} {'test nmse':>17} {'train nmse':>17} "
        f"{'|err|<0.04':>10} {'passes':>6} {'time s':>6}",
    ]
    for model in MODELS:
        for m in methods:
            k = f"{model}_{m}"
            pm = lambda s: f"{nb[f'{k}_{s}_mean']:.2e} ± {nb[f'{k}_{s}_std']:.1e}"  # noqa: E731
            lines.append(
                f"{model:>5} {nb[f'{model}_n_params']:6d} {m:>20} {pm('test_nmse')} "
                f"{pm('train_nmse')} "
                f"{nb[f'{k}_test_within_0.04_mean']:10.3f} {nb[f'{k}_passes_mean']:6.0f} "
                f"{nb[f'{k}_time_mean']:6.2f}"
            )
    return "\n".join(lines)


def _figure(grid, curves, nb):
    from ..plots import new_figure

    fig, axes = new_figure(1, width=5.0, height=3.6)
    ax = axes[0, 0]
    for key, c in curves.items():
        model, method = key.split("_", 1)
        plot_band(
            ax,
            grid,
            c,
            f"{model} ({nb[f'{model}_n_params']} params), {method}",
            linestyle="-" if model == "rnn" else "--",
        )
    ax.axhline(1.0, color="k", linewidth=0.8, linestyle=":", label="predict the mean")
    ax.set(
        yscale="log",
        xlabel="passes over the training data",
        ylabel="held-out mse / var(y)",
        title="adding problem: held-out error",
    )
    ax.legend(fontsize=7)
    return fig
