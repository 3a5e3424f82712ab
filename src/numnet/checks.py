"""Derivative check, adjoint test and layer checks (public API).

Notes 000, "Testing": (1) the derivative check of a Jacobian mat-vec is the
Taylor test ‖f(x + hv) − f(x)‖ = O(h) and ‖f(x + hv) − f(x) − h J v‖ = O(h²);
(2) the adjoint test uᵀ(J v) = vᵀ(Jᵀ u) for arbitrary u, v.
"""

from dataclasses import dataclass, field

import numpy as np

from ._validation import as_rng, check_direction, check_float_dtype, check_int, check_positive

__all__ = [
    "DerivativeCheck",
    "AdjointCheck",
    "LayerCheck",
    "derivative_check",
    "adjoint_check",
    "check_layer",
]


@dataclass
class DerivativeCheck:
    """Result of :func:`derivative_check`: the notes' table and a verdict."""

    h: np.ndarray
    E0: np.ndarray
    E1: np.ndarray
    order0: np.ndarray
    order1: np.ndarray
    passed: bool
    name: str = "f"

    def __str__(self):
        rows = [
            f"derivative check of {self.name}: {'passed' if self.passed else 'FAILED'}",
            f"{'h':>10} {'|f(x+hv)-f(x)|':>16} {'|f(x+hv)-f(x)-hJv|':>20} {'order0':>7} {'order1':>7}",
        ]
        for i, h in enumerate(self.h):
            o0 = f"{self.order0[i - 1]:7.2f}" if i else " " * 7
            o1 = f"{self.order1[i - 1]:7.2f}" if i else " " * 7
            rows.append(f"{h:10.3e} {self.E0[i]:16.6e} {self.E1[i]:20.6e} {o0} {o1}")
        return "\n".join(rows)


@dataclass
class AdjointCheck:
    """Result of :func:`adjoint_check`: uᵀ(J v), vᵀ(Jᵀ u) and their relative gap."""

    uJv: float
    vJtu: float
    rel_error: float
    tol: float
    passed: bool
    name: str = "J"

    def __str__(self):
        verdict = "passed" if self.passed else "FAILED"
        return (
            f"adjoint check of {self.name}: {verdict}  u'Jv={self.uJv:.15e}  "
            f"v'J'u={self.vJtu:.15e}  rel.err={self.rel_error:.2e} (tol {self.tol:.0e})"
        )


@dataclass
class LayerCheck:
    """All checks of :func:`check_layer`; ``passed`` when every one passed."""

    results: list = field(default_factory=list)

    @property
    def passed(self):
        return all(r.passed for r in self.results)

    def __str__(self):
        return "\n\n".join(str(r) for r in self.results)


def _orders(E, floor):
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = E[:-1] / E[1:]
        orders = np.log2(ratio)
    valid = (E[:-1] > floor) & (E[1:] > floor)
    return np.where(valid, orders, np.nan)


def derivative_check(f, x, jvp, v=None, *, n_steps=14, h0=1.0, smooth=True, seed=0, name="f"):
    """Taylor test of a Jacobian-vector product (notes 000).

    Parameters
    ----------
    f : callable
        ``f(x) -> array`` (or scalar), x a flat or shaped array.
    x : ndarray
        The point.
    jvp : callable
        ``jvp(v) -> J(x) v``, same shape as ``f(x)``.
    v : ndarray, optional
        Direction; a random normal direction of norm ‖x‖ (or 1) when None.
    n_steps : int, default=14
        Rows of the table: h = h0 · 2⁻ᵏ, k = 0 … n_steps − 1.
    h0 : float, default=1.0
    smooth : bool, default=True
        When False (kinks: relu, hinge, L1) the verdict reads only the
        smallest steps, where E1 must be O(h²) or exact.
    seed : int, default=0
        Seed of the random direction.

    Returns
    -------
    DerivativeCheck
        ``passed`` when, over the small-h rows above the rounding floor, the
        observed order of E1 is ≈2 (median ≥ 1.7), which implies E0 → 0; the
        order of E0 (≈1, or up to 2 near a stationary point where the
        quadratic term dominates) is reported in the table, not judged. Rows
        where E1 is at the rounding floor count as exact (f linear along v).
    """
    x, v, n_steps, h0 = _check_taylor_args(x, v, n_steps, h0, seed)
    f0, Jv = np.asarray(f(x)), np.asarray(jvp(v))
    h = h0 * 0.5 ** np.arange(n_steps)
    E0, E1 = np.empty(n_steps), np.empty(n_steps)
    step_type = x.dtype.type if x.dtype.kind == "f" else float
    for i, hi in enumerate(h):
        hi = step_type(hi)  # a float64 step would upcast a float32 x
        diff = np.asarray(f(x + hi * v)) - f0
        E0[i], E1[i] = np.linalg.norm(diff), np.linalg.norm(diff - hi * Jv)
    eps = np.finfo(x.dtype if x.dtype.kind == "f" else np.float64).eps
    floor = 100 * eps * (np.linalg.norm(f0) + np.linalg.norm(Jv) + 1.0)
    order0, order1 = _orders(E0, floor), _orders(E1, floor)
    passed = _judge(order1, E1, floor, smooth)
    return DerivativeCheck(h, E0, E1, order0, order1, passed, name)


def _check_taylor_args(x, v, n_steps, h0, seed):
    """Checked ``(x, v, n_steps, h0)`` of :func:`derivative_check`; v drawn when None.

    At least two steps are needed for one observed order.
    """
    x = np.asarray(x)
    x = check_direction(x, x.shape, x.dtype if x.dtype.kind == "f" else np.float64, "x")
    n_steps = check_int(n_steps, "n_steps", minimum=2)
    h0 = check_positive(h0, "h0")
    if v is None:
        v = as_rng(seed).standard_normal(x.shape).astype(x.dtype)
        v *= max(np.linalg.norm(x), 1.0) / np.linalg.norm(v)
    return x, check_direction(v, x.shape, x.dtype, "v"), n_steps, h0


def _judge(order1, E1, floor, smooth):
    """E1 = O(h²) on the small-h tail (which implies E0 → 0), or E1 exact there.

    A smooth f is judged on the last five orders, a kinked one on the last
    three (its large-h rows may cross kinks).
    """
    o1 = order1[np.isfinite(order1)]
    exact = bool(E1[-1] <= floor)
    if o1.size == 0:
        return exact
    return bool(np.median(o1[-(5 if smooth else 3) :]) >= 1.7) or (exact and not smooth)


def adjoint_check(jvp, vjp, v_shape, u_shape, *, dtype=np.float64, tol=None, seed=0, name="J"):
    """Adjoint test uᵀ(J v) = vᵀ(Jᵀ u) for random u, v (notes 000).

    ``jvp(v)`` and ``vjp(u)`` return arrays; ``v_shape``/``u_shape`` are the
    shapes of v and u. The gap |uᵀJv − vᵀJᵀu| is measured relative to
    ‖u‖‖Jv‖ + ‖v‖‖Jᵀu‖ (the rounding scale of the two inner products); the
    default tolerance is 1e3 · eps of ``dtype``.
    """
    rng, dtype = as_rng(seed), check_float_dtype(dtype)
    tol = 1e3 * np.finfo(dtype).eps if tol is None else check_positive(tol, "tol")
    v = rng.standard_normal(v_shape).astype(dtype)
    u = rng.standard_normal(u_shape).astype(dtype)
    Jv, Jtu = np.asarray(jvp(v)), np.asarray(vjp(u))
    lhs, rhs = float(np.vdot(u, Jv)), float(np.vdot(v, Jtu))
    # scale by ‖u‖‖Jv‖ + ‖v‖‖Jᵀu‖, the size of the rounding in either inner product,
    # so a cancelling uᵀJv does not turn a rounding gap into a failure
    scale = np.linalg.norm(u) * np.linalg.norm(Jv) + np.linalg.norm(v) * np.linalg.norm(Jtu)
    rel = abs(lhs - rhs) / max(scale, np.finfo(dtype).tiny)
    return AdjointCheck(lhs, rhs, rel, tol, bool(rel <= tol or (lhs == rhs == 0.0)), name)


def _join(a, b):
    return np.concatenate([a.ravel(), b.ravel()])


class _LayerMaps:
    """The maps :func:`check_layer` tests, on flat vectors w = [θ; vec X] and [w; vec gZ].

    Linearized once at (θ, X): ``cache`` from one forward pass, ``gZ`` a
    random output cotangent drawn from ``rng``.
    """

    def __init__(self, layer, theta, X, rng):
        self.layer, self.theta, self.shape_X = layer, theta, X.shape
        self.x0 = _join(theta, X)
        Z, self.cache = layer.forward(theta, X)
        self.gZ = rng.standard_normal(Z.shape).astype(Z.dtype)

    def split(self, w):
        """w = [θ; vec X] → (θ, X)."""
        p = self.layer.n_params
        return w[:p], w[p:].reshape(self.shape_X)

    def split_g(self, wg):
        """[w; vec gZ] → (w, gZ)."""
        return wg[: self.x0.size], wg[self.x0.size :].reshape(self.gZ.shape)

    def forward(self, w):
        return self.layer.forward(*self.split(w))[0]

    def jvp(self, w):
        return self.layer.jvp(self.theta, self.cache, *self.split(w))

    def vjp(self, u):
        return _join(*self.layer.vjp(self.theta, self.cache, u))

    def grad_map(self, wg):
        """(θ, X, gZ) ↦ vjp(θ, X, gZ), with a fresh forward pass at (θ, X)."""
        w, g = self.split_g(wg)
        theta, X = self.split(w)
        return _join(*self.layer.vjp(theta, self.layer.forward(theta, X)[1], g))

    def rop(self, wg):
        """The Jacobian-vector product of :meth:`grad_map` at (θ, X, gZ)."""
        w, dg = self.split_g(wg)
        return _join(*self.layer.rop(self.theta, self.cache, *self.split(w), self.gZ, dg))

    def hess(self, w):
        """(dθ, dX) ↦ rop(dθ, dX, gZ, 0): the Hessian of gZᵀ f, symmetric."""
        return _join(*self.layer.rop(self.theta, self.cache, *self.split(w), self.gZ, None))


def check_layer(layer, X, theta=None, *, seed=0, n_steps=None):
    """Run every check on a layer (or network) at parameters ``theta`` and input ``X``.

    Checks, along random joint directions (dtheta, dX):

    1. derivative check of ``forward`` with ``jvp``;
    2. adjoint test of ``jvp`` against ``vjp``;
    3. derivative check of the map (θ, X, gZ) ↦ vjp(θ, X, gZ) with ``rop`` as
       its Jacobian-vector product (the R-operator is the derivative of vjp);
    4. symmetry of the second-order part: the adjoint test of
       (dθ, dX) ↦ rop(dθ, dX, gZ, 0) against itself (a Hessian of uᵀ f).

    ``n_steps`` defaults to 14 for a smooth layer and 24 for a kinked one
    (``layer.smooth`` False), whose table must reach below the distance to
    the nearest kink.
    """
    rng = as_rng(seed)
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] == 0:
        raise ValueError(
            f"X must be a 2-D array with at least one row (a 0-row batch tests nothing), "
            f"got shape {X.shape}"
        )
    if n_steps is not None:
        check_int(n_steps, "n_steps", minimum=2)
    if theta is None:
        theta = layer.init(rng, X.dtype if X.dtype.kind == "f" else np.float64)
    smooth = getattr(layer, "smooth", True)
    n_steps, dtype, name = n_steps or (14 if smooth else 24), theta.dtype, repr(layer)
    m = _LayerMaps(layer, theta, X.astype(dtype), rng)
    return LayerCheck(
        [
            derivative_check(
                m.forward,
                m.x0,
                m.jvp,
                n_steps=n_steps,
                smooth=smooth,
                seed=seed,
                name=f"{name}.jvp",
            ),
            adjoint_check(
                m.jvp, m.vjp, m.x0.shape, m.gZ.shape, dtype=dtype, seed=seed, name=f"{name}.vjp"
            ),
            derivative_check(
                m.grad_map,
                _join(m.x0, m.gZ),
                m.rop,
                n_steps=n_steps,
                smooth=smooth,
                seed=seed + 1,
                name=f"{name}.rop",
            ),
            adjoint_check(
                m.hess,
                m.hess,
                m.x0.shape,
                m.x0.shape,
                dtype=dtype,
                seed=seed + 2,
                name=f"{name}.rop symmetry",
            ),
        ]
    )
