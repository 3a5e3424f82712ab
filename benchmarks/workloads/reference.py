"""A hand-written, preallocated NumPy value-and-gradient of the benchmark network: the floor for numnet's.

The network is workload 1's tanh MLP with a linear output layer and softmax
cross-entropy over integer labels y (notes 003), samples as rows:

    A_l = Z_{l−1} W_l + b_l,  Z_l = tanh(A_l) (l < L),  F = A_L,  Z_0 = X,
    E = (1/n) Σ_i [logsumexp(F_i) − F_{i,y_i}],

and its gradient by backpropagation:

    G_L = (softmax(F) − onehot(y)) / n,
    ∇W_l = Z_{l−1}ᵀ G_l,  ∇b_l = Σ_rows G_l,  G_{l−1} = (G_l W_lᵀ) ⊙ (1 − Z_{l−1}²).

Every array of the size of a layer's activations is allocated once, in
``__init__``; each call writes into them with ``np.matmul(..., out=)`` and
in-place element-wise ufuncs, and writes the gradient into one flat buffer
laid out as numnet's θ (each layer's W as (d_in, d_out), row-major, then b).
Only per-sample vectors of length n (row maxima, sums, the picked logits)
are allocated per call. The same matrix products as numnet's gradient, in
the same layouts, so the difference between the two is allocation and
element-wise overhead.
"""

import numpy as np

__all__ = ["ReferenceMLP"]


class ReferenceMLP:
    """Preallocated value and gradient of a tanh MLP with softmax cross-entropy.

    Parameters
    ----------
    widths : sequence of int
        Layer widths (n_features, hidden..., n_classes).
    X : ndarray of shape (n_samples, widths[0])
    y : ndarray of int, shape (n_samples,)
        Class labels in 0 … widths[-1] − 1.
    dtype : float32 or float64
    """

    def __init__(self, widths, X, y, dtype):
        self.dtype, n = np.dtype(dtype), X.shape[0]
        self.X = np.ascontiguousarray(X, dtype=self.dtype)
        self.y, self.rows, self.n = np.asarray(y, dtype=np.intp), np.arange(n), n
        self.shapes = list(zip(widths, widths[1:]))
        self.Z = [
            np.empty((n, b), self.dtype) for _, b in self.shapes
        ]  # A_l, overwritten by tanh(A_l)
        self.G = [np.empty((n, b), self.dtype) for _, b in self.shapes]  # cotangents G_l
        self.D = [np.empty((n, b), self.dtype) for _, b in self.shapes[:-1]]  # 1 − Z_l²
        self.m, self.s = np.empty((n, 1), self.dtype), np.empty((n, 1), self.dtype)
        self.offsets = np.cumsum([0] + [a * b + b for a, b in self.shapes])
        self.grad = np.empty(self.offsets[-1], self.dtype)
        self.gW, self.gb = self._views(self.grad)

    def _views(self, flat):
        """Per-layer (W, b) views of a flat vector in numnet's layout."""
        Ws, bs = [], []
        for (a, b), start in zip(self.shapes, self.offsets):
            Ws.append(flat[start : start + a * b].reshape(a, b))
            bs.append(flat[start + a * b : start + a * b + b])
        return Ws, bs

    def value_and_grad(self, theta):
        """``(E, ∇E)``; the gradient is an internal buffer, overwritten by the next call."""
        Ws, bs = self._views(theta)
        self._forward(Ws, bs)
        value = self._loss_and_output_cotangent()
        self._backward(Ws)
        return value, self.grad

    def _forward(self, Ws, bs):
        Z = self.X
        for i, (W, b) in enumerate(zip(Ws, bs)):
            np.matmul(Z, W, out=self.Z[i])
            self.Z[i] += b
            if i < len(Ws) - 1:
                np.tanh(self.Z[i], out=self.Z[i])
            Z = self.Z[i]

    def _loss_and_output_cotangent(self):
        """E from the logits F, and G_L = (softmax(F) − onehot(y))/n written into ``self.G[-1]``."""
        F, E, m, s = self.Z[-1], self.G[-1], self.m, self.s
        np.max(F, axis=1, keepdims=True, out=m)
        np.subtract(F, m, out=E)
        picked = E[self.rows, self.y].sum()  # Σ_i (F_{i,y_i} − m_i)
        np.exp(E, out=E)
        np.sum(E, axis=1, keepdims=True, out=s)
        E /= s
        E[self.rows, self.y] -= 1.0
        E *= 1.0 / self.n
        np.log(s, out=s)
        return float(s.sum() - picked) / self.n

    def _backward(self, Ws):
        for i in range(len(Ws) - 1, -1, -1):
            G, Zin = self.G[i], (self.Z[i - 1] if i > 0 else self.X)
            np.matmul(Zin.T, G, out=self.gW[i])
            np.sum(G, axis=0, out=self.gb[i])
            if i > 0:
                np.matmul(G, Ws[i].T, out=self.G[i - 1])
                np.multiply(Zin, Zin, out=self.D[i - 1])
                np.subtract(1.0, self.D[i - 1], out=self.D[i - 1])
                self.G[i - 1] *= self.D[i - 1]
