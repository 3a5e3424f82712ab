"""The tour behind ``numnet demo`` (and ``make run``): about a minute on built-in data.

Four stops, each a piece of the notes, on the peaks data (5 classes):

1. random features (notes 000): K, b random, W by least squares; validation
   error and singular values of σ(X Kᵀ + b) for sin, tanh, relu, and the
   rank bound of the identity;
2. the single layer trained with Gauss-Newton, SGD and L-BFGS on the same
   budget of passes over the data (notes 000/004);
3. the derivative check of notes 000 on the trained objective: the gradient
   against values, and the R-operator Hessian-vector product against
   gradients (first- and second-order Taylor errors, orders 1 and 2);
4. the Hessian spectrum at the Gauss-Newton solution (note 004): every
   eigenvalue of the exact Hessian (p Hessian-vector products) next to the
   Gauss-Newton matrix, which is positive semi-definite, and the extreme
   eigenvalues again by Lanczos.

Writes ``demo.png`` (all stops in one figure), ``report.md`` and
``demo.json`` under ``--out``.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._files import atomic_path
from ..checks import derivative_check
from ..curvature import extreme_eigenvalues, hessian_dense, outer_product_hessian
from ..plots import new_figure, save_figure
from . import ExperimentResult
from ._common import (
    PEAKS_METHOD_OPTIONS,
    accuracy,
    activation_spectra,
    effective_rank,
    fit_and_score,
    peaks_problem,
    peaks_samples_kind,
    peaks_split,
    peaks_training,
    plot_decision_regions,
    train_method,
)
from ._params import Float, deprecated_alias, experiment

__all__ = ["demo_experiment", "DemoResult", "summary_table"]

NAME = "demo"
HELP = "a one-minute tour: random features, Gauss-Newton vs SGD, derivative check, Hessian spectrum"
TOUR_METHODS = ("gauss-newton", "sgd", "lbfgs")


@dataclass
class DemoResult(ExperimentResult):
    """The tour's result: printed as the summary table; saved as ``demo.png`` (at 80 dpi, a small PNG for
    the README), ``demo.json`` and ``report.md``. ``passes`` is the budget the tour ran with."""

    passes: float = 0.0

    def save(self, out_dir):
        """Write ``demo.png``, ``demo.json`` and ``report.md`` under ``out_dir``; return the paths."""
        figures, self.figures = self.figures, {}
        try:
            paths = [
                save_figure(figures["demo.png"], Path(out_dir) / "demo.png", dpi=80)
            ] + super().save(out_dir)
        finally:
            self.figures = figures
        return paths + [_write_report(self, self.passes, out_dir)]

    def __str__(self):
        return f"== numnet demo ==\n{self.table}"


def _needs(p):
    return peaks_training(p["n_samples"], 200, TOUR_METHODS, ("n_samples",))


def _random_features(n_samples, seed):
    data = peaks_split(n_samples, seed)
    from ..random_features import random_features

    errors = {
        act: fit_and_score(random_features(2, 200, act, random_state=seed), data)[1]
        for act in ("sin", "tanh", "relu")
    }
    return errors, activation_spectra(data[0], 200, seed)


def _training(n_samples, passes, seed):
    prob = peaks_problem(n_samples=n_samples, seed=seed)
    theta0 = prob.net.init(seed)
    traces = {
        m: train_method(
            prob.train, theta0, m, passes=passes, max_iter=10_000, **PEAKS_METHOD_OPTIONS.get(m, {})
        )
        for m in TOUR_METHODS
    }
    return prob, traces


def _checks(obj, theta):
    """Taylor tests of the gradient and of the Hessian-vector product at θ (a random start)."""
    lin = obj.at(theta)
    first = derivative_check(
        obj.value,
        theta,
        lambda v: float(np.vdot(lin.grad, v)),
        n_steps=10,
        name="J(θ) with ∇J (gradient by backpropagation)",
    )
    second = derivative_check(
        obj.grad, theta, lin.hvp, n_steps=10, seed=1, name="∇J(θ) with ∇²J v (R-operator)"
    )
    return first, second


def _spectrum(obj, theta):
    H = hessian_dense(obj, theta)
    G = outer_product_hessian(obj, theta)  # Σ J_nᵀ ∇²E J_n + λ∇²R, the matrix of lin.gnvp
    lanczos = extreme_eigenvalues(obj, theta, k=2, which="BE")
    return (
        np.linalg.eigvalsh(0.5 * (H + H.T)),
        np.linalg.eigvalsh(G),
        lanczos,
        float(np.abs(H - H.T).max() / np.abs(H).max()),
    )


@experiment(
    NAME,
    HELP,
    needs=_needs,
    details="derivative-check tables",
    n_samples=peaks_samples_kind(),
    passes=Float(0.0, open_min=True, help="budget of passes over the data per training method"),
)
def demo_experiment(*, n_samples=1000, passes=1000, seed=0):
    """Run the tour; return numbers, the summary table and the figure ``demo.png``.

    Parameters
    ----------
    n_samples : int
        Peaks points (80 % training, 20 % validation).
    passes : float
        Work budget per training method, in passes over the data.
    seed : int
    """
    rf_errors, spectra = _random_features(n_samples, seed)
    prob, traces = _training(n_samples, passes, seed)
    theta = traces["gauss-newton"].result.x
    checks = _checks(prob.train, traces["gauss-newton"].thetas[0])
    eig_H, eig_G, lanczos, asym = _spectrum(prob.train, theta)
    nb = {
        **_random_feature_numbers(rf_errors, spectra),
        **_training_numbers(traces, prob),
        **_check_numbers(checks),
        **_spectrum_numbers(eig_H, eig_G, lanczos, asym),
        "check_table": f"{checks[0]}\n\n{checks[1]}",
    }
    fig = _figure(spectra, traces, prob, checks, eig_H, eig_G)
    return DemoResult(
        NAME, nb, {"demo.png": fig}, summary_table(nb, passes), nb["check_table"], passes
    )


def _random_feature_numbers(rf_errors, spectra):
    nb = {f"rf_{a}_val_error": e for a, e in rf_errors.items()}
    nb.update(
        {f"rf_{a}_effective_rank": effective_rank(s.singular_values) for a, s in spectra.items()}
    )
    nb.update(
        {
            "rf_identity_rank": spectra["identity"].rank,
            "rf_identity_bound": spectra["identity"].rank_bound,
        }
    )
    return nb


def _training_numbers(traces, prob):
    nb = {}
    for m, tr in traces.items():
        nb.update(
            {
                f"{m}_loss": float(tr.result.fun),
                f"{m}_val_accuracy": accuracy(prob.val, tr.result.x),
                f"{m}_iterations": int(tr.result.nit),
                f"{m}_seconds": float(tr.time[-1]),
            }
        )
    return nb


def _check_numbers(checks):
    return {
        "check_gradient_passed": checks[0].passed,
        "check_hessian_passed": checks[1].passed,
        "check_gradient_order": float(np.nanmedian(checks[0].order1)),
        "check_hessian_order": float(np.nanmedian(checks[1].order1)),
    }


def _spectrum_numbers(eig_H, eig_G, lanczos, asym):
    return {
        "hessian_max": float(eig_H[-1]),
        "hessian_min": float(eig_H[0]),
        "hessian_n_negative": int((eig_H < -1e-10 * eig_H[-1]).sum()),
        "n_params": int(eig_H.size),
        "lanczos_min_max": lanczos.tolist(),
        "hessian_asymmetry": asym,
        "gauss_newton_min": float(eig_G[0]),
        "gauss_newton_max": float(eig_G[-1]),
    }


def _verdict(ok):
    return "passed" if ok else "FAILED"


def _rows(nb, passes):
    rf = ", ".join(f"{a} {nb[f'rf_{a}_val_error']:.3f}" for a in ("sin", "tanh", "relu"))
    ranks = ", ".join(f"{a} {nb[f'rf_{a}_effective_rank']}" for a in ("sin", "tanh", "relu"))
    rows = [
        ("random features, m = 200", "validation error", rf),
        ("", "effective rank of σ(XKᵀ+b)", ranks),
        (
            "",
            "rank with σ = identity",
            f"{nb['rf_identity_rank']} (bound n_f + 1 = {nb['rf_identity_bound']})",
        ),
    ]
    for m in TOUR_METHODS:
        rows.append(
            (
                f"single layer, {passes:g} passes" if m == TOUR_METHODS[0] else "",
                m,
                f"loss {nb[f'{m}_loss']:.4f}, val. accuracy {nb[f'{m}_val_accuracy']:.3f}, "
                f"{nb[f'{m}_iterations']} it., {nb[f'{m}_seconds']:.2f} s",
            )
        )
    rows += [
        (
            "derivative check at θ₀",
            "gradient",
            f"{_verdict(nb['check_gradient_passed'])}, order {nb['check_gradient_order']:.2f}",
        ),
        (
            "",
            "Hessian-vector product",
            f"{_verdict(nb['check_hessian_passed'])}, order {nb['check_hessian_order']:.2f}",
        ),
        (
            "Hessian spectrum",
            f"exact Hessian, p = {nb['n_params']}",
            f"[{nb['hessian_min']:.3g}, {nb['hessian_max']:.3g}], {nb['hessian_n_negative']} negative",
        ),
        (
            "",
            "Gauss-Newton matrix",
            f"[{nb['gauss_newton_min']:.3g}, {nb['gauss_newton_max']:.3g}]",
        ),
        ("", "Hessian by Lanczos (both ends)", "[{:.3g}, {:.3g}]".format(*nb["lanczos_min_max"])),
    ]
    return rows


def summary_table(nb, passes):
    """The printed summary: one row per result."""
    rows = _rows(nb, passes)
    w0, w1 = max(len(r[0]) for r in rows), max(len(r[1]) for r in rows)
    return "\n".join(f"{a:<{w0}}  {b:<{w1}}  {c}" for a, b, c in rows)


def _markdown_table(nb, passes):
    lines = ["| part | quantity | result |", "|---|---|---|"]
    return "\n".join(lines + [f"| {a} | {b} | {c} |" for a, b, c in _rows(nb, passes)])


def _write_report(result, passes, out):
    nb = result.numbers
    text = "\n".join(
        [
            "# numnet demo",
            "",
            "A one-minute tour of numnet on the peaks data (5 classes, 80 % training, 20 % validation).",
            "",
            _markdown_table(nb, passes),
            "",
            "![demo](demo.png)",
            "",
            "## Derivative check (notes 000)",
            "",
            "Taylor test at the random start θ₀ along a random direction: the first error column is",
            "O(h), the second O(h²) (observed orders ≈ 1 and ≈ 2).",
            "",
            "```",
            nb["check_table"],
            "```",
            "",
        ]
    )
    path = Path(out) / "report.md"
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def _figure(spectra, traces, prob, checks, eig_H, eig_G):
    """The six panels of ``demo.png``."""
    fig, axes = new_figure(3, 2, width=3.3, height=2.7)
    _spectra_panel(axes[0, 0], spectra)
    _training_panels(axes[0, 1], axes[0, 2], traces, prob)
    _boundary_panel(axes[1, 0], prob, traces["gauss-newton"].result.x)
    _check_panel(axes[1, 1], checks)
    _eigen_panel(axes[1, 2], eig_H, eig_G)
    return fig


def _spectra_panel(ax, spectra):
    for act, spec in spectra.items():
        s = spec.singular_values
        ax.semilogy(np.arange(1, s.size + 1), np.maximum(s / s[0], 1e-17), label=act)
    ax.set(
        title="random features: singular values",
        xlabel="index",
        ylabel="s_i / s_1",
        ylim=(1e-17, 2),
    )
    ax.legend(fontsize=7)


def _training_panels(ax_loss, ax_acc, traces, prob):
    for m, tr in traces.items():
        ax_loss.loglog(np.maximum(tr.passes, 0.5), tr.loss, label=m)
        ax_acc.semilogx(
            np.maximum(tr.time, 1e-3), [accuracy(prob.val, th) for th in tr.thetas], label=m
        )
    ax_loss.set(
        title="single layer: loss against work",
        xlabel="passes over the data",
        ylabel="training loss",
    )
    ax_loss.legend(fontsize=7)
    ax_acc.set(title="validation accuracy", xlabel="time [s]", ylabel="accuracy")


def _boundary_panel(ax, prob, theta):
    X, y = prob.val.X, prob.val.Y.argmax(axis=1)
    plot_decision_regions(ax, prob.net, theta, X, y, size=3, linewidth=0.1)
    ax.set(title="Gauss-Newton: decision regions", xticks=[], yticks=[])


def _check_panel(ax, checks):
    for chk, label in zip(checks, ("gradient", "Hessian-vector")):
        ax.loglog(chk.h, chk.E1, "o-", ms=3, label=f"{label}: |f(x+hv)−f(x)−hJv|")
        ax.loglog(chk.h, chk.E0, "s:", ms=3, label=f"{label}: |f(x+hv)−f(x)|")
    ax.set(title="derivative check (O(h), O(h²))", xlabel="h", ylabel="error")
    ax.legend(fontsize=6)


def _eigen_panel(ax, eig_H, eig_G):
    ax.plot(eig_H[::-1], ".", ms=3, label="Hessian")
    ax.plot(eig_G[::-1], ".", ms=3, label="Gauss-Newton")
    ax.set_yscale("symlog", linthresh=1e-4)
    ax.set(title="spectrum at the GN solution", xlabel="index", ylabel="eigenvalue")
    ax.legend(fontsize=7)


#: Deprecated name of :func:`demo_experiment`.
demo = deprecated_alias(demo_experiment, "demo")
