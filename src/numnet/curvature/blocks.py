"""Block-diagonal curvature: per-layer (or per parameter group) Hessian and Gauss–Newton blocks.

Note 000's Gauss–Newton with block structure keeps, of the p × p matrix,
only the blocks of parameters that belong together (a layer's W and b);
note 004's diagonal approximation is the extreme case of one-parameter
blocks. Here the blocks are dense matrices or ``LinearOperator`` s, and
:class:`BlockDiagonal` assembles them into one operator with a damped
inverse, a preconditioner for CG or a block Newton step.
"""

import numpy as np
from scipy.sparse.linalg import LinearOperator

from .._validation import check_positive
from ._common import linearize, unit
from ._leaves import leaf_names
from .factors import hessian_factors
from .ggn import _chunks

__all__ = [
    "parameter_groups",
    "hessian_blocks",
    "gauss_newton_blocks",
    "block_operators",
    "BlockDiagonal",
]

OPERATORS = ("hessian", "gauss_newton")


def parameter_groups(net):
    """``{name: slice of θ}``, one group per layer with parameters (``"0"``, ``"1.inner"``…, or graph node names)."""
    return leaf_names(net)


def _groups(groups, net, p):
    """``{name: index array}`` from None (per layer) or a mapping of slices / integer index arrays."""
    groups = parameter_groups(net) if groups is None else groups
    if not hasattr(groups, "items") or not groups:
        raise TypeError(
            f"groups must be a non-empty mapping name -> slice or index array, got {groups!r}"
        )
    out = {}
    for name, idx in groups.items():
        idx = np.arange(p)[idx] if isinstance(idx, slice) else np.asarray(idx)
        if (
            idx.ndim != 1
            or idx.size == 0
            or idx.dtype.kind not in "iu"
            or idx.min() < 0
            or idx.max() >= p
        ):
            raise ValueError(
                f"groups[{name!r}] must select at least one index of theta in 0..{p - 1}"
            )
        out[name] = idx
    return out


def hessian_blocks(obj, theta=None, *, groups=None):
    """Exact diagonal blocks H[g, g] of ∇²J(θ), one dense matrix per group.

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    groups : mapping name -> slice or index array, optional
        Default: one group per layer (:func:`parameter_groups`).

    Returns
    -------
    dict name -> ndarray of shape (p_g, p_g)
        Column j of block g is (H e_j)[g], j in g: Σ_g p_g Hessian-vector
        products (note 004's R-operator), the regularizer included.
    """
    lin = linearize(obj, theta)
    p, dtype = lin.objective.n_params, lin.objective.dtype
    return {
        name: np.stack([lin.hvp(unit(p, j, dtype))[idx] for j in idx], axis=1)
        for name, idx in _groups(groups, lin.objective.net, p).items()
    }


def gauss_newton_blocks(obj, theta=None, *, groups=None, chunk_size=None):
    """Diagonal blocks G[g, g] of the Gauss–Newton matrix (``lin.G``), one dense matrix per group.

    Parameters
    ----------
    obj : Objective or Linearization
    theta : ndarray of shape (p,), optional
    groups : mapping name -> slice or index array, optional
    chunk_size : int, optional
        Samples per backward pass (memory O(k · chunk_size · p)).

    Returns
    -------
    dict name -> ndarray of shape (p_g, p_g)

    Notes
    -----
    Notes 000/004: G = (1/n) Σ_n J_nᵀ ∇²ℓ_n J_n = (1/n) Σ_r R_rᵀ R_r with
    R_r[n] = J_nᵀ u_rn, u_rn the columns of ∇²ℓ_n's square root
    (:func:`~numnet.curvature.factors.hessian_factors`); block g is
    (1/n) Σ_r R_r[:, g]ᵀ R_r[:, g], k backward passes in all and
    O(n Σ_g p_g²) work, never the p × p matrix. The regularizer's block
    λ∇²R[g, g] is added.
    """
    lin = linearize(obj, theta)
    obj = lin.objective
    idx = _groups(groups, obj.net, obj.n_params)
    factors = hessian_factors(obj.loss, lin.F, obj.Y)
    out = {name: np.zeros((i.size, i.size), dtype=obj.dtype) for name, i in idx.items()}
    for Rs in _chunks(lin, factors, chunk_size):
        for R in Rs:
            for name, i in idx.items():
                out[name] += R[:, i].T @ R[:, i]
    c = obj.dtype.type(factors.scale)
    return {
        name: out[name] * c + _regularizer_block(obj.regularizer, lin.theta, i)
        for name, i in idx.items()
    }


def _regularizer_block(reg, theta, idx):
    p, dtype = theta.shape[0], theta.dtype
    if reg is None:
        return np.zeros((idx.size, idx.size), dtype=dtype)
    return np.stack([reg.hvp(theta, unit(p, j, dtype))[idx] for j in idx], axis=1).astype(
        dtype, copy=False
    )


def block_operators(obj, theta=None, *, operator="hessian", groups=None):
    """Diagonal blocks of ``lin.H`` or ``lin.G`` as ``LinearOperator`` s: v_g ↦ (M [0, …, v_g, …, 0])[g].

    Each product costs one full Hessian (or Gauss–Newton) product; use them
    when p_g is too large for :func:`hessian_blocks`.

    Returns
    -------
    dict name -> scipy.sparse.linalg.LinearOperator of shape (p_g, p_g)
    """
    if operator not in OPERATORS:
        raise ValueError(f"operator must be one of {OPERATORS}, got {operator!r}")
    lin = linearize(obj, theta)
    product = lin.hvp if operator == "hessian" else lin.gnvp
    p, dtype = lin.objective.n_params, lin.objective.dtype
    return {
        name: _restricted(product, i, p, dtype)
        for name, i in _groups(groups, lin.objective.net, p).items()
    }


def _restricted(product, idx, p, dtype):
    def mv(v):
        full = np.zeros(p, dtype=dtype)
        full[idx] = np.asarray(v).reshape(-1)
        return product(full)[idx]

    return LinearOperator((idx.size, idx.size), matvec=mv, rmatvec=mv, dtype=dtype)


class BlockDiagonal:
    """⊕_g M_g over groups of θ, from dense blocks (then with a damped inverse) or operators.

    Parameters
    ----------
    blocks : dict name -> ndarray (p_g, p_g) or LinearOperator
        E.g. from :func:`hessian_blocks`, :func:`gauss_newton_blocks` or :func:`block_operators`.
    groups : mapping name -> slice or index array
        The same names; disjoint index sets of θ (indices in none map to 0).
    n_params : int
    """

    def __init__(self, blocks, groups, n_params):
        self.n_params = int(n_params)
        self.groups = _groups(groups, None, self.n_params) if groups is not None else None
        if self.groups is None or set(self.groups) != set(blocks):
            raise ValueError("groups must name exactly the blocks")
        self.blocks = dict(blocks)
        self.dtype = np.result_type(*[b.dtype for b in self.blocks.values()])
        self.shape = (self.n_params, self.n_params)

    def __matmul__(self, v):
        v = np.asarray(v)
        if v.shape != (self.n_params,):
            raise ValueError(f"v must have shape ({self.n_params},), got {v.shape}")
        out = np.zeros(self.n_params, dtype=self.dtype)
        for name, idx in self.groups.items():
            out[idx] += self.blocks[name] @ v[idx]
        return out

    def as_operator(self):
        return LinearOperator(
            self.shape, matvec=self.__matmul__, rmatvec=self.__matmul__, dtype=self.dtype
        )

    def to_dense(self):
        return np.stack(
            [self @ unit(self.n_params, j, self.dtype) for j in range(self.n_params)], axis=1
        )

    def inverse(self, damping):
        """(⊕ M_g + δI)⁻¹ = ⊕ (M_g + δI)⁻¹ for dense symmetric blocks, by eigendecomposition (δ > 0)."""
        damping = check_positive(damping, "damping")
        inv = {}
        for name, M in self.blocks.items():
            if not isinstance(M, np.ndarray):
                raise TypeError(f"block {name!r} is not a dense matrix; inverse needs dense blocks")
            lam, Q = np.linalg.eigh(0.5 * (M + M.T))
            if lam.min() + damping <= 0:
                raise ValueError(
                    f"damping={damping} does not make block {name!r} positive definite "
                    f"(smallest eigenvalue {lam.min():.3e})"
                )
            inv[name] = (Q / (lam + damping).astype(M.dtype)) @ Q.T
        return BlockDiagonal(inv, self.groups, self.n_params)
