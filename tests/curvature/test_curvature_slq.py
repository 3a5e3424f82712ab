"""Stochastic Lanczos quadrature (numnet.curvature.slq) on the Hessian of a small network.

Checked: each quadrature rule has weights summing to 1 and the smoothed
density integrates to 1; Lanczos quadrature is exact for polynomials of
degree ≤ 2m − 1 (vᵀHᵏv from dense powers, same probe); the SLQ moments are
unbiased estimates of tr(Hᵏ)/p from the dense eigenvalues; with m = p the
Ritz values are the eigenvalues; the plotting helper draws.
"""

import numpy as np
import pytest
from registry import Shape, make_objective

from numnet.curvature import (
    gauss_newton_blocks,
    hessian_dense,
    lanczos,
    plot_spectral_densities,
    slq,
)
from numnet.plots import save_figure


@pytest.fixture(scope="module")
def hessian():
    _, obj, theta = make_objective(
        "cross_entropy", "none", "tanh", Shape(20, 3, 5, 3, 7), layer="mlp3"
    )
    lin = obj.at(theta)
    H = hessian_dense(lin)
    return lin, 0.5 * (H + H.T)


def test_density_integrates_to_one(hessian):
    lin, _ = hessian
    d = slq(lin.H, n_probes=6, n_steps=12, seed=0)
    assert np.allclose(d.weights.sum(axis=1), 1, rtol=0, atol=1e-13)
    grid = np.linspace(*d.support(pad=0.5), 20001)
    for sigma in (None, 0.05):
        assert np.trapezoid(d.density(grid, sigma), grid) == pytest.approx(1, abs=1e-9)


def test_lanczos_quadrature_is_exact_to_degree_2m_minus_1(hessian):
    _, H = hessian
    v = np.random.default_rng(3).standard_normal(H.shape[0])
    m = 6
    alpha, beta = lanczos(lambda x: H @ x, v, m)
    T = np.diag(alpha) + np.diag(beta, 1) + np.diag(beta, -1)
    theta, S = np.linalg.eigh(T)
    u = v / np.linalg.norm(v)
    for k in range(2 * m):
        quad, exact = (S[0] ** 2 * theta**k).sum(), u @ np.linalg.matrix_power(H, k) @ u
        assert quad == pytest.approx(exact, rel=1e-9, abs=1e-12)


def test_moments_match_the_dense_spectrum(hessian):
    lin, H = hessian
    lam, p = np.linalg.eigvalsh(H), H.shape[0]
    d = slq(lin.H, n_probes=40, n_steps=8, seed=1)
    for k in range(1, 6):
        per_probe = (d.weights * d.nodes**k).sum(axis=1)
        stderr = per_probe.std(ddof=1) / np.sqrt(len(per_probe))
        assert d.moment(k) == pytest.approx(per_probe.mean(), rel=1e-12)
        assert abs(d.moment(k) - np.mean(lam**k)) < 4 * stderr
    assert d.moment(0) == pytest.approx(1, abs=1e-13)
    assert d.expect(np.exp) == pytest.approx(np.mean(np.exp(lam)), rel=0.05)
    full = slq(H, n_probes=1, n_steps=p, seed=0)  # m = p: the Ritz values are the eigenvalues
    live = np.sort(full.nodes[0][full.weights[0] > 0])
    assert live.size == p and np.allclose(live, lam, atol=1e-10)


def test_early_stop_on_an_invariant_subspace():
    A = np.diag(
        [1.0, 1.0, 2.0, 2.0, 3.0]
    )  # three distinct eigenvalues: Lanczos stops after 3 steps
    d = slq(A, n_probes=3, n_steps=5, seed=0)
    assert np.all((d.weights > 1e-14).sum(axis=1) <= 3)
    assert d.moment(2) == pytest.approx(np.mean([1, 1, 4, 4, 9]), rel=0.5)


def test_plot_spectral_densities(hessian, tmp_path):
    lin, _ = hessian
    blocks = gauss_newton_blocks(lin)
    densities = {
        "Hessian": slq(lin.H, 3, 10),
        "Gauss-Newton": slq(lin.G, 3, 10),
        "GN block 0": slq(blocks["0"], 2, 5),
    }
    fig = plot_spectral_densities(densities)
    path = save_figure(fig, tmp_path / "slq.png")
    assert path.stat().st_size > 1000


def test_bad_input_names_the_argument(hessian):
    lin, H = hessian
    with pytest.raises(ValueError, match="n_steps"):
        slq(H, 2, H.shape[0] + 1)
    with pytest.raises(ValueError, match="n_probes"):
        slq(H, 0, 3)
    with pytest.raises(ValueError, match="sigma"):
        slq(H, 1, 3).density(np.linspace(0, 1, 5), sigma=-1)
    with pytest.raises(ValueError, match="k must be >= 0"):
        slq(H, 1, 3).moment(-1)
