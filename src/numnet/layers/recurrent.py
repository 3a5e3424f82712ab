"""Elman recurrent layer, unrolled over time with one set of shared parameters.

Each input row is a flattened sequence (T, d_x), time-major (row-major
within the row). The cell h_t = σ(x_t W_x + h_{t−1} W_h + b) runs T steps
with the *same* W_x, W_h, b; the products are backpropagation through time
(vjp), forward-mode tangents (jvp) and the R-operator of BPTT (rop). Loops
run over time steps only, never over samples.
"""

from functools import cached_property

import numpy as np

from .._validation import check_matrix, check_theta
from ..activations import get_activation
from ._contract import check_tangents, init_weights, positive_int

__all__ = ["Recurrent", "RecurrentCache"]

OUTPUTS = ("last", "sequence")


class RecurrentCache:
    """What the forward pass of a :class:`Recurrent` layer keeps.

    Attributes
    ----------
    X : ndarray (n_samples, T, d_x)
        The inputs x_1 … x_T (a view of the input rows).
    A : ndarray (n_samples, T, d_h)
        The pre-activations A_t = x_t W_x + h_{t−1} W_h + b.
    H : ndarray (n_samples, T, d_h)
        The hidden states h_1 … h_T (h_0 = 0 is not stored).
    activation : Activation
        σ.
    dsigma, d2sigma : ndarray (n_samples, T, d_h)
        σ′(A) and σ″(A), computed on first use and kept.
    """

    def __init__(self, X, A, H, activation):
        self.X, self.A, self.H, self.activation = X, A, H, activation

    @cached_property
    def dsigma(self):
        act = self.activation
        return act.df_from_output(self.H) if act.df_from_output is not None else act.df(self.A)

    @cached_property
    def d2sigma(self):
        act = self.activation
        return act.d2f_from_output(self.H) if act.d2f_from_output is not None else act.d2f(self.A)


class Recurrent:
    """Elman recurrent layer h_t = σ(x_t W_x + h_{t−1} W_h + b), h_0 = 0, over T steps.

    Parameters
    ----------
    n_steps : int
        Sequence length T; an input row is a flattened (T, d_x) array.
    d_x, d_h : int
        Widths of one input step x_t and of the hidden state h_t.
    activation : str or Activation, default="tanh"
        σ, by name (see :mod:`numnet.activations`).
    output : {"last", "sequence"}, default="last"
        "last": Z = h_T, d_out = d_h (sequence to one); "sequence": Z is
        h_1 … h_T flattened time-major, d_out = T d_h (sequence to sequence).
    bias : bool, default=True
        Whether the cell has the bias b.

    Notes
    -----
    Samples as rows; x_t, h_t are (n_samples, ·) blocks of the rows. ``theta``
    holds W_x (d_x, d_h), W_h (d_h, d_h), b (d_h,), each row-major, in that
    order, shared by all T steps (the parameter count does not depend on T).
    For t = 1 … T, with h_0 = 0:

    - forward: A_t = x_t W_x + h_{t−1} W_h + b,  h_t = σ(A_t)
    - jvp (forward in t): dA_t = dx_t W_x + x_t dW_x + dh_{t−1} W_h
      + h_{t−1} dW_h + db,  dh_t = σ′(A_t) ⊙ dA_t,  dh_0 = 0
    - vjp (backpropagation through time, backward in t): gh_t = gZ_t
      + gA_{t+1} W_hᵀ (gA_{T+1} = 0; gZ_t = 0 for t < T when output="last"),
      gA_t = σ′(A_t) ⊙ gh_t; gradients of the shared parameters accumulate
      over the steps: gW_x = Σ_t x_tᵀ gA_t, gW_h = Σ_t h_{t−1}ᵀ gA_t,
      gb = Σ_t Σ_rows gA_t, gx_t = gA_t W_xᵀ
    - rop (R-operator of the vjp, note 004; dgZ moves gZ):
      R{gh_t} = dgZ_t + R{gA_{t+1}} W_hᵀ + gA_{t+1} dW_hᵀ,
      R{gA_t} = σ″(A_t) ⊙ dA_t ⊙ gh_t + σ′(A_t) ⊙ R{gh_t},
      R{gW_x} = Σ_t dx_tᵀ gA_t + x_tᵀ R{gA_t},
      R{gW_h} = Σ_t dh_{t−1}ᵀ gA_t + h_{t−1}ᵀ R{gA_t},  R{gb} = Σ_t Σ_rows R{gA_t},
      R{gx_t} = R{gA_t} W_xᵀ + gA_t dW_xᵀ
    - diag_backward (Becker–LeCun through time, note 004; off-diagonal terms
      dropped): hh_t = hZ_t + hA_{t+1} (W_h ⊙ W_h)ᵀ,
      hA_t = σ′(A_t)² ⊙ hh_t + σ″(A_t) ⊙ gh_t,  diag W_x = Σ_t (x_t ⊙ x_t)ᵀ hA_t,
      diag W_h = Σ_t (h_{t−1} ⊙ h_{t−1})ᵀ hA_t,  diag b = Σ_t Σ_rows hA_t,
      hx_t = hA_t (W_x ⊙ W_x)ᵀ
    """

    def __init__(self, n_steps, d_x, d_h, *, activation="tanh", output="last", bias=True):
        self.n_steps = positive_int(n_steps, "n_steps")
        self.d_x, self.d_h = positive_int(d_x, "d_x"), positive_int(d_h, "d_h")
        self.activation = get_activation(activation)
        if not isinstance(output, str) or output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"bias must be True or False, got {bias!r}")
        self.output, self.bias = output, bool(bias)
        self.d_in = self.n_steps * self.d_x
        self.d_out = self.d_h if output == "last" else self.n_steps * self.d_h
        self._n_Wx, self._n_Wh = self.d_x * self.d_h, self.d_h * self.d_h

    def __repr__(self):
        return (
            f"Recurrent({self.n_steps}, {self.d_x}, {self.d_h}, activation={self.activation.name!r}, "
            f"output={self.output!r}, bias={self.bias})"
        )

    def get_config(self):
        return {
            "n_steps": self.n_steps,
            "d_x": self.d_x,
            "d_h": self.d_h,
            "activation": self.activation,
            "output": self.output,
            "bias": self.bias,
        }

    @property
    def n_params(self):
        return self._n_Wx + self._n_Wh + (self.d_h if self.bias else 0)

    @property
    def smooth(self):
        """True when the layer is twice continuously differentiable."""
        return self.activation.smooth

    def init(self, rng, dtype=np.float64, scheme="xavier"):
        """Draw W_x (fan_in d_x), W_h (fan_in d_h) by ``scheme``, then b (zero unless "normal")."""
        W_x = init_weights(rng, dtype, scheme, self._n_Wx, 0, self.d_x, self.d_h)
        rest = init_weights(
            rng,
            dtype,
            scheme,
            self._n_Wh,
            self.n_params - self._n_Wx - self._n_Wh,
            self.d_h,
            self.d_h,
        )
        return np.concatenate([W_x, rest])

    def unpack(self, theta):
        """Views ``{"W_x": (d_x, d_h), "W_h": (d_h, d_h), "b": (d_h,) or None}`` into ``theta``."""
        a, b = self._n_Wx, self._n_Wx + self._n_Wh
        return {
            "W_x": theta[:a].reshape(self.d_x, self.d_h),
            "W_h": theta[a:b].reshape(self.d_h, self.d_h),
            "b": theta[b:] if self.bias else None,
        }

    def bias_mask(self):
        """Boolean mask of the entries of ``theta`` that are biases."""
        mask = np.zeros(self.n_params, dtype=bool)
        mask[self._n_Wx + self._n_Wh :] = True
        return mask

    def forward(self, theta, X):
        """Return ``(Z, cache)``: Z = h_T (output="last") or h_1 … h_T flattened."""
        theta = check_theta(theta, self.n_params)
        return self._forward(theta, check_matrix(X, "X", self.d_in, dtype=theta.dtype))

    def _forward(self, theta, X):
        """:meth:`forward` without the input checks."""
        p = self.unpack(theta)
        X3 = X.reshape(X.shape[0], self.n_steps, self.d_x)
        A = X3 @ p["W_x"]
        if self.bias:
            A += p["b"]
        H = np.empty_like(A)
        for t in range(self.n_steps):
            if t:
                A[:, t] += H[:, t - 1] @ p["W_h"]
            H[:, t] = self.activation.f(A[:, t])
        return self._outputs(H), RecurrentCache(X3, A, H, self.activation)

    def tangent(self, theta, cache, dtheta, dX):
        """Return ``(dZ, (dA, dH))``: the jvp and the tangents of A and H that :meth:`rop` reuses."""
        W_h = self.unpack(theta)["W_h"]
        dA = self._direct_tangent(theta, cache, dtheta, dX)
        dH = np.empty_like(dA)
        for t in range(self.n_steps):
            if t:
                dA[:, t] += dH[:, t - 1] @ W_h
            dH[:, t] = cache.dsigma[:, t] * dA[:, t]
        return self._outputs(dH), (dA, dH)

    def jvp(self, theta, cache, dtheta, dX):
        """J v for a parameter direction ``dtheta`` and an input direction ``dX`` (either may be None)."""
        dtheta, dX = check_tangents(self, theta, dtheta, dX, cache.X.shape[0])
        return self.tangent(theta, cache, dtheta, dX)[0]

    def vjp(self, theta, cache, gZ, *, need_gtheta=True, need_gX=True, out=None):
        """Jᵀ u by backpropagation through time: ``(gtheta, gX)``; ``gtheta`` is written into ``out``."""
        p = self.unpack(theta)
        G = self._step_cotangents(gZ, cache.A.shape)
        GA = np.empty_like(G)
        carry = None
        for t in reversed(range(self.n_steps)):
            gh = G[:, t] if carry is None else G[:, t] + carry
            GA[:, t] = cache.dsigma[:, t] * gh
            carry = GA[:, t] @ p["W_h"].T
        gtheta = self._param_grad(cache.X, cache.H, GA, out) if need_gtheta else None
        gX = self._input_grad(GA, p["W_x"]) if need_gX else None
        return gtheta, gX

    def rop(self, theta, cache, dtheta, dX, gZ, dgZ, *, tcache=None, need_gX=True, out=None):
        """R{vjp}: derivative of ``vjp(gZ)`` along (dtheta, dX) with gZ moving along dgZ."""
        dA, dH = self.tangent(theta, cache, dtheta, dX)[1] if tcache is None else tcache
        p, dp = self.unpack(theta), (None if dtheta is None else self.unpack(dtheta))
        GA, RGA = self._r_backward(p, dp, cache, dA, gZ, dgZ)
        Rg = self._param_grad(cache.X, cache.H, RGA, out)
        W = self.unpack(Rg)
        if dX is not None:
            W["W_x"] += _sum_t(dX.reshape(cache.X.shape), GA)
        W["W_h"] += _sum_t(dH[:, :-1], GA[:, 1:])
        if not need_gX:
            return Rg, None
        RgX = self._input_grad(RGA, p["W_x"])
        if dp is not None:
            RgX += self._input_grad(GA, dp["W_x"])
        return Rg, RgX

    def diag_backward(self, theta, cache, gZ, hZ, *, need_hX=True, out=None):
        """Becker–LeCun's recursion through time (note 004): ``(diagonal curvature of θ, hX)``.

        Backward in t, with gh_t the BPTT cotangent and hh_T = hZ_T:
        hA_t = σ′(A_t)² ⊙ hh_t + σ″(A_t) ⊙ gh_t,  hh_{t−1} = hZ_{t−1} + hA_t (W_h ⊙ W_h)ᵀ
        (hZ_t = 0 for t < T when output="last"); diag W_x = Σ_t (x_t ⊙ x_t)ᵀ hA_t,
        diag W_h = Σ_t (h_{t−1} ⊙ h_{t−1})ᵀ hA_t,  diag b = Σ_t Σ_rows hA_t,
        hx_t = hA_t (W_x ⊙ W_x)ᵀ. Off-diagonal terms (within a step and across
        steps) are dropped; the diagonal is written into ``out`` when given.
        """
        p = self.unpack(theta)
        HA = self._diag_through_time(p["W_h"], cache, gZ, hZ)
        d = self._param_grad(cache.X * cache.X, cache.H * cache.H, HA, out)
        return d, (self._input_grad(HA, p["W_x"] * p["W_x"]) if need_hX else None)

    def _diag_through_time(self, W_h, cache, gZ, hZ):
        """hA_t for every t, (n, T, d_h): BPTT of gZ alongside the diagonal recursion of hZ."""
        S, S2, W_h2 = cache.dsigma, cache.d2sigma, W_h * W_h
        G, Hh = self._step_cotangents(gZ, cache.A.shape), self._step_cotangents(hZ, cache.A.shape)
        HA = np.empty_like(Hh)
        carry = hcarry = None
        for t in reversed(range(self.n_steps)):
            gh, hh = _add(G[:, t], carry), _add(Hh[:, t], hcarry)
            HA[:, t] = S[:, t] * S[:, t] * hh + S2[:, t] * gh
            carry, hcarry = (S[:, t] * gh) @ W_h.T, HA[:, t] @ W_h2.T
        return HA

    def _r_backward(self, p, dp, cache, dA, gZ, dgZ):
        """The BPTT pass and its R-derivative, backward in t: ``(gA, R{gA})``, each (n, T, d_h)."""
        S, S2 = cache.dsigma, cache.d2sigma
        G = self._step_cotangents(gZ, cache.A.shape)
        dG = None if dgZ is None else self._step_cotangents(dgZ, cache.A.shape)
        GA, RGA = np.empty_like(G), np.empty_like(G)
        carry = rcarry = None
        for t in reversed(range(self.n_steps)):
            gh = G[:, t] if carry is None else G[:, t] + carry
            Rgh = _add(None if dG is None else dG[:, t], rcarry)
            GA[:, t] = S[:, t] * gh
            RGA[:, t] = S2[:, t] * dA[:, t] * gh
            if Rgh is not None:
                RGA[:, t] += S[:, t] * Rgh
            carry = GA[:, t] @ p["W_h"].T
            rcarry = RGA[:, t] @ p["W_h"].T
            if dp is not None:
                rcarry += GA[:, t] @ dp["W_h"].T
        return GA, RGA

    def _direct_tangent(self, theta, cache, dtheta, dX):
        """The part of dA_t without the recurrence: dx_t W_x + x_t dW_x + h_{t−1} dW_h + db."""
        dA = None if dX is None else dX.reshape(cache.X.shape) @ self.unpack(theta)["W_x"]
        if dtheta is not None:
            d = self.unpack(dtheta)
            part = cache.X @ d["W_x"]
            part[:, 1:] += cache.H[:, :-1] @ d["W_h"]
            if self.bias:
                part += d["b"]
            dA = part if dA is None else np.add(dA, part, out=dA)
        return np.zeros_like(cache.A) if dA is None else dA

    def _outputs(self, H):
        """Z from per-step states (n, T, d_h): the last step, or all steps flattened (views)."""
        return H[:, -1] if self.output == "last" else H.reshape(H.shape[0], -1)

    def _step_cotangents(self, gZ, shape):
        """The output cotangent per step, (n, T, d_h): zero before step T when output="last"."""
        if self.output == "sequence":
            return gZ.reshape(shape)
        G = np.zeros(shape, dtype=gZ.dtype)
        G[:, -1] = gZ
        return G

    def _param_grad(self, X3, H, GA, out):
        """Write gW_x = Σ_t x_tᵀ gA_t, gW_h = Σ_t h_{t−1}ᵀ gA_t, gb = Σ gA into ``out`` (new when None)."""
        g = np.empty(self.n_params, dtype=GA.dtype) if out is None else out
        W = self.unpack(g)
        W["W_x"][...] = _sum_t(X3, GA)
        W["W_h"][...] = _sum_t(H[:, :-1], GA[:, 1:])
        if self.bias:
            np.sum(GA, axis=(0, 1), out=W["b"])
        return g

    def _input_grad(self, GA, W_x):
        """gx_t = gA_t W_xᵀ for every t, as rows (n_samples, T d_x)."""
        return (GA @ W_x.T).reshape(GA.shape[0], self.d_in)


def _sum_t(U, V):
    """Σ_t U_tᵀ V_t over samples and steps: (n, T', a), (n, T', b) → (a, b)."""
    return U.reshape(-1, U.shape[-1]).T @ V.reshape(-1, V.shape[-1])


def _add(a, b):
    """a + b where None stands for zero (None when both are)."""
    if a is None:
        return b
    return a if b is None else a + b
