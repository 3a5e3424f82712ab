"""Random features (extreme learning machines) on peaks (notes 000, "first experiment").

K and b are drawn at random and kept; only the output weights W of
W σ(KY + b) = C are fitted, by least squares on the one-hot classes
(:func:`numnet.random_features.fit_least_squares`). The experiment reports

- training and validation error for σ = sin, tanh, relu at m = 200 features;
- the error against the width m;
- the singular values of the feature matrix Z = σ(X Kᵀ + b) per activation,
  and the rank with the identity, which cannot exceed n_features + 1 (notes
  000: "what happens to rank(σ(KY)) when σ(x) = x?").

The decay of the singular values follows the smoothness of σ. relu has a
kink: after a quick drop its spectrum has a long, flat (algebraically
decaying) tail, so almost all singular values stay above 10⁻⁴ s_max; tanh is
analytic in a strip and decays exponentially; sin is entire and, with
Gaussian K, decays fastest, so its feature matrix has the lowest effective
rank. The ``effective rank`` counts singular values above 10⁻⁴ · s_max; the
numerical ``rank`` uses the ``numpy.linalg.matrix_rank`` tolerance.
"""

import numpy as np

from ..plots import new_figure
from ..random_features import random_features
from . import ExperimentResult
from ._common import (
    activation_spectra,
    effective_rank,
    fit_and_score,
    peaks_samples_kind,
    peaks_split,
)
from ._params import Float, Int, IntList, Memory, deprecated_alias, experiment

__all__ = [
    "random_features_peaks_experiment",
    "fit_and_score",
    "effective_rank",
    "activation_spectra",
    "peaks_split",
]

NAME = "random-features"
HELP = "extreme learning machines on peaks: error for sin/tanh/relu, error against width, singular values"

ACTIVATIONS = ("sin", "tanh", "relu")
WIDTHS = (5, 10, 20, 50, 100, 200, 400, 800)


def _needs(p):
    """The feature matrix of the widest model and its least-squares and SVD workspaces."""
    m = max(p["n_hidden"], *p["widths"])
    return [
        Memory(8 * 5 * p["n_samples"] * m, ("n_samples", "n_hidden", "widths"), f"{m} features")
    ]


def _width_sweep(data, widths, alpha, seed):
    return {
        act: np.array(
            [
                fit_and_score(random_features(2, m, act, random_state=seed), data, alpha)
                for m in widths
            ]
        )
        for act in ACTIVATIONS
    }


@experiment(
    NAME,
    HELP,
    needs=_needs,
    n_samples=peaks_samples_kind(),
    n_hidden=Int(1, help="features m"),
    widths=IntList(1, empty=False, example="5,10,20", help="widths m of the sweep"),
    alpha=Float(0.0, help="ridge weight λ on W (0: the notes' plain least squares)"),
)
def random_features_peaks_experiment(
    *, n_samples=1000, n_hidden=200, widths=WIDTHS, alpha=0.0, seed=0
):
    """Random-feature classifiers on peaks (5 classes, 20 % validation).

    Parameters
    ----------
    n_samples : int
    n_hidden : int
        m of the main comparison and of the spectra.
    widths : sequence of int
        Widths of the error-against-m sweep.
    alpha : float
        Ridge weight on W (0: plain minimum-norm least squares).
    seed : int
        Seed of the data and of K, b (the same K, b for every activation).

    Returns
    -------
    ExperimentResult
        numbers per activation ``<act>_train_error``, ``<act>_val_error``,
        ``<act>_rank`` (numerical rank), ``<act>_effective_rank``; ``identity_rank``
        and ``identity_rank_bound``; the sweep and the singular values;
        figure ``random_features.png``.
    """
    data, widths = peaks_split(n_samples, seed), [int(m) for m in widths]
    Xtr = data[0]
    spectra, sweep = (
        activation_spectra(Xtr, n_hidden, seed),
        _width_sweep(data, widths, alpha, seed),
    )
    numbers = {"n_hidden": n_hidden}
    for act in ACTIVATIONS:
        tr, va = fit_and_score(random_features(2, n_hidden, act, random_state=seed), data, alpha)
        s = spectra[act].singular_values
        numbers.update(
            {
                f"{act}_train_error": tr,
                f"{act}_val_error": va,
                f"{act}_rank": spectra[act].rank,
                f"{act}_effective_rank": effective_rank(s),
            }
        )
    numbers.update(
        {
            "identity_rank": spectra["identity"].rank,
            "identity_rank_bound": spectra["identity"].rank_bound,
            "widths": widths,
            **{f"{a}_sweep_train_val": sweep[a] for a in ACTIVATIONS},
            **{f"{a}_singular_values": spectra[a].singular_values for a in spectra},
        }
    )
    return ExperimentResult(
        NAME, numbers, {"random_features.png": _figure(spectra, sweep, widths)}, _table(numbers)
    )


def _table(nb):
    lines = [f"{'sigma':>8} {'train err':>10} {'val err':>8} {'rank':>5} {'eff. rank':>9}"]
    lines += [
        f"{a:>8} {nb[f'{a}_train_error']:10.3f} {nb[f'{a}_val_error']:8.3f} {nb[f'{a}_rank']:5d} "
        f"{nb[f'{a}_effective_rank']:9d}"
        for a in ACTIVATIONS
    ]
    lines.append(
        f"{'identity':>8} {'':>10} {'':>8} {nb['identity_rank']:5d}   (bound n_features + 1 = "
        f"{nb['identity_rank_bound']})"
    )
    return "\n".join(lines)


def _figure(spectra, sweep, widths):
    fig, axes = new_figure(2, width=4.2, height=3.3)
    for act, spec in spectra.items():
        s = spec.singular_values
        axes[0, 0].semilogy(np.arange(1, s.size + 1), np.maximum(s / s[0], 1e-18), label=act)
    axes[0, 0].set(
        xlabel="index", ylabel="s_i / s_1", title="singular values of σ(X Kᵀ + b)", ylim=(1e-18, 2)
    )
    axes[0, 0].legend(fontsize=8)
    for act, line in zip(ACTIVATIONS, ("C0", "C1", "C2")):
        axes[0, 1].semilogx(
            widths, sweep[act][:, 1], "o-", color=line, ms=3, label=f"{act} validation"
        )
        axes[0, 1].semilogx(widths, sweep[act][:, 0], ":", color=line, label=f"{act} training")
    axes[0, 1].set(xlabel="width m", ylabel="classification error", title="error against width")
    axes[0, 1].legend(fontsize=7)
    return fig


#: Deprecated name of :func:`random_features_peaks_experiment`.
random_features_peaks = deprecated_alias(random_features_peaks_experiment, "random_features_peaks")
