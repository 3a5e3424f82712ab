"""Randomized trace and diagonal estimators on matrices with a known trace and diagonal.

Checked over seeds with fixed tolerances: every estimator is unbiased (its
mean over 100 seeds lies within 4 standard errors of the truth); the RMS
error falls like 1/√m for Hutchinson and like 1/m for Hutch++, XTrace and
XDiag on a positive semi-definite matrix with eigenvalues 1/i (16 times the
products: ≈ 4 times smaller error against ≈ 16); the reported standard
error matches the observed spread; Rademacher Hutchinson is exact on a
diagonal matrix.
"""

import numpy as np
import pytest
from registry import Shape, make_objective

from numnet.curvature import (
    diagonal_hutchinson,
    hessian_dense,
    hutchinson,
    hutchpp,
    kfac,
    xdiag,
    xtrace,
)

TRACE = {"hutchinson": hutchinson, "hutchpp": hutchpp, "xtrace": xtrace}
DIAGONAL = {"diagonal_hutchinson": diagonal_hutchinson, "xdiag": xdiag}
SEEDS = range(100)


def _psd(p=200, seed=0):
    """Q diag(1/i) Qᵀ: trace H_p, a slowly decaying spectrum (Hutch++'s 1/m regime)."""
    Q = np.linalg.qr(np.random.default_rng(seed).standard_normal((p, p)))[0]
    return (Q / np.arange(1, p + 1)) @ Q.T


A = _psd()


def _rms(estimator, m, truth):
    errors = np.array([estimator(A, m, seed=s).estimate for s in SEEDS]) - truth
    return float(np.sqrt(np.mean(errors**2, axis=0).sum() / np.sum(truth**2)))


@pytest.mark.parametrize("name", list(TRACE) + list(DIAGONAL))
def test_unbiased_over_seeds(name):
    estimator = {**TRACE, **DIAGONAL}[name]
    truth = np.trace(A) if name in TRACE else np.diag(A)
    estimates = np.array([estimator(A, 24, seed=s).estimate for s in SEEDS])
    z = (estimates.mean(axis=0) - truth) / (estimates.std(axis=0, ddof=1) / np.sqrt(len(SEEDS)))
    assert np.all(np.abs(z) < 4.5)


@pytest.mark.parametrize(
    "name, low, high",
    [
        ("hutchinson", 2.5, 6.5),
        ("hutchpp", 10, 40),
        ("xtrace", 10, 40),
        ("diagonal_hutchinson", 2.5, 6.5),
        ("xdiag", 10, 40),
    ],
)
def test_error_falls_like_the_method_promises(name, low, high):
    """RMS error at m = 12 over the RMS error at m = 192: √16 = 4 for Hutchinson, 16 for the others."""
    estimator = {**TRACE, **DIAGONAL}[name]
    truth = np.trace(A) if name in TRACE else np.diag(A)
    ratio = _rms(estimator, 12, truth) / _rms(estimator, 192, truth)
    assert low < ratio < high


@pytest.mark.parametrize("name", TRACE)
def test_standard_error_matches_the_spread(name):
    runs = [TRACE[name](A, 48, seed=s) for s in SEEDS]
    spread = np.std([r.estimate for r in runs])
    assert 0.5 < np.mean([r.stderr for r in runs]) / spread < 2
    assert all(r.n_probes == 48 for r in runs)


def test_diagonal_stderr_matches_the_spread():
    runs = [xdiag(A, 48, seed=s) for s in SEEDS]
    spread = np.std([r.estimate for r in runs], axis=0)
    assert 0.5 < np.median(np.mean([r.stderr for r in runs], axis=0) / spread) < 2


def test_rademacher_hutchinson_is_exact_for_a_diagonal_matrix():
    D = np.diag(np.arange(1.0, 31.0))
    t = hutchinson(D, 5, seed=3)
    assert t.estimate == pytest.approx(465.0, rel=1e-14) and t.stderr == 0
    d = diagonal_hutchinson(D, 3, seed=1)
    assert np.allclose(d.estimate, np.arange(1.0, 31.0), rtol=1e-14) and np.all(d.stderr == 0)


def test_operators_of_a_network():
    """On lin.H (a LinearOperator) and on KFAC (an object with @), float32 kept."""
    _, obj, theta = make_objective(
        "cross_entropy", "none", "tanh", Shape(8, 3, 4, 3, 1), layer="mlp3"
    )
    lin = obj.at(theta)
    H = hessian_dense(lin)
    est = xtrace(lin.H, 24, seed=0)
    assert est.stderr > 0 and abs(est.estimate - np.trace(H)) < 5 * est.stderr
    K = kfac(lin)
    assert hutchpp(K, 3 * obj.n_params, seed=1).estimate == pytest.approx(
        K.trace(), rel=1e-9
    )  # full sketch
    diag = xdiag(K, 24, seed=2)
    assert np.all(np.abs(diag.estimate - np.diag(K.to_dense())) <= 5 * diag.stderr + 1e-12)
    A32 = A.astype(np.float32)
    assert hutchinson(A32, 8).estimate == pytest.approx(hutchinson(A, 8).estimate, rel=1e-5)
    assert xdiag(A32, 8).estimate.dtype == np.float32


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="n_matvecs"):
        hutchinson(A, 0)
    with pytest.raises(ValueError, match="n_matvecs"):
        hutchpp(A, 2)
    with pytest.raises(ValueError, match="n_matvecs"):
        xtrace(A, 3 * A.shape[0])
    with pytest.raises(TypeError, match="n_matvecs"):
        xdiag(A, 10.0)
    with pytest.raises(ValueError, match="distribution"):
        hutchinson(A, 4, distribution="uniform")
    with pytest.raises(ValueError, match="square"):
        hutchinson(np.ones((3, 4)), 2)
    with pytest.raises(TypeError, match="seed"):
        xtrace(A, 4, seed="a")
