"""Spectral density by stochastic Lanczos quadrature (SLQ), and a figure of several densities.

The spectral density of a symmetric p × p matrix A is
ρ(t) = (1/p) Σ_i δ(t − λ_i). For a random unit vector v = z/√p (z Rademacher),
vᵀ f(A) v = Σ_i (q_iᵀv)² f(λ_i) is an unbiased estimate of (1/p) tr f(A) =
∫ f ρ, and m steps of Lanczos from v give the Gauss quadrature of that
integral: nodes θ_j (the Ritz values, eigenvalues of the tridiagonal T_m)
and weights τ_j² (the squared first components of T_m's eigenvectors),
exact for polynomials f of degree ≤ 2m − 1 (Golub & Meurant; Ubaru, Chen &
Saad 2017; Ghorbani, Krishnan & Xiao 2019 for neural-network Hessians).
Averaging over probes gives the density; the eigenvalues are never
computed, only m products per probe.
"""

import numpy as np
from scipy.linalg import eigh_tridiagonal

from .._validation import as_rng, check_int, check_positive
from .randomized import _matmat

__all__ = ["slq", "lanczos", "SpectralDensity", "plot_spectral_densities"]


def lanczos(matvec, v0, n_steps):
    """m ≤ ``n_steps`` Lanczos steps from v0 with full reorthogonalization: ``(alpha, beta)`` of T_m.

    Stops early when the Krylov space is invariant (β below 1e-12 relative to the largest α, β seen),
    so m may be less than ``n_steps``.
    """
    v = v0 / np.linalg.norm(v0)
    V = np.empty(
        (n_steps, v.size), dtype=v.dtype
    )  # the Lanczos basis, one row per step, filled in place
    V[0] = v
    alpha, beta = [], []
    for j in range(n_steps):
        w = np.asarray(matvec(V[j]), dtype=v.dtype).reshape(-1)
        alpha.append(float(V[j] @ w))
        basis = V[: j + 1]
        w -= basis.T @ (basis @ w)
        w -= basis.T @ (basis @ w)  # twice is enough (Kahan–Parlett)
        b = float(np.linalg.norm(w))
        scale = max(max(abs(a) for a in alpha), max(beta, default=0.0), 1e-300)
        if b <= 1e-12 * scale or len(alpha) == n_steps:
            break
        beta.append(b)
        np.divide(w, b, out=V[j + 1])
    return np.array(alpha), np.array(beta)


class SpectralDensity:
    """Gauss quadrature rules of a spectral density, one per probe.

    Attributes
    ----------
    nodes, weights : ndarray of shape (n_probes, n_steps)
        Ritz values θ_j and weights τ_j² of each probe (a probe whose Lanczos
        stopped early has zero weights in its last columns); each row of
        ``weights`` sums to 1.
    n : int
        The dimension p of the matrix.
    """

    def __init__(self, nodes, weights, n):
        self.nodes, self.weights, self.n = nodes, weights, int(n)

    def __repr__(self):
        return f"SpectralDensity(n={self.n}, n_probes={self.nodes.shape[0]}, n_steps={self.nodes.shape[1]})"

    def expect(self, f):
        """∫ f ρ ≈ (1/p) tr f(A): the mean over probes of Σ_j τ_j² f(θ_j)."""
        values = np.where(self.weights > 0, f(np.where(self.weights > 0, self.nodes, 0.0)), 0.0)
        return float((self.weights * values).sum(axis=1).mean())

    def moment(self, k):
        """∫ t^k ρ(t) dt ≈ tr(A^k)/p, exact in expectation for k ≤ 2·n_steps − 1."""
        return self.expect(lambda t: t ** check_int(k, "k", 0))

    def density(self, grid, sigma=None):
        """ρ smoothed by a Gaussian of width ``sigma`` on ``grid``; integrates to 1 over a wide enough grid.

        ``sigma`` defaults to 1% of the range of the nodes (or 1e-3 when they coincide).
        """
        grid = np.asarray(grid, dtype=np.float64)
        if sigma is None:
            live = self.nodes[self.weights > 0]
            sigma = 0.01 * float(live.max() - live.min()) or 1e-3
        sigma = check_positive(sigma, "sigma")
        z = (grid[:, None] - self.nodes[self.weights > 0][None, :]) / sigma
        w = self.weights[self.weights > 0] / self.nodes.shape[0]
        return (np.exp(-0.5 * z * z) * w).sum(axis=1) / (sigma * np.sqrt(2 * np.pi))

    def support(self, pad=0.05):
        """``(low, high)``: the range of the nodes widened by ``pad`` of its length."""
        live = self.nodes[self.weights > 0]
        lo, hi = float(live.min()), float(live.max())
        width = hi - lo or max(abs(lo), 1.0)
        return lo - pad * width, hi + pad * width


def slq(A, n_probes=10, n_steps=30, *, seed=0):
    """Spectral density of a symmetric operator by stochastic Lanczos quadrature.

    Parameters
    ----------
    A : ndarray, LinearOperator or object with ``shape`` and ``@``
        Symmetric p × p, e.g. ``lin.H``, ``lin.G``, a Fisher operator, ``kfac(...)``.
    n_probes : int, default=10
        Rademacher probes (the density is their average).
    n_steps : int, default=30
        Lanczos steps per probe, at most p (quadrature exact to degree 2·n_steps − 1).
    seed : int or np.random.Generator, default=0

    Returns
    -------
    SpectralDensity
        Costing n_probes · n_steps products with A.
    """
    f, p, dtype = _matmat(A)
    n_probes, n_steps = check_int(n_probes, "n_probes"), check_int(n_steps, "n_steps")
    if n_steps > p:
        raise ValueError(f"n_steps must be at most the dimension {p}, got {n_steps}")
    rng = as_rng(seed)
    nodes, weights = np.zeros((n_probes, n_steps)), np.zeros((n_probes, n_steps))
    for i in range(n_probes):
        z = rng.choice(np.array([-1.0, 1.0], dtype=dtype), size=p)
        alpha, beta = lanczos(lambda v: f(v[:, None])[:, 0], z, n_steps)
        theta, S = eigh_tridiagonal(alpha, beta) if alpha.size > 1 else (alpha, np.ones((1, 1)))
        nodes[i, : theta.size], weights[i, : theta.size] = theta, S[0] ** 2
    return SpectralDensity(nodes, weights, p)


def plot_spectral_densities(densities, *, ax=None, sigma=None, n_grid=400, log=True):
    """Plot several :class:`SpectralDensity` s in one axes (e.g. H, GN, Fisher, KFAC side by side).

    Parameters
    ----------
    densities : dict label -> SpectralDensity
    ax : matplotlib Axes, optional
        A new figure when None.
    sigma : float, optional
        Gaussian width; default 1% of the common range of all nodes.
    n_grid : int, default=400
    log : bool, default=True
        Logarithmic density axis (the spectra of networks span many decades).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from ..plots import new_figure

    if ax is None:
        fig, axes = new_figure(1, width=5.5, height=3.8)
        ax = axes[0, 0]
    lows, highs = zip(*(d.support() for d in densities.values()))
    grid = np.linspace(min(lows), max(highs), check_int(n_grid, "n_grid", 2))
    sigma = sigma if sigma is not None else 0.01 * float(grid[-1] - grid[0]) or 1e-3
    top = 0.0
    for i, (label, d) in enumerate(densities.items()):
        rho = d.density(grid, sigma)
        ax.plot(
            grid, rho, label=label, linestyle=("-", "--", "-.", ":")[i % 4]
        )  # styles show overlaps
        top = max(top, float(rho.max()))
    if log:
        ax.set_yscale("log")
        ax.set_ylim(1e-6 * top, 2 * top)
    ax.set(xlabel="eigenvalue", ylabel="density")
    ax.legend(fontsize=8)
    return ax.figure
