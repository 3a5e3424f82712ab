"""scikit-learn estimators: check_estimator, pipelines, solvers, early stopping, partial_fit."""

import inspect
import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from numnet.datasets import digits, peaks
from numnet.estimators import (
    ELMClassifier,
    ELMRegressor,
    MLPClassifier,
    MLPRegressor,
    NetworkClassifier,
    NetworkRegressor,
)
from numnet.estimators._monitor import Monitor
from numnet.layers import Dense
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.optim import METHODS
from numnet.regularizers import Tikhonov

# Defaults except max_iter / width, to keep the whole check suite at a few seconds.
CHECKED = [
    MLPClassifier((20,), max_iter=100),
    MLPRegressor((20,), max_iter=100),
    ELMClassifier(),
    ELMRegressor(),
    ELMClassifier(loss="cross_entropy", max_iter=20),
    MLPClassifier((10,), solver="adam", learning_rate_init=0.01, max_iter=100),
    MLPRegressor((10,), solver="sgd", learning_rate_init=0.01, max_iter=100),
    NetworkClassifier("dense:10,tanh,residual:sin", max_iter=100),
    NetworkRegressor(
        "dense:10,softplus,dropout:0.1", solver="adam", learning_rate_init=0.01, max_iter=50
    ),
]


def _check_name(check):
    return getattr(check, "func", check).__name__


_ARRAY_API_CHILD = textwrap.dedent("""
    import json, sys
    from sklearn.utils.estimator_checks import check_array_api_input
    from numnet.estimators import ESTIMATORS
    for name, params in json.loads(sys.stdin.read()):
        params = {k: tuple(v) if isinstance(v, list) else v for k, v in params.items()}
        check_array_api_input(name, ESTIMATORS[name](**params), array_namespace="numpy",
                              expect_only_array_outputs=False)
    print("ok")
""")


@pytest.fixture(scope="module")
def array_api_run():
    """sklearn's array-API check needs SCIPY_ARRAY_API=1 before SciPy is imported: run it in a child."""
    specs = [(type(e).__name__, e.get_params()) for e in CHECKED]
    env = {**os.environ, "SCIPY_ARRAY_API": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-c", _ARRAY_API_CHILD],
        input=json.dumps(specs),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=env,
    )


@parametrize_with_checks(CHECKED)
def test_sklearn_compatible(estimator, check, request):
    if _check_name(check) == "check_array_api_input" and not os.environ.get("SCIPY_ARRAY_API"):
        out = request.getfixturevalue("array_api_run")
        assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_digits_second_order_solver_reaches_97_percent():
    """The README's call: 75/25 stratified split (seed 0), one hidden layer of 64, Newton-CG."""
    X, y = digits()
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    clf = MLPClassifier(hidden_layer_sizes=(64,), solver="newton-cg", random_state=0).fit(Xtr, ytr)
    assert clf.score(Xte, yte) >= 0.97
    assert clf.loss_curve_[-1] < clf.loss_curve_[0] / 10


@pytest.fixture(scope="module")
def blobs():
    X, y = peaks(300, 3, random_state=1)
    return X, y


def test_pipeline_and_grid_search(blobs):
    X, y = blobs
    pipe = make_pipeline(StandardScaler(), MLPClassifier((16,), max_iter=150, random_state=0))
    grid = GridSearchCV(
        pipe,
        {"mlpclassifier__alpha": [1e-4, 1e-1], "mlpclassifier__hidden_layer_sizes": [(4,), (16,)]},
        cv=3,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    assert len(grid.cv_results_["mean_test_score"]) == 4
    assert grid.best_score_ > 0.8 and grid.score(X, y) > 0.85
    elm = GridSearchCV(
        make_pipeline(StandardScaler(), ELMRegressor(random_state=0)),
        {"elmregressor__n_hidden": [5, 50]},
        cv=3,
    ).fit(X, X[:, 0] * X[:, 1])
    assert elm.best_params_ == {"elmregressor__n_hidden": 50} and elm.best_score_ > 0.9


@pytest.mark.parametrize("cls", [MLPClassifier, ELMClassifier])
def test_string_and_noncontiguous_labels(cls, blobs):
    X, y = blobs
    labels = np.array(["cat", "dog", "emu"])[y]
    codes = np.array([-7, 3, 40])[y]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est_s = cls(random_state=0).fit(X, labels)
        est_c = cls(random_state=0).fit(X, codes)
    assert list(est_s.classes_) == ["cat", "dog", "emu"] and list(est_c.classes_) == [-7, 3, 40]
    assert set(est_s.predict(X)) <= {"cat", "dog", "emu"}
    assert np.array_equal(
        np.searchsorted(est_s.classes_, est_s.predict(X)),
        np.searchsorted(est_c.classes_, est_c.predict(X)),
    )
    assert est_s.score(X, labels) > 0.85


@pytest.mark.parametrize("solver", sorted(METHODS))
def test_every_minimize_method_is_a_solver(solver, blobs):
    X, y = blobs
    for est, target in (
        (MLPClassifier((5,), solver=solver, max_iter=3, random_state=0), y),
        (MLPRegressor((5,), solver=solver, max_iter=3, random_state=0), X[:, 0]),
    ):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, target)
        assert 1 <= est.n_iter_ <= 3 and len(est.loss_curve_) == est.n_iter_
        assert np.isfinite(est.theta_).all() and est.loss_ <= est.loss_curve_[0] + 1e-12


@pytest.mark.parametrize(
    "params, error, match",
    [
        ({"solver": "newton"}, ValueError, "solver"),
        ({"hidden_layer_sizes": (3, 0)}, ValueError, r"hidden_layer_sizes\[1\]"),
        ({"hidden_layer_sizes": ()}, TypeError, "hidden_layer_sizes"),
        ({"alpha": -1.0}, ValueError, "alpha"),
        ({"max_iter": 2.5}, TypeError, "max_iter"),
        ({"activation": "swish"}, ValueError, "activation"),
        ({"loss": "squared_error"}, ValueError, "loss"),
        ({"validation_fraction": 1.0}, ValueError, "validation_fraction"),
        ({"early_stopping": "yes"}, TypeError, "early_stopping"),
        ({"random_state": -1}, ValueError, "random_state"),
        ({"tol": float("nan")}, ValueError, "tol"),
    ],
)
def test_bad_parameters_are_named_at_fit(params, error, match, blobs):
    est = MLPClassifier(**params)  # __init__ only stores
    with pytest.raises(error, match=match):
        est.fit(*blobs)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_hidden": 0}, "n_hidden"),
        ({"solver": "qr"}, "solver"),
        ({"scale": 0}, "scale"),
        ({"distribution": "cauchy"}, "distribution"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_elm_parameters_are_named_at_fit(params, match, blobs):
    with pytest.raises(ValueError, match=match):
        ELMRegressor(**params).fit(blobs[0], blobs[1])


def test_coefs_are_views_and_alpha_spares_biases(blobs):
    """coefs_/intercepts_ view theta_; loss_ = mean ½‖F − y‖² + (α/2) Σ‖W‖², biases not decayed."""
    X = blobs[0]
    t = X[:, 0] - X[:, 1] ** 2
    est = MLPRegressor((6, 4), alpha=0.3, max_iter=50, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, t)
    assert [W.shape for W in est.coefs_] == [(2, 6), (6, 4), (4, 1)]
    assert all(np.shares_memory(W, est.theta_) for W in est.coefs_ + est.intercepts_)
    r = est.predict(X) - t
    expected = 0.5 * np.mean(r**2) + 0.15 * sum(np.sum(W**2) for W in est.coefs_)
    np.testing.assert_allclose(est.loss_, expected, rtol=1e-12)
    np.testing.assert_allclose(est.beta_, 1 / np.mean(r**2), rtol=1e-12)


def test_network_matches_an_independent_objective(blobs):
    """The estimator's theta_ is a plain Sequential parameter vector: rebuild it by hand."""
    X, y = blobs
    est = MLPClassifier((7,), activation="sin", alpha=1e-3, max_iter=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    net = Sequential([Dense(2, 7, "sin"), Dense(7, 3)])
    obj = Objective(net, "cross_entropy", X, y, Tikhonov(1e-3, mask=~net.bias_mask()))
    np.testing.assert_allclose(obj.value(est.theta_), est.loss_, rtol=1e-12)
    np.testing.assert_array_equal(net.predict(est.theta_, X), est.decision_function(X))


def test_binary_outputs_and_probabilities(blobs):
    X, y = blobs
    yb = (y == 2).astype(int)
    for loss in ("cross_entropy", "binomial", "hinge"):
        clf = MLPClassifier((8,), loss=loss, max_iter=100, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, yb)
        d = clf.decision_function(X)
        assert d.shape == (len(X),) and np.array_equal(clf.predict(X), (d > 0).astype(int))
        assert hasattr(clf, "predict_proba") == (loss != "hinge")
        if loss != "hinge":
            P = clf.predict_proba(X)
            np.testing.assert_allclose(P.sum(axis=1), 1)
            assert np.array_equal(P.argmax(axis=1), clf.predict(X))
        assert clf.score(X, yb) > 0.85
    assert not hasattr(ELMClassifier(), "predict_proba")
    assert hasattr(ELMClassifier(loss="cross_entropy"), "predict_proba")


@pytest.mark.parametrize("loss", ["squared_error", "absolute_error", "huber"])
def test_regressor_losses(loss, blobs):
    X = blobs[0]
    t = np.column_stack([np.sin(X[:, 0]), X[:, 1]])
    est = MLPRegressor((10,), loss=loss, huber_delta=0.1, max_iter=300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, t)
    assert est.predict(X).shape == (len(X), 2) and est.n_outputs_ == 2
    assert est.score(X, t) > 0.9


def test_early_stopping_keeps_the_best_validation_iterate(blobs):
    X, y = blobs
    clf = MLPClassifier(
        (30,),
        solver="adam",
        learning_rate_init=0.05,
        early_stopping=True,
        n_iter_no_change=3,
        tol=0.0,
        max_iter=200,
        random_state=0,
    ).fit(X, y)
    scores = clf.validation_scores_
    assert len(scores) == clf.n_iter_ < 200
    assert clf.best_validation_score_ == max(scores)
    assert all(s <= max(scores) for s in scores[-3:])  # stopped: 3 iterations without a new best


def test_monitor_stops_after_n_iter_no_change_and_keeps_best():
    class Est:
        verbose, tol, n_iter_no_change = False, 0.01, 2

    class R:
        def __init__(self, x, fun=0.0):
            self.x, self.fun, self.nit = np.array([x]), fun, 0

    scores = {1.0: 0.5, 2.0: 0.8, 3.0: 0.805, 4.0: 0.6}
    mon = Monitor(Est(), lambda x: scores[float(x[0])], watch_loss=False)
    assert mon(R(1.0)) == {"validation_score": 0.5}
    mon(R(2.0))
    mon(R(3.0))  # a new best, but by less than tol: counts as no improvement
    with pytest.raises(StopIteration):
        mon(R(4.0))
    assert mon.best_x[0] == 3.0 and mon.scores == [0.5, 0.8, 0.805, 0.6]


def test_partial_fit_runs_one_epoch_per_call(blobs):
    X, y = blobs
    clf = MLPClassifier((10,), solver="adam", learning_rate_init=0.02, random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X, y)
    for _ in range(30):
        clf.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    assert clf.n_iter_ == 30 and len(clf.loss_curve_) == 30
    assert (
        clf.loss_curve_[-1] < 0.7 * clf.loss_curve_[0]
    )  # 30 Adam steps, its moments kept between calls
    assert not hasattr(MLPClassifier(solver="lbfgs"), "partial_fit")
    with pytest.raises(ValueError, match="not in classes_"):
        clf.partial_fit(X[:5], np.array([0, 1, 2, 7, 1]))
    reg = MLPRegressor((5,), solver="sgd", random_state=0)
    reg.partial_fit(X, X[:, 0]).partial_fit(X, X[:, 0])
    assert reg.n_iter_ == 2


def test_warm_start_continues_from_theta(blobs):
    X, y = blobs
    clf = MLPClassifier((10,), max_iter=5, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        first = clf.loss_
        clf.fit(X, y)
    assert clf.n_iter_ == 10 and len(clf.loss_curve_) == 10 and clf.loss_ < first
    cold = MLPClassifier((10,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cold.fit(X, y)
    np.testing.assert_allclose(cold.loss_, first)


def test_warm_start_refuses_a_changed_architecture(blobs):
    X, y = blobs
    clf = MLPClassifier((4,), max_iter=3, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        clf.set_params(hidden_layer_sizes=(5,))
        with pytest.raises(ValueError, match="architecture"):
            clf.fit(X, y)


def test_verbose_prints_every_iteration(blobs, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier((4,), max_iter=3, verbose=True, random_state=0).fit(*blobs)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("Iteration 1, loss = ")
    assert float(lines[-1].split("=")[1]) == pytest.approx(clf.loss_curve_[-1], rel=1e-7)


def test_float32_training_stays_float32(blobs):
    X, y = blobs
    for est in (MLPClassifier((8,), max_iter=30, random_state=0), ELMRegressor(random_state=0)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X.astype(np.float32), y)
        assert est.theta_.dtype == np.float32
        assert np.array_equal(est.predict(X.astype(np.float32)), est.predict(X))


def test_elm_regressor_beta_is_mle_precision(blobs):
    X = blobs[0]
    rng = np.random.default_rng(0)
    t = np.sin(X[:, 0]) + 0.1 * rng.standard_normal(len(X))
    est = ELMRegressor(n_hidden=50, random_state=0).fit(X, t)
    np.testing.assert_allclose(est.beta_, 1 / np.mean((est.predict(X) - t) ** 2), rtol=1e-12)
    assert 50 < est.beta_ < 200  # the noise variance is 0.01
    assert est.solver_ == "lstsq" and est.n_iter_ == 1


def test_elm_normal_solver_agrees_with_lstsq(blobs):
    X, y = blobs
    a = ELMClassifier(n_hidden=30, alpha=1e-3, solver="normal", batch_size=64, random_state=0).fit(
        X, y
    )
    b = ELMClassifier(n_hidden=30, alpha=1e-3, solver="lstsq", random_state=0).fit(X, y)
    np.testing.assert_allclose(a.theta_, b.theta_, rtol=1e-6, atol=1e-8)
    assert a.solver_ == "normal" and b.solver_ == "lstsq"


@pytest.mark.parametrize(
    "make",
    [
        lambda: MLPRegressor((16,), max_iter=300, random_state=0),
        lambda: ELMRegressor(n_hidden=60, random_state=0),
    ],
    ids=["MLPRegressor", "ELMRegressor"],
)
def test_beta_of_a_multi_output_regression_divides_by_n_times_k(make):
    """Note 004, K-dimensional case: 1/β_ML = (1/(N K)) Σ_n ‖y(x_n) − t_n‖². With K = 3 outputs and noise
    variance 0.01 on each, β_ ≈ 100; the one-output formula N / Σ‖·‖² would give ≈ 33 and fail both
    checks."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (600, 2))
    clean = np.column_stack([np.sin(2 * X[:, 0]), X[:, 0] * X[:, 1], np.cos(X[:, 1])])
    T = clean + 0.1 * rng.standard_normal(clean.shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est = make().fit(X, T)
    R = est.predict(X) - T
    assert R.shape == (600, 3)
    np.testing.assert_allclose(est.beta_, R.size / np.sum(R**2), rtol=1e-12)
    np.testing.assert_allclose(est.beta_, 1.0 / np.mean(R**2), rtol=1e-12)
    assert 75 < est.beta_ < 135, est.beta_  # the true precision is 1 / 0.01 = 100


ALL_ESTIMATORS = [
    MLPClassifier,
    MLPRegressor,
    NetworkClassifier,
    NetworkRegressor,
    ELMClassifier,
    ELMRegressor,
]


def _documented(section, doc):
    """Names a numpydoc section lists (``a, b : type`` lines at the section's indent)."""
    body = doc.split(f"\n    {section}\n    {'-' * len(section)}\n", 1)[1]
    body = body.split("\n\n    Attributes\n", 1)[0] if section == "Parameters" else body
    names = []
    for line in body.splitlines():
        if line.startswith("    ") and not line.startswith("     ") and " : " in line:
            names += [n.strip() for n in line.split(" : ", 1)[0].split(",")]
    return names


@pytest.mark.parametrize("cls", ALL_ESTIMATORS, ids=lambda c: c.__name__)
def test_docstring_documents_every_parameter_in_signature_order(cls):
    """The class docstring (written in the class, scikit-learn style) lists exactly __init__'s parameters."""
    signature = [name for name in inspect.signature(cls.__init__).parameters if name != "self"]
    assert _documented("Parameters", cls.__doc__) == signature


@pytest.mark.parametrize("cls", ALL_ESTIMATORS, ids=lambda c: c.__name__)
def test_docstring_documents_every_fitted_attribute(cls):
    documented = set(_documented("Attributes", cls.__doc__))
    missing = [
        a for a in cls._fitted_attributes if a != "feature_names_in_" and a not in documented
    ]
    assert not missing
