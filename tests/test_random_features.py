"""Random features / extreme learning machines (notes 000): solvers, streaming, diagnostics."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from numnet.datasets import peaks
from numnet.estimators import ELMClassifier
from numnet.layers import Dense
from numnet.random_features import (
    LSTSQ_MAX_ENTRIES,
    NormalEquations,
    choose_ls_solver,
    feature_spectrum,
    fit_least_squares,
    fit_logistic,
    identity_rank_bound,
    random_features,
    stack_output_weights,
)


def _design(feats, X):
    """[Z 1]: the random features with the column of ones for the output bias."""
    Z = feats.transform(X)
    return np.hstack([Z, np.ones((Z.shape[0], 1))])


@pytest.fixture(scope="module")
def peaks_data():
    return peaks(1000, 5, random_state=0)


def test_features_are_the_dense_forward_pass():
    feats = random_features(3, 7, "sin", scale=0.5, random_state=1)
    X = np.random.default_rng(0).standard_normal((5, 3))
    W, b = feats.theta[:21].reshape(3, 7), feats.theta[21:]
    assert np.array_equal(feats.transform(X), Dense(3, 7, "sin").forward(feats.theta, X)[0])
    np.testing.assert_allclose(feats.transform(X), np.sin(X @ W + b), rtol=1e-14)


@pytest.mark.parametrize("distribution", ["normal", "uniform"])
def test_random_draws_follow_scale(distribution):
    theta = random_features(50, 200, scale=2.5, distribution=distribution, random_state=3).theta
    if distribution == "uniform":
        assert np.abs(theta).max() <= 2.5 and np.abs(theta).max() > 2.4
        np.testing.assert_allclose(theta.std(), 2.5 / np.sqrt(3), rtol=0.03)
    else:
        np.testing.assert_allclose(theta.std(), 2.5, rtol=0.03)


def test_same_seed_same_features_float32():
    a = random_features(4, 6, random_state=9, dtype=np.float32)
    b = random_features(4, 6, random_state=9, dtype=np.float32)
    assert a.theta.dtype == np.float32 and np.array_equal(a.theta, b.theta)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"distribution": "cauchy"}, "distribution"),
        ({"scale": 0.0}, "scale"),
        ({"scale": np.inf}, "scale"),
    ],
)
def test_random_features_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        random_features(2, 3, **kwargs)


@pytest.mark.parametrize(
    "sizes, error, match",
    [
        ((0, 10), ValueError, "^n_features must be >= 1, got 0$"),
        ((2, 0), ValueError, "^n_hidden must be >= 1"),
        ((2.5, 3), TypeError, "^n_features must be an int"),
    ],
)
def test_random_features_names_the_size_the_caller_wrote(sizes, error, match):
    with pytest.raises(error, match=match):  # not the d_in/d_out of the Dense layer inside
        random_features(*sizes)


def test_peaks_elm_equals_numpy_lstsq(peaks_data):
    """ELM on peaks (5 classes) = np.linalg.lstsq on the same random features, to 1e-8."""
    X, y = peaks_data
    elm = ELMClassifier(n_hidden=100, alpha=0.0, random_state=0).fit(X, y)
    feats = random_features(
        2,
        100,
        "tanh",
        random_state=np.random.default_rng(np.random.RandomState(0).randint(2**31 - 1)),
    )
    assert np.array_equal(feats.theta, elm.theta_[: feats.layer.n_params])
    A = _design(feats, X)
    Wt = np.linalg.lstsq(A, np.eye(5)[y], rcond=None)[0]
    np.testing.assert_allclose(elm.coefs_[1], Wt[:-1], rtol=0, atol=1e-8 * np.abs(Wt).max())
    np.testing.assert_allclose(elm.intercepts_[1], Wt[-1], rtol=0, atol=1e-8 * np.abs(Wt).max())
    lstsq_acc = np.mean(np.argmax(A @ Wt, axis=1) == y)
    assert elm.score(X, y) >= lstsq_acc - 1e-12 and lstsq_acc > 0.85


def test_normal_equations_match_lstsq_with_ridge(peaks_data):
    """With λ > 0 both solvers solve (Z̃ᵀZ̃ + nλD) W̃ = Z̃ᵀY; check against the augmented lstsq."""
    X, y = peaks_data
    feats, T, lam = random_features(2, 60, "tanh", random_state=2), np.eye(5)[y], 1e-4
    A, n = _design(feats, X), X.shape[0]
    aug = np.vstack([A, np.hstack([np.sqrt(n * lam) * np.eye(60), np.zeros((60, 1))])])
    ref = np.linalg.lstsq(aug, np.vstack([T, np.zeros((60, 5))]), rcond=None)[0]
    for solver in ("normal", "lstsq"):
        theta = fit_least_squares(feats, X, T, alpha=lam, solver=solver, batch_size=97)
        np.testing.assert_allclose(theta, stack_output_weights(ref, True), rtol=1e-7, atol=1e-9)


def test_normal_equations_batches_independent_of_batch_size(peaks_data):
    X, y = peaks_data
    feats = random_features(2, 30, "sin", random_state=4)
    thetas = [
        fit_least_squares(feats, X, y, alpha=1e-3, solver="normal", batch_size=b)
        for b in (1000, 64, 7)
    ]
    tol = 1e-10 * np.abs(thetas[0]).max()
    np.testing.assert_allclose(thetas[1], thetas[0], rtol=0, atol=tol)
    np.testing.assert_allclose(thetas[2], thetas[0], rtol=0, atol=tol)


def test_singular_gram_falls_back_to_minimum_norm():
    """Identity features are rank ≤ n_features + 1: Cholesky fails, eigh gives lstsq's min-norm W."""
    rng = np.random.default_rng(5)
    X, Y = rng.standard_normal((200, 3)), rng.standard_normal((200, 2))
    feats = random_features(3, 20, "identity", random_state=6)
    ne = NormalEquations(20, 2).update(feats.transform(X), Y)
    ref = np.linalg.lstsq(_design(feats, X), Y, rcond=None)[0]
    np.testing.assert_allclose(ne.solve(0.0), ref, atol=1e-8)


def test_auto_solver_rule():
    assert choose_ls_solver("auto", 1000, 100) == "lstsq"
    assert choose_ls_solver("auto", LSTSQ_MAX_ENTRIES, 100) == "normal"
    assert choose_ls_solver("normal", 10, 10) == "normal"
    with pytest.raises(ValueError, match="solver"):
        choose_ls_solver("qr", 10, 10)


def test_least_squares_argument_errors(peaks_data):
    X, y = peaks_data
    feats = random_features(2, 5, random_state=0)
    with pytest.raises(ValueError, match="alpha"):
        fit_least_squares(feats, X, y, alpha=-1.0)
    with pytest.raises(ValueError, match="batch_size"):
        fit_least_squares(feats, X, y, solver="normal", batch_size=0)
    with pytest.raises(ValueError, match="rows"):
        fit_least_squares(feats, X, y[:-1])
    with pytest.raises(ValueError, match="update"):
        NormalEquations(5, 1).solve()


def test_float32_features_give_float32_weights(peaks_data):
    X, y = peaks_data
    feats = random_features(2, 40, random_state=0, dtype=np.float32)
    for solver in ("normal", "lstsq"):
        theta = fit_least_squares(feats, X.astype(np.float32), y.astype(np.float64), solver=solver)
        assert theta.dtype == np.float32 and np.isfinite(theta).all()


def test_logistic_newton_cg_reaches_stationarity(peaks_data):
    """Softmax regression on random features is convex: Newton-CG drives ‖∇J‖ to the tolerance."""
    X, y = peaks_data
    feats = random_features(2, 50, "tanh", random_state=1)
    res = fit_logistic(feats, X, y, 5, alpha=1e-3, max_iter=50, tol=1e-8)
    assert res.success and res.grad_norm <= 1e-8
    F = feats.transform(X) @ res.x[:250].reshape(50, 5) + res.x[250:]
    assert np.mean(F.argmax(axis=1) == y) > 0.8


def test_logistic_matches_sklearn_logistic_regression(peaks_data):
    """Same convex problem as sklearn's LogisticRegression with C = 1/(n λ) (mean loss + (λ/2)‖W‖²)."""
    from sklearn.linear_model import LogisticRegression

    X, y = peaks_data
    feats, lam = random_features(2, 20, "tanh", random_state=1), 1e-2
    res = fit_logistic(feats, X, y, 5, alpha=lam, max_iter=50, tol=1e-10)
    ref = LogisticRegression(C=1 / (len(y) * lam), tol=1e-12, max_iter=10_000).fit(
        feats.transform(X), y
    )
    W, c = res.x[:100].reshape(20, 5), res.x[100:]
    # softmax is invariant to adding a constant to every class's intercept
    np.testing.assert_allclose(W, ref.coef_.T, atol=1e-5)
    np.testing.assert_allclose(c - c.mean(), ref.intercept_ - ref.intercept_.mean(), atol=1e-5)


@pytest.mark.parametrize("activation", ["sin", "tanh", "relu"])
def test_nonlinear_features_reach_full_rank(activation, peaks_data):
    """Notes 000: rank(σ(KY + b)) can reach min(n, m); the identity stays ≤ n_features + 1."""
    X = peaks_data[0][:300]
    spec = feature_spectrum(random_features(2, 40, activation, scale=2.0, random_state=0), X)
    assert spec.rank_bound == 40 and spec.rank >= 38
    assert spec.singular_values.shape == (40,) and np.all(np.diff(spec.singular_values) <= 0)
    np.testing.assert_allclose(spec.tol, spec.singular_values[0] * 300 * np.finfo(float).eps)


def test_identity_rank_bound(peaks_data):
    X = peaks_data[0][:300]
    spec = feature_spectrum(random_features(2, 40, "identity", random_state=0), X)
    assert spec.rank == spec.rank_bound == identity_rank_bound(300, 2, 40) == 3
    assert identity_rank_bound(300, 2, 40, bias=False) == 2
    assert identity_rank_bound(2, 10, 40) == 2
    assert spec.singular_values[3] <= spec.tol < spec.singular_values[2]


_STREAM_CHILD = textwrap.dedent("""
    import os, resource, sys, time
    import numpy as np

    def peak_rss():
        # VmHWM starts afresh at exec; ru_maxrss keeps the forking parent's high-water mark
        if os.path.exists("/proc/self/status"):
            with open("/proc/self/status") as f:
                return int(next(l for l in f if l.startswith("VmHWM")).split()[1]) * 1024
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    from numnet.estimators import ELMRegressor
    n, d, m = 10**6, 20, 200
    X = np.random.default_rng(0).standard_normal((n, d))
    y = X @ np.linspace(-1, 1, d) + np.tanh(X[:, 0] * X[:, 1])
    before = peak_rss()
    t = time.perf_counter()
    est = ELMRegressor(n_hidden=m, scale=d**-0.5, alpha=1e-8, batch_size=10_000,
                       random_state=0).fit(X, y)
    fit_s = time.perf_counter() - t
    r2 = est.score(X[:20_000], y[:20_000])
    print(before, peak_rss(), fit_s, r2, est.solver_)
""")


def test_streaming_fit_has_bounded_memory():
    """Fit 10⁶ × 20 with m = 200 in row batches: peak RSS stays far below n·m·8 bytes (1.6 GB)."""
    out = subprocess.run(
        [sys.executable, "-c", _STREAM_CHILD],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert out.returncode == 0, out.stderr
    before, peak, fit_s, r2, solver = out.stdout.split()
    n_m_8, mib = 10**6 * 200 * 8, 2**20
    assert solver == "normal"
    assert int(peak) < n_m_8 / 4, f"peak RSS {int(peak) / mib:.0f} MiB"
    assert int(peak) - int(before) < n_m_8 / 20, (
        f"fit grew the RSS by {(int(peak) - int(before)) / mib:.0f} MiB"
    )
    assert float(r2) > 0.9
    print(
        f"streaming ELM: peak RSS {int(peak) / mib:.0f} MiB, of which the fit {(int(peak) - int(before)) / mib:.0f}"
        f" MiB (n·m·8 = {n_m_8 / mib:.0f} MiB); fit {float(fit_s):.1f} s; R² {float(r2):.4f}"
    )
