"""``numnet single-layer`` (notes 000/004) on reduced sizes, each asserting its number.

Training a single layer on the peaks data: from the same start and on the same budget of passes
Gauss-Newton and Newton-CG end lower than SGD; the trace records every iterate and stops at the
budget; and the experiment's table, accuracies and figures.
"""

import numpy as np

from numnet.experiments import single_layer_peaks as slp

from experiment_support import _close_figures, _one_blas_thread  # noqa: F401 (autouse fixtures)


def test_second_order_beats_sgd_at_equal_passes():
    """Same start, same budget of 800 passes over the data: GN and Newton-CG end lower than SGD."""
    prob = slp.peaks_problem(n_samples=200, n_hidden=16, seed=0)
    theta0 = prob.net.init(0)
    loss = {
        m: slp.train_method(prob.train, theta0, m, passes=800, max_iter=5000).result.fun
        for m in ("sgd", "gauss-newton", "newton-cg")
    }
    assert loss["gauss-newton"] < 0.85 * loss["sgd"]
    assert loss["newton-cg"] < 0.85 * loss["sgd"]


def test_trace_records_every_iterate_and_stops_at_the_budget():
    prob = slp.peaks_problem(n_samples=200, n_hidden=8, seed=1)
    tr = slp.train_method(prob.train, prob.net.init(1), "gauss-newton", passes=60, max_iter=500)
    assert len(tr.thetas) == len(tr.loss) == len(tr.passes) == tr.result.nit + 1
    assert tr.passes[-2] < 60 <= tr.passes[-1]
    assert np.all(np.diff(tr.passes) > 0) and tr.loss[-1] < tr.loss[0]
    assert tr.result.status.name == "CALLBACK"


def test_single_layer_experiment_table_and_accuracy():
    res = slp.single_layer_peaks_experiment(
        methods=("lbfgs", "gauss-newton"), n_samples=200, n_hidden=8, passes=100, seed=0
    )
    nb = res.numbers
    for m in ("lbfgs", "gauss-newton"):
        assert nb[f"{m}_passes"] >= 100 and nb[f"{m}_train_accuracy"] > 0.6
        assert m in res.table
    assert set(res.figures) == {"single_layer.png", "single_layer_boundaries.png"}
