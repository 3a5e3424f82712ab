"""warm_start and partial_fit carry the optimizer's full state (issue 18, item 6).

fit(max_iter=N) equals fit(max_iter=k) followed by a warm-started fit for
the other N-k iterations, bit for bit (theta_, n_iter_, loss_curve_,
loss_, validation scores), for first-order, stochastic, quasi-Newton and
damped second-order solvers, with early stopping too, and across
``numnet.save``/``load``; partial_fit k times on the same rows equals
fit(max_iter=k). What is not the same run (other rows, other solver
options, a theta_ changed by hand) starts a new run from theta_, as
scikit-learn's warm_start does. A corrupt ``optimizer_state_`` is refused on
load, naming it.
"""

import hashlib
import io
import json
import warnings
import zipfile

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from numnet import load, save
from numnet.datasets import peaks
from numnet.estimators import MLPClassifier, MLPRegressor, NetworkClassifier
from numnet.estimators._warm import read_optimizer_state
from numnet.optim.transforms import AdamState

N = 8
STOCHASTIC = {"learning_rate_init": 0.02, "batch_size": 32}
SOLVERS = {
    "sgd": STOCHASTIC,
    "adam": STOCHASTIC,
    "lbfgs": {},
    "bfgs": {},
    "levenberg-marquardt": {},
    "trust-ncg": {},
}


@pytest.fixture(scope="module")
def data():
    return peaks(240, 3, random_state=2)


def fitted(est, X, y, *calls):
    """``est`` after ``fit`` with each ``max_iter`` in ``calls`` (the later ones warm-started)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for i, max_iter in enumerate(calls):
            est.set_params(max_iter=max_iter, warm_start=i > 0).fit(X, y)
    return est


def assert_same_fit(a, b):
    np.testing.assert_array_equal(a.theta_, b.theta_)
    assert (a.n_iter_, a.loss_curve_, a.loss_) == (b.n_iter_, b.loss_curve_, b.loss_)
    assert getattr(a, "validation_scores_", None) == getattr(b, "validation_scores_", None)


def classifier(solver, **kwargs):
    return MLPClassifier(
        (6,),
        **{
            "solver": solver,
            "tol": 0.0,
            "n_iter_no_change": 100,
            "random_state": 0,
            **SOLVERS[solver],
            **kwargs,
        },
    )


@pytest.mark.parametrize("solver", sorted(SOLVERS))
def test_warm_started_fits_equal_one_fit(data, solver):
    straight = fitted(classifier(solver), *data, N)
    assert_same_fit(straight, fitted(classifier(solver), *data, 3, N - 3))
    assert_same_fit(straight, fitted(classifier(solver), *data, 2, 2, N - 4))
    assert read_optimizer_state(straight.optimizer_state_)["nit"] == N


@pytest.mark.parametrize("solver", ["sgd", "lbfgs"])
def test_warm_start_with_early_stopping_keeps_split_and_monitor(data, solver):
    """The validation split, the scores and the no-improvement count go on: n_iter_no_change=3 stops the
    split run where it stops the straight one."""

    def make():
        return classifier(solver, early_stopping=True, n_iter_no_change=3, validation_fraction=0.25)

    straight = fitted(make(), *data, 30)
    assert 2 <= straight.n_iter_ < 30  # early stopping did stop it
    k = straight.n_iter_ // 2  # before that stop (a fit asked for more after a stop runs more)
    split = fitted(make(), *data, k, 30 - k)
    assert_same_fit(straight, split)
    assert split.best_validation_score_ == straight.best_validation_score_


def test_a_regressor_and_a_network_estimator_continue_too(data):
    X, y = data
    t = np.sin(X[:, 0]) + X[:, 1]
    common = {"tol": 0.0, "n_iter_no_change": 100, "random_state": 1, **STOCHASTIC}

    def regressor():
        return MLPRegressor((5,), solver="adam", **common)

    def network():
        return NetworkClassifier("dense:5,tanh,dropout:0.2", solver="sgd", **common)

    assert_same_fit(fitted(regressor(), X, t, N), fitted(regressor(), X, t, 5, N - 5))
    assert_same_fit(fitted(network(), X, y, N), fitted(network(), X, y, 1, N - 1))


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_the_optimizer_state_survives_save_and_load(data, tmp_path, solver):
    first = fitted(classifier(solver), *data, 3)
    back = load(save(first, tmp_path / "half.npz"))
    np.testing.assert_array_equal(back.optimizer_state_, first.optimizer_state_)
    assert_same_fit(fitted(classifier(solver), *data, N), _continue(back, data, N - 3))


def _continue(est, data, max_iter):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.set_params(max_iter=max_iter, warm_start=True).fit(*data)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_partial_fit_k_times_equals_fit_k_iterations(data, solver):
    X, y = data
    straight = fitted(classifier(solver), X, y, N)
    est = classifier(solver)
    for _ in range(N):
        est.partial_fit(X, y, classes=[0, 1, 2])
    assert np.all(np.diff(straight.loss_curve_) < 0)  # fit's best iterate is its last here
    assert_same_fit(straight, est)


def test_partial_fit_keeps_adam_moments_over_batches_of_any_size(data):
    X, y = data
    est = classifier("adam", batch_size=20)
    sizes = [100, 37, 103]
    for i, n in enumerate(sizes):
        est.partial_fit(X[:n], y[:n], classes=[0, 1, 2] if i == 0 else None)
    adam = next(
        s
        for s in read_optimizer_state(est.optimizer_state_)["state"].opt
        if isinstance(s, AdamState)
    )
    assert adam.count == sum(-(-n // 20) for n in sizes)  # every mini-batch step of every call
    assert est.n_iter_ == 3 and len(est.loss_curve_) == 3


def test_what_is_not_the_same_run_starts_a_new_run_from_theta(data):
    """Other rows, other solver options, theta_ set by hand: a new run (its history starts at 0)."""
    X, y = data
    changes = {
        "rows": lambda est: (X[:200], y[:200]),
        "options": lambda est: est.set_params(learning_rate_init=0.03) and (X, y),
        "theta": lambda est: setattr(est, "theta_", est.theta_ * 0.5) or (X, y),
    }
    for name, change in changes.items():
        est = fitted(classifier("adam"), X, y, 3)
        start = est.theta_.copy()
        rows = change(est)
        if name == "theta":
            start = est.theta_.copy()
        _continue(est, rows, 2)
        assert read_optimizer_state(est.optimizer_state_)["nit"] == 2, name
        assert est.n_iter_ == 5 and len(est.loss_curve_) == 5, name
        assert not np.array_equal(est.theta_, start), name


def test_without_warm_start_fit_starts_over(data):
    est = fitted(classifier("adam"), *data, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(*data)
    assert_same_fit(est, fitted(classifier("adam"), *data, 3))


def _replace_member(path, key, data):
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    buf = io.BytesIO()
    np.lib.format.write_array(buf, data)
    members[f"{key}.npy"] = buf.getvalue()
    meta = json.loads(np.load(io.BytesIO(members["__meta__.npy"])).tobytes())
    meta["arrays"][key] = {
        "dtype": data.dtype.str,
        "shape": list(data.shape),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    text = np.frombuffer(json.dumps(meta, sort_keys=True).encode(), np.uint8)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, text)
    members["__meta__.npy"] = buf.getvalue()
    with zipfile.ZipFile(path, "w") as zf:
        for name, raw in members.items():
            zf.writestr(name, raw)


def test_a_corrupt_optimizer_state_is_refused_on_load_naming_it(data, tmp_path):
    est = fitted(classifier("adam"), *data, 2)
    path = save(est, tmp_path / "e.npz")
    other = fitted(MLPClassifier((4,), solver="adam", random_state=0, **STOCHASTIC), *data, 2)
    blob = est.optimizer_state_.copy()
    blob[len(blob) // 2] ^= 1
    for bad, match in [
        (blob, "optimizer_state_"),
        (other.optimizer_state_, "optimizer_state_ is a run of"),
        (np.zeros(10, np.uint8), "optimizer_state_"),
        (est.optimizer_state_.astype(np.int64), "optimizer_state_ must be a 1-D uint8"),
    ]:
        _replace_member(path, "optimizer_state_", bad)
        with pytest.raises(ValueError, match=match):
            load(path)
    est.optimizer_state_ = blob
    with pytest.raises(ValueError, match="optimizer_state_"):
        save(est, tmp_path / "f.npz")
