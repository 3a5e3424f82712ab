"""Quasi-Newton memories H ≈ (∇²J)⁻¹ and the line-search loop that uses them.

Every memory has ``update(s, y) -> bool`` (False when its skip rule refused
the pair), ``dot(v)`` = H v and ``H @ v``, and counts ``n_updates`` and
``n_skipped``. ``s = x_{k+1} − x_k`` and ``y = ∇J(x_{k+1}) − ∇J(x_k)``.
``snapshot()`` returns its contents as plain data (a :class:`MemoryState`)
and ``restore(snapshot)`` puts them back, so a method's state holds the
memory as data and a checkpoint can store it.

Note 004: "quasi-Newton algorithms gradually build up an approximation to the
inverse of the Hessian during training" (BFGS, L-BFGS), and "inverse by
sequential rank-one updates". The formulas are Nocedal & Wright, chapter 6
(BFGS 6.17, SR1 6.25, initial scaling 6.20) and chapter 7 (two-loop
recursion, Algorithm 7.4, with γ_k of 7.20).
"""

from collections import deque
from typing import NamedTuple

import numpy as np

from .._linalg import sr1_update
from .._validation import check_int, check_positive
from .base import Iterate, NoProgress, robust_norm

__all__ = [
    "BFGSInverse",
    "SR1Inverse",
    "LBFGS",
    "MemoryState",
    "QuasiNewtonState",
    "quasi_newton_step",
    "quasi_newton_steps",
]


class MemoryState(NamedTuple):
    """A memory's contents: the dense H (None before the first pair) or L-BFGS's (s, y, ρ) pairs, and counts."""

    H: np.ndarray | None = None
    pairs: tuple = ()
    n_updates: int = 0
    n_skipped: int = 0


class QuasiNewtonState(NamedTuple):
    """x, f = J(x), g = ∇J(x) and the memory's :class:`MemoryState`."""

    x: np.ndarray
    f: float
    g: np.ndarray
    memory: MemoryState = MemoryState()


def _check_h0(h0):
    return None if h0 is None else check_positive(h0, "h0")


class _Memory:
    """Shared counting and ``@``; subclasses implement ``_accept``, ``_store``, ``dot``."""

    def update(self, s, y):
        """Add the pair (s, y) unless the skip rule refuses it; return whether it was added."""
        if not (np.isfinite(s).all() and np.isfinite(y).all()) or not self._accept(s, y):
            self.n_skipped += 1
            return False
        self._store(s, y)
        self.n_updates += 1
        return True

    def __matmul__(self, v):
        return self.dot(v)

    def snapshot(self):
        """The contents as a :class:`MemoryState` (shares the arrays, which are never changed in place)."""
        return MemoryState(
            getattr(self, "H", None),
            tuple(getattr(self, "pairs", ())),
            self.n_updates,
            self.n_skipped,
        )


class _Dense(_Memory):
    """A dense n × n inverse approximation, γ I until the first accepted pair."""

    def __init__(self, n, *, h0=None, dtype=np.float64):
        self.n, self.h0, self.dtype = n, _check_h0(h0), np.dtype(dtype)
        self.H, self.n_updates, self.n_skipped = None, 0, 0

    def reset(self):
        self.H, self.n_updates = None, 0

    def restore(self, snapshot):
        """Set H and the counts from a :meth:`snapshot`; returns self."""
        self.H, self.n_updates, self.n_skipped = snapshot.H, snapshot.n_updates, snapshot.n_skipped
        return self

    def dot(self, v):
        """H v (v itself, times h0 when given, before the first update)."""
        if self.H is None:
            return v * (1.0 if self.h0 is None else self.h0)
        return self.H @ v

    def _initial(self, s, y):
        """H₀ = h0 I, or N&W (6.20) H₀ = (yᵀs / yᵀy) I from the first pair."""
        if self.h0 is not None:
            return self.h0 * np.eye(self.n, dtype=self.dtype)
        ys, yy = float(y @ s), float(y @ y)
        return (ys / yy if ys > 0 else 1.0) * np.eye(self.n, dtype=self.dtype)


class BFGSInverse(_Dense):
    """Dense BFGS inverse-Hessian approximation.

    Parameters
    ----------
    n : int
        Dimension.
    h0 : float or None, default=None
        H₀ = h0·I; None scales H₀ = (yᵀs / yᵀy) I at the first accepted pair.
    eps : float, default=1e-8
        Skip rule: refuse (s, y) when ``y @ s <= eps * ‖s‖ ‖y‖`` (the
        curvature condition fails, so H would lose positive definiteness).
    dtype : float32 or float64

    Notes
    -----
    N&W (6.17): H⁺ = (I − ρ s yᵀ) H (I − ρ y sᵀ) + ρ s sᵀ with ρ = 1/(yᵀs),
    expanded as ``H - rho*(outer(s, Hy) + outer(Hy, s)) + (rho**2 * y@Hy + rho) * outer(s, s)``,
    O(n²) per update. H⁺ satisfies the secant equation H⁺ y = s and stays
    symmetric positive definite when yᵀs > 0.
    """

    def __init__(self, n, *, h0=None, eps=1e-8, dtype=np.float64):
        super().__init__(n, h0=h0, dtype=dtype)
        self.eps = eps

    def _accept(self, s, y):
        return float(y @ s) > self.eps * np.linalg.norm(s) * np.linalg.norm(y)

    def _store(self, s, y):
        H = self._initial(s, y) if self.H is None else self.H
        rho, Hy = 1.0 / float(y @ s), H @ y
        self.H = (
            H
            - rho * (np.outer(s, Hy) + np.outer(Hy, s))
            + (rho * rho * float(y @ Hy) + rho) * np.outer(s, s)
        ).astype(self.dtype, copy=False)


class SR1Inverse(_Dense):
    """Dense symmetric-rank-one inverse-Hessian approximation (may be indefinite).

    Parameters
    ----------
    n : int
    h0 : float or None, default=None
        H₀ = h0·I. None: the first pair with yᵀs > 0 only sets the scale,
        H = (yᵀs / yᵀy) I (N&W 6.20), and the rank-one updates start with the
        second pair (the update of γI along the pair that defines γ is
        degenerate: yᵀ(s − γy) = 0).
    r : float, default=1e-8
        Skip rule: with u = s − H y, refuse the pair when
        ``abs(y @ u) <= r * ‖y‖ ‖u‖`` (the denominator would blow up; this
        also skips u = 0, where H already satisfies the secant equation).
    dtype : float32 or float64

    Notes
    -----
    N&W (6.25), inverse form: H⁺ = H + u uᵀ / (uᵀ y), u = s − H y; the skip
    rule is N&W (6.26) written for the inverse. H⁺ y = s. Formula and rule
    are :func:`numnet._linalg.sr1_update`, shared with
    :func:`numnet.curvature.sr1_update`.
    """

    def __init__(self, n, *, h0=None, r=1e-8, dtype=np.float64):
        super().__init__(n, h0=h0, dtype=dtype)
        self.r, self._next = r, None

    @property
    def _scaling(self):
        return self.H is None and self.h0 is None

    def _accept(self, s, y):
        if self._scaling:
            return float(y @ s) > 0
        H = self.h0 * np.eye(self.n, dtype=self.dtype) if self.H is None else self.H
        self._next = sr1_update(H, s, y, self.r)  # None when the skip rule refuses the pair
        return self._next is not None

    def _store(self, s, y):
        if self._scaling:
            self.H = self._initial(s, y)
            return
        self.H, self._next = self._next.astype(self.dtype, copy=False), None


class LBFGS(_Memory):
    """Limited-memory BFGS: the last ``memory`` pairs and the two-loop recursion.

    Parameters
    ----------
    memory : int, default=10
        Pairs kept (m).
    eps : float, default=1e-8
        Skip rule as :class:`BFGSInverse`: refuse (s, y) when yᵀs ≤ eps‖s‖‖y‖.

    Notes
    -----
    N&W Algorithm 7.4: q = v; for i = k−1, …, k−m: α_i = ρ_i s_iᵀq,
    q −= α_i y_i; r = γ_k q with γ_k = s_{k−1}ᵀy_{k−1} / y_{k−1}ᵀy_{k−1}
    (7.20); for i = k−m, …, k−1: β = ρ_i y_iᵀr, r += s_i (α_i − β). Equals
    the BFGS matrix (6.17) built from the same pairs starting at H₀ = γ_k I,
    in O(mn) per product and memory.
    """

    def __init__(self, memory=10, *, eps=1e-8):
        self.memory, self.eps = check_int(memory, "memory"), eps
        self.pairs, self.n_updates, self.n_skipped = deque(maxlen=self.memory), 0, 0

    def reset(self):
        self.pairs.clear()
        self.n_updates = 0

    def restore(self, snapshot):
        """Set the pairs and the counts from a :meth:`snapshot`; returns self."""
        self.pairs = deque(snapshot.pairs, maxlen=self.memory)
        self.n_updates, self.n_skipped = snapshot.n_updates, snapshot.n_skipped
        return self

    def _accept(self, s, y):
        return float(y @ s) > self.eps * np.linalg.norm(s) * np.linalg.norm(y)

    def _store(self, s, y):
        self.pairs.append((s, y, 1.0 / float(y @ s)))

    @property
    def gamma(self):
        """γ_k of N&W (7.20) from the newest pair (1 when empty)."""
        if not self.pairs:
            return 1.0
        s, y, _ = self.pairs[-1]
        return float(s @ y) / float(y @ y)

    def dot(self, v):
        """H v by the two-loop recursion."""
        q, alphas = v.copy(), []
        for s, y, rho in reversed(self.pairs):
            alphas.append(rho * float(s @ q))
            q -= alphas[-1] * y
        r = self.gamma * q
        for (s, y, rho), a in zip(self.pairs, reversed(alphas)):
            r += (a - rho * float(y @ r)) * s
        return r


def _direction(memory, g, fallback):
    """p = −H g; −g when ``fallback`` and p is not a descent direction."""
    p = -memory.dot(g)
    if fallback and not (
        np.isfinite(p).all() and float(g @ p) < -1e-12 * robust_norm(g) * robust_norm(p)
    ):
        return -g
    return p


def _first_step(memory, g):
    """Before any accepted pair H is a multiple of I: the first trial step is t = min(1, 1/‖g‖)."""
    return min(1.0, 1.0 / robust_norm(g)) if memory.n_updates == 0 else 1.0


def _search(search, problem, x, f, g, memory, fallback):
    """Line search along the quasi-Newton direction; on failure reset the memory and use −g."""
    try:
        return search(problem, x, f, g, _direction(memory, g, fallback), _first_step(memory, g))
    except NoProgress:
        if memory.n_updates == 0:
            raise
        memory.reset()
        return search(problem, x, f, g, -g, _first_step(memory, g))


def quasi_newton_step(problem, state, memory, search, *, fallback=False):
    """x_{k+1} = x_k + t_k p_k, p_k = −H_k g_k, then ``memory.update(s_k, y_k)``: returns (state, Iterate).

    ``memory`` holds the contents of ``state.memory`` and is updated in
    place; the new state carries its :meth:`snapshot`. ``search`` is a line
    search from :func:`~numnet.optim.linesearch.get_line_search`. If it fails
    along p_k, the memory is reset (``reset()`` forgets the pairs and zeroes
    ``n_updates``) and steepest descent is tried once before
    :class:`NoProgress` propagates. ``fallback=True`` replaces a non-descent
    p_k by −g_k (SR1, whose H may be indefinite).
    """
    x, f, g = state.x, state.f, state.g
    t, lin = _search(search, problem, x, f, g, memory, fallback)
    x_new, g_new = lin.theta, lin.grad
    memory.update(x_new - x, g_new - g)
    state = QuasiNewtonState(x_new, float(lin.value), g_new, memory.snapshot())
    return state, Iterate(state.x, state.f, state.g, step=t)


def quasi_newton_steps(problem, x, f, g, memory, search, *, fallback=False):
    """The iterates of :func:`quasi_newton_step` from (x, f, g), ``memory`` updated in place."""
    state = QuasiNewtonState(x, f, g)
    while True:
        state, it = quasi_newton_step(problem, state, memory, search, fallback=fallback)
        yield it
