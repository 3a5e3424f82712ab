"""Quasi-Newton with mini-batches: why the curvature pairs break, and overlapping batches as the fix (notes 004).

Notes 004: quasi-Newton methods "usually work very well in full batch, but do
not transfer well to the mini-batch setting". L-BFGS and BFGS build H ≈ ∇²J⁻¹
from pairs s_k = x_{k+1} − x_k, y_k = ∇J(x_{k+1}) − ∇J(x_k). With
mini-batches the natural pair uses the gradients the method has anyway,

    y_k = ∇J_{S_{k+1}}(x_{k+1}) − ∇J_{S_k}(x_k)
        = [∇J_{S_k}(x_{k+1}) − ∇J_{S_k}(x_k)]  +  [∇J_{S_{k+1}}(x_{k+1}) − ∇J_{S_k}(x_{k+1})],

a curvature term of size ‖∇²J s_k‖ plus the difference of two batches'
gradients at one point, of size ~ σ/√b that does not shrink with the step:
as the steps shrink, y_k is mostly sampling noise, yᵀs loses its sign, and H
no longer describes the curvature. The fix of Berahas, Nocedal & Takáč ("A
multi-batch L-BFGS method for machine learning", NeurIPS 2016) takes the
pair on the overlap O_k = S_k ∩ S_{k+1} of consecutive batches,

    y_k = ∇J_{O_k}(x_{k+1}) − ∇J_{O_k}(x_k),

one batch's gradient at two points: a difference of gradients on the same
samples, hence the curvature of J_{O_k} along s_k, at no extra cost when the
batch gradient is assembled from its pieces. Here S_k = C_k ∪ C_{k+1} with
chunks C of b/2 samples (from a fresh permutation every epoch), so
O_k = C_{k+1}; the naive scheme uses disjoint batches S_k = C_{2k} ∪ C_{2k+1}.
Every variant takes the step x_{k+1} = x_k + t p_k, p_k = −H_k ∇J_{S_k}(x_k),
with a fixed t (1 by default, the quasi-Newton step; Berahas et al. also use
a fixed step) or Armijo backtracking on J_{S_k}, and the memory's skip rule
(yᵀs ≤ 10⁻⁸ ‖s‖‖y‖, :mod:`numnet.optim.quasi_newton`). The problem is
softmax regression on the digits with weight decay (strongly convex), so
J* is known and the Hessian ∇²J is positive definite: how well H undoes it
is the condition number of H^{1/2} ∇²J H^{1/2}.
"""

import numpy as np

from ..curvature import hessian_dense
from ..datasets import digits
from ..layers import Dense
from ..network import Sequential
from ..objective import Objective
from ..optim import minimize
from ..optim.quasi_newton import LBFGS, BFGSInverse
from ..regularizers import Tikhonov
from . import ExperimentResult
from ._params import Float, Int, IntList, experiment

__all__ = [
    "qn_minibatch_experiment",
    "minibatch_quasi_newton",
    "chunk_stream",
    "digits_problem",
    "preconditioned_condition",
]

NAME = "qn-minibatch"
HELP = (
    "Quasi-Newton (L-BFGS, BFGS) full batch vs mini-batches: curvature pairs across batches break it, "
    "overlapping batches fix it (notes 004)."
)

SCHEMES = ("naive", "overlap")


def digits_problem(alpha=1e-3):
    """Softmax regression on the 1797 digits with ½α‖θ‖² (biases too): strongly convex, 650 parameters."""
    X, y = digits()
    return Objective(Sequential([Dense(64, 10)]), "cross_entropy", X, y, Tikhonov(alpha))


def chunk_stream(n, chunk, rng):
    """Chunks of ``chunk`` row indices, a fresh permutation of range(n) every epoch (the tail dropped)."""
    while True:
        perm = rng.permutation(n)
        for i in range(n // chunk):
            yield perm[i * chunk : (i + 1) * chunk]


class _Pieces:
    """Gradients of the objective on chunks at one point, combined into a batch gradient (equal chunk sizes)."""

    def __init__(self, obj, x, chunks):
        self.grads = [obj.batch(c).grad(x) for c in chunks]

    def mean(self):
        return sum(self.grads) / len(self.grads)


def _armijo(obj_b, x, f, g, p, c1=1e-4, max_backtracks=30):
    """Backtracking on the batch objective from t = 1: (t, f_new, trials) or (0, f, trials) on failure."""
    slope, t = float(g @ p), 1.0
    for k in range(max_backtracks + 1):
        f_new = obj_b.value(x + t * p)
        if np.isfinite(f_new) and f_new <= f + c1 * t * slope:
            return t, f_new, k + 1
        t *= 0.5
    return 0.0, f, max_backtracks + 1


def minibatch_quasi_newton(
    obj,
    x0,
    memory,
    *,
    batch_size,
    scheme="overlap",
    epochs=30,
    step_size=None,
    seed=0,
    diagnose=True,
):
    """Mini-batch (L-)BFGS with the naive or the overlapping curvature pairs; a full batch when b ≥ n.

    Parameters
    ----------
    obj : Objective
    x0 : ndarray
    memory : LBFGS or BFGSInverse
        Updated in place.
    batch_size : int
        b (rounded down to even); ``b >= n`` runs the full-batch method.
    scheme : {"naive", "overlap"}
    epochs : float
        Budget in passes over the data (gradient and line-search sample evaluations, per sample).
    step_size : float, optional
        A fixed step t (as in Berahas et al.); None: Armijo on the batch.
    seed : int
    diagnose : bool
        Also compute the full-batch pair at every step (not counted) to
        measure the relative error ‖y_k − y_k^full‖ / ‖y_k^full‖.

    Returns
    -------
    dict
        ``passes`` and ``loss`` (the full objective) after every step,
        ``pair_error`` per step, ``skipped`` (pairs refused), ``failed``
        (line searches without a decrease), ``steps``.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"scheme must be one of {SCHEMES}, got {scheme!r}")
    n = obj.n_samples
    full = batch_size >= n
    chunk = n if full else batch_size // 2
    stream = chunk_stream(n, chunk, np.random.default_rng(seed))
    step_chunks = 1 if full else 2
    cur = [next(stream) for _ in range(step_chunks)]
    x, pieces = x0.copy(), _Pieces(obj, x0, cur)
    used, out = (
        step_chunks * chunk,
        {
            "passes": [0.0],
            "loss": [float(obj.value(x0))],
            "pair_error": [],
            "skipped": 0,
            "failed": 0,
        },
    )
    while used < epochs * n:
        g, rows = pieces.mean(), np.concatenate(cur)
        obj_b = obj.batch(rows)
        p = -memory.dot(g)
        if step_size is None:
            t, _, trials = _armijo(obj_b, x, obj_b.value(x), g, p if float(g @ p) < 0 else -g)
            used += (trials + 1) * rows.size
        else:
            t = step_size
        if t == 0.0:
            out["failed"] += 1
            memory.reset()
        x_new = x + t * (p if float(g @ p) < 0 else -g)
        nxt = (
            [next(stream) for _ in range(step_chunks)]
            if (full or scheme == "naive")
            else [cur[1], next(stream)]
        )
        new_pieces = _Pieces(obj, x_new, nxt)
        used += step_chunks * chunk
        y = _pair(obj, pieces, new_pieces, cur, nxt, scheme, full, x, x_new)
        if t > 0 and not memory.update(x_new - x, y):
            out["skipped"] += 1
        if diagnose and t > 0:
            y_full = obj.grad(x_new) - obj.grad(x)
            out["pair_error"].append(
                float(np.linalg.norm(y - y_full) / max(np.linalg.norm(y_full), 1e-300))
            )
        x, pieces, cur = x_new, new_pieces, nxt
        out["passes"].append(used / n)
        out["loss"].append(float(obj.value(x)))
    out["steps"] = len(out["loss"]) - 1
    out["x"] = x
    return out


def preconditioned_condition(memory, obj, x):
    """κ(H^{1/2} ∇²J(x) H^{1/2}) and κ(∇²J(x)): how well the memory's H undoes the curvature (1 is perfect).

    ∇²J by :func:`~numnet.curvature.hessian_dense` (the exact Hessian), H
    column by column from ``memory.dot``; with H = L Lᵀ the eigenvalues are
    those of Lᵀ ∇²J L.
    """
    A = hessian_dense(obj, x)
    A = 0.5 * (A + A.T)
    H = np.column_stack([memory.dot(e) for e in np.eye(x.size, dtype=x.dtype)])
    L = np.linalg.cholesky(0.5 * (H + H.T))
    lam, mu = np.linalg.eigvalsh(L.T @ A @ L), np.linalg.eigvalsh(A)
    return float(lam[-1] / lam[0]), float(mu[-1] / mu[0])


def _pair(obj, old, new, cur, nxt, scheme, full, x, x_new):
    """y_k: the batch gradients' difference (naive, full batch) or the overlap chunk's at both points."""
    if full or scheme == "naive":
        return new.mean() - old.mean()
    return new.grads[0] - old.grads[1]  # O_k = C_{k+1}: nxt[0] is cur[1]


def _memory(kind, n_params):
    return LBFGS(10) if kind == "lbfgs" else BFGSInverse(n_params)


@experiment(
    NAME,
    HELP,
    batch_sizes=IntList(
        2, 1797, empty=False, example="32,128,512", help="mini-batch sizes b (digits)"
    ),
    epochs=Int(1, help="passes over the data"),
    step_size=Float(
        0.0, 10.0, open_min=True, help="fixed step t of every run (1: the quasi-Newton step)"
    ),
    alpha=Float(0.0, 1e3, open_min=True, why="a strongly convex problem", help="weight decay α"),
)
def qn_minibatch_experiment(
    *, batch_sizes=(32, 128, 512), epochs=60, alpha=1e-3, step_size=1.0, seed=0, plot=True
):
    """L-BFGS and BFGS on digits: full batch, then each batch size with naive and with overlapping pairs.

    Parameters
    ----------
    batch_sizes : sequence of int, default=(32, 128, 512)
    epochs : float, default=60
        Budget of every run in passes over the data.
    alpha : float, default=1e-3
        Weight decay of the softmax regression (:func:`digits_problem`).
    step_size : float or None, default=1.0
        Fixed step of every run (None: Armijo on the batch).
    seed : int, default=0
        Seed of the start and of the batch permutations.
    plot : bool, default=True
        Draw ``qn_minibatch.png``.

    Returns
    -------
    ExperimentResult
        numbers: ``optimum`` (J* by full-batch L-BFGS to ‖∇J‖ ≤ 1e-10), and
        for each run ``<kind>_<scheme>_<b>`` (and ``<kind>_full``) the final
        excess ``excess_...`` = J − J*, the largest excess over the second
        half of the run ``late_max_...``, ``median_pair_error_...``,
        ``skipped_...`` (fraction of pairs refused), ``failed_...``
        (line searches without decrease) and ``kappa_...`` (condition
        number of the curvature seen through the final H,
        :func:`preconditioned_condition`), ``kappa_hessian`` (that of
        ∇²J itself at the last point); ``curves`` for the figure.
    """
    obj = digits_problem(alpha)
    x0 = obj.net.init(seed)
    optimum = float(minimize(obj, x0, "lbfgs", max_iter=5000, gtol=1e-10).fun)
    numbers, curves = {"batch_sizes": list(batch_sizes), "epochs": epochs, "optimum": optimum}, {}
    for kind in ("lbfgs", "bfgs"):
        runs = [("full", obj.n_samples, "naive")] + [
            (f"{s}_{b}", b, s) for b in batch_sizes for s in SCHEMES
        ]
        for label, b, scheme in runs:
            memory = _memory(kind, obj.n_params)
            res = minibatch_quasi_newton(
                obj,
                x0,
                memory,
                batch_size=b,
                scheme=scheme,
                epochs=epochs,
                step_size=step_size,
                seed=seed,
            )
            key, excess = f"{kind}_{label}", np.maximum(np.array(res["loss"]) - optimum, 0.0)
            numbers.update(_summary(key, res, excess, memory, obj))
            curves[key] = (res["passes"], excess, res["pair_error"])
    figures = {"qn_minibatch.png": _figure(curves, batch_sizes)} if plot else {}
    numbers["curves"] = {k: {"passes": v[0], "excess": v[1]} for k, v in curves.items()}
    return ExperimentResult(NAME.replace("-", "_"), numbers, figures, _table(numbers, batch_sizes))


def _summary(key, res, excess, memory, obj):
    kappa, kappa_h = preconditioned_condition(memory, obj, res["x"])
    return {
        f"excess_{key}": float(excess[-1]),
        f"late_max_{key}": float(excess[excess.size // 2 :].max()),
        f"kappa_{key}": kappa,
        "kappa_hessian": kappa_h,
        f"median_pair_error_{key}": float(np.median(res["pair_error"] or [np.nan])),
        f"skipped_{key}": res["skipped"] / max(res["steps"], 1),
        f"failed_{key}": res["failed"],
    }


def _table(nb, batch_sizes):
    lines = [
        f"{'method':>6} {'pairs':>8} {'b':>5} {'J - J*':>10} {'late max':>9} {'|y - y_full|/|y_full|':>22} "
        f"{'skipped':>8} {'cond(H^1/2 A H^1/2)':>20}"
    ]
    for kind in ("lbfgs", "bfgs"):
        rows = [("full", "all", f"{kind}_full")] + [
            (s, b, f"{kind}_{s}_{b}") for b in batch_sizes for s in SCHEMES
        ]
        for scheme, b, key in rows:
            lines.append(
                f"{kind:>6} {scheme:>8} {b:>5} {nb['excess_' + key]:>10.2e} {nb['late_max_' + key]:>9.2e} "
                f"{nb['median_pair_error_' + key]:>22.3g} {nb['skipped_' + key]:>8.2f} "
                f"{nb['kappa_' + key]:>20.3g}"
            )
    lines.append(
        f"cond(A) of the Hessian A itself: {nb['kappa_hessian']:.3g}; J* = {nb['optimum']:.6f}"
    )
    return "\n".join(lines)


def _figure(curves, batch_sizes):
    from ..plots import new_figure

    fig, axes = new_figure(3, width=4.0, height=3.3)
    for ax, kind in zip(axes[0, :2], ("lbfgs", "bfgs")):
        passes, loss, _ = curves[f"{kind}_full"]
        ax.semilogy(passes, np.maximum(loss, 1e-16), "k-", lw=1.5, label="full batch")
        for i, b in enumerate(batch_sizes):
            for scheme, ls in zip(SCHEMES, ("--", "-")):
                passes, loss, _ = curves[f"{kind}_{scheme}_{b}"]
                ax.semilogy(
                    passes,
                    np.maximum(loss, 1e-16),
                    ls,
                    color=f"C{i}",
                    lw=1,
                    label=f"b={b} {scheme}",
                )
        ax.set(xlabel="passes over the data", ylabel="J − J*", title=kind.upper())
        ax.legend(fontsize=6, ncol=2)
    ax = axes[0, 2]
    for kind, marker in (("lbfgs", "o"), ("bfgs", "s")):
        for scheme, ls in zip(SCHEMES, ("--", "-")):
            q = np.array(
                [
                    np.percentile(curves[f"{kind}_{scheme}_{b}"][2], [25, 50, 75])
                    for b in batch_sizes
                ]
            )
            ax.errorbar(
                batch_sizes,
                q[:, 1],
                yerr=[q[:, 1] - q[:, 0], q[:, 2] - q[:, 1]],
                ls=ls,
                marker=marker,
                ms=4,
                capsize=3,
                label=f"{kind.upper()} {scheme}",
            )
    ax.axhline(1.0, color="k", lw=0.5)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="batch size b",
        ylabel="‖y − y_full‖ / ‖y_full‖ (quartiles)",
        title="curvature pairs: error per step",
    )
    ax.set_xticks(list(batch_sizes), [str(b) for b in batch_sizes])
    ax.set_xticks([], minor=True)
    ax.legend(fontsize=7)
    return fig
