"""KFAC and EKFAC: Kronecker-factored approximations of the Gauss–Newton / Fisher matrix.

For a Dense layer A = X W + b the per-sample Gauss–Newton block is
Σ_r (x̃_n ⊗ g_rn)(x̃_n ⊗ g_rn)ᵀ with x̃_n = [x_n; 1] the layer input and g_rn
the cotangent of A for the output factor u_rn (:mod:`numnet.curvature.factors`).
KFAC (Martens & Grosse 2015) replaces the mean of the Kronecker products
by the Kronecker product of the means,

    (1/n) Σ_n (x̃ x̃ᵀ) ⊗ (Σ_r g gᵀ)  ≈  A ⊗ G,  A = (1/n) Σ_n x̃_n x̃_nᵀ,  G = (1/n) Σ_n Σ_r g_rn g_rnᵀ,

exact when the inputs and the cotangents are uncorrelated. A convolution
shares W over its P output pixels; KFAC-expand (Grosse & Martens 2016)
takes A = (1/(nP)) Σ_{n,p} c̃_np c̃_npᵀ over the im2col rows c̃ and
G = (1/n) Σ_{n,p,r} g_rnp g_rnpᵀ. EKFAC (George et al. 2018) keeps the
eigenbasis Q_A ⊗ Q_G of KFAC and refits the eigenvalues to the per-sample
gradients Γ_rn = Σ_p c̃_npᵀ g_rnp: S = (1/n) Σ_{n,r} (Q_Aᵀ Γ_rn Q_G)^⊙2, the
best diagonal in that basis (Frobenius norm).

Factors follow curvlinops' conventions (``KFACLinearOperator`` with
reduction="mean", ``kfac_approx="expand"``), so they agree with it entry for
entry. The regularizer is not included: damp the inverse instead.
"""

from typing import NamedTuple

import numpy as np

from ._common import linearize
from ._leaves import KRONECKER_LAYERS, has_bias, leaves, pre_activation, static_leaves
from .factors import curvature_factors
from .kronecker import EigenBlock, KroneckerBlock, KroneckerEigenOperator, KroneckerOperator

__all__ = ["kfac", "ekfac", "check_kfac_network", "BIAS_MODES"]

#: How a layer's bias enters: one block for [W; bᵀ] with x̃ = [x; 1], or a block of its own (A = 1).
BIAS_MODES = ("joint", "separate")


class _Block(NamedTuple):
    """One Kronecker block's data: rows (n·P, a) its matrix multiplies, cotangents gA per factor set."""

    name: str
    params: slice
    rows: np.ndarray
    gAs: list
    n: int


def kfac(obj, theta=None, *, kind="type-2", mc_samples=1, seed=0, targets=None, bias="joint"):
    """The KFAC approximation of the Gauss–Newton (or Fisher) matrix, as a :class:`KroneckerOperator`.

    Parameters
    ----------
    obj : Objective or Linearization
        (or an object with a linearization's ``objective``, ``theta``, ``F``,
        ``cache`` and ``gF``, such as an optimizer's counting wrapper),
        on a network of Dense, Residual, Conv2d and Conv1d layers (any
        parameter-free layers in between, chains or graphs); another layer
        with parameters raises ``TypeError`` naming it.
    theta : ndarray of shape (p,), optional
    kind : {"type-2", "mc", "empirical"}, default="type-2"
        G from the exact loss Hessian (k backward passes), from ``mc_samples``
        targets drawn from the model (M passes), or from the observed
        gradients (one pass).
    mc_samples, seed, targets
        For kind="mc" (see :func:`~numnet.curvature.factors.mc_factors`).
    bias : {"joint", "separate"}, default="joint"
        "joint": one block (Ã ⊗ G) for W̃ = [W; bᵀ], numnet's layout of a
        layer's slice; "separate": W gets A ⊗ G and b gets G alone.

    Returns
    -------
    KroneckerOperator
        With ``@``, ``trace()``, ``logdet(δ)``, ``inverse(δ)``, ``eigen()``,
        ``to_dense()``, ``as_operator()``.
    """
    return _kronecker(*_blocks(obj, theta, kind, mc_samples, seed, targets, bias))


def _kronecker(data, c, p, dtype):
    """A = rowsᵀ rows / (n·P) and G = c Σ_r gA_rᵀ gA_r for every block (one G per layer: W and b share it)."""
    out, Gs = [], {}
    for b in data:
        A = b.rows.T @ b.rows / dtype.type(b.rows.shape[0])
        if id(b.gAs) not in Gs:  # `data` keeps every b.gAs alive, so ids are not reused
            Gs[id(b.gAs)] = _gram(b.gAs) * dtype.type(c)
        out.append(KroneckerBlock(b.name, b.params, A, Gs[id(b.gAs)]))
    return KroneckerOperator(out, p, dtype)


def _gram(gAs):
    """Σ_r gA_rᵀ gA_r as one symmetric rank-k update (syrk) of the stacked cotangents."""
    S = gAs[0] if len(gAs) == 1 else np.concatenate(gAs)
    return S.T @ S


def ekfac(obj, theta=None, *, kind="type-2", mc_samples=1, seed=0, targets=None, bias="joint"):
    """EKFAC: KFAC's eigenbasis with eigenvalues refit to the per-sample gradients.

    Parameters
    ----------
    obj, theta, kind, mc_samples, seed, targets, bias
        As in :func:`kfac`.

    Returns
    -------
    KroneckerEigenOperator
        S_b = (1/n) Σ_{n,r} (Q_Aᵀ Γ_rn Q_G)^⊙2 per block, Γ_rn the per-sample
        gradient of the block for factor set r (see the module notes).

    Notes
    -----
    For a Dense layer (P = 1) Γ_rn = x̃_n g_rnᵀ is rank one, so
    (Q_Aᵀ Γ Q_G)^⊙2 = (Q_Aᵀx̃)^⊙2 ((Q_Gᵀg)^⊙2)ᵀ and S is one matrix product of
    the squared rotated rows; a convolution sums over pixels first (a batched
    product, memory n·a·g).
    """
    data, c, p, dtype = _blocks(obj, theta, kind, mc_samples, seed, targets, bias)
    out = []
    for b, e in zip(data, _kronecker(data, c, p, dtype).eigen().blocks):
        S = sum(_rotated_squares(b.rows @ e.QA, g @ e.QG, b.n) for g in b.gAs) * dtype.type(c)
        out.append(EigenBlock(b.name, b.params, e.QA, e.QG, S))
    return KroneckerEigenOperator(out, p, dtype)


def _rotated_squares(R, Gr, n):
    """Σ_n (Σ_p R_npᵀ G_np)^⊙2 for rotated rows R (n·P, a) and cotangents Gr (n·P, g)."""
    if R.shape[0] == n:
        return (R * R).T @ (Gr * Gr)
    P = R.shape[0] // n
    Gamma = np.matmul(R.reshape(n, P, -1).transpose(0, 2, 1), Gr.reshape(n, P, -1))
    return np.einsum("nag,nag->ag", Gamma, Gamma)


def _blocks(obj, theta, kind, mc_samples, seed, targets, bias):
    """``(blocks, scale, p, dtype)``: every Kronecker block's rows and cotangents (one backward pass per r)."""
    if bias not in BIAS_MODES:
        raise ValueError(f"bias must be one of {BIAS_MODES}, got {bias!r}")
    lin = _linearization(obj, theta)
    net, n = lin.objective.net, lin.F.shape[0]
    _check_supported(leaves(net, lin.theta, lin.cache))
    factors = curvature_factors(lin, kind, mc_samples=mc_samples, seed=seed, targets=targets)
    passes = [leaves(net, lin.theta, lin.cache, U) for U in factors.U]
    out = []
    for i in range(len(passes[0])):
        parts = [pre_activation(ls[i]) for ls in passes]
        out += _split(passes[0][i], parts[0][0], [g for _, g in parts], n, bias)
    return out, factors.scale, lin.objective.n_params, lin.objective.dtype


def _linearization(obj, theta):
    """``obj.at(theta)``, a Linearization, or an object exposing one's attributes (an optimizer's wrapper)."""
    if theta is None and all(hasattr(obj, a) for a in _LINEARIZATION_ATTRIBUTES):
        return obj
    return linearize(obj, theta)


_LINEARIZATION_ATTRIBUTES = ("objective", "theta", "F", "cache", "gF")


def _split(leaf, rows, gAs, n, bias):
    """One block per layer (W̃ = [W; bᵀ], rows [c, 1]) or two (W with rows c, b with rows 1)."""
    s = leaf.params
    if not has_bias(leaf):
        return [_Block(leaf.name, s, rows, gAs, n)]
    ones = np.ones((rows.shape[0], 1), dtype=rows.dtype)
    if bias == "joint":
        return [_Block(leaf.name, s, np.hstack([rows, ones]), gAs, n)]
    n_W = rows.shape[1] * gAs[0].shape[1]
    return [
        _Block(f"{leaf.name}.W", slice(s.start, s.start + n_W), rows, gAs, n),
        _Block(f"{leaf.name}.b", slice(s.start + n_W, s.stop), ones, gAs, n),
    ]


def check_kfac_network(net):
    """Raise TypeError naming the first layer KFAC cannot factor (ValueError for shared weights); no forward pass."""
    _check_supported(static_leaves(net, shared=True))


def _check_supported(found):
    """TypeError naming a layer KFAC cannot factor; ValueError naming a node that shares a slice."""
    seen = {}
    for leaf in found:
        if not isinstance(leaf.layer, KRONECKER_LAYERS):
            raise TypeError(
                f"KFAC supports Dense, Residual, Conv2d and Conv1d layers; layer {leaf.name} "
                f"is {leaf.layer!r}"
            )
        key = (leaf.params.start, leaf.params.stop)
        if key in seen:
            raise ValueError(
                f"layer {leaf.name} shares the parameters of layer {seen[key]}: "
                "KFAC has no Kronecker factors for shared weights"
            )
        seen[key] = leaf.name
