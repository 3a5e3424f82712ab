"""JAX peers (``jit``-compiled), used only when JAX imports.

The network is written directly in numnet's layout, F = tanh(X W + b) …,
with the same weights and data. float64 needs ``jax_enable_x64``, which
:func:`available` switches on; float32 inputs stay float32.
"""

import numpy as np

__all__ = ["available", "JaxNet"]


def available():
    """True when JAX imports (its absence is not an error: the peers are skipped)."""
    try:
        import jax
    except Exception:  # any import failure means "no JAX on this machine"
        return False
    jax.config.update("jax_enable_x64", True)
    return True


class JaxNet:
    """Jitted value-and-grad, HVP (jvp of grad) and GN product (jvp + vjp) of one problem."""

    def __init__(self, problem):
        import jax
        import jax.numpy as jnp

        self.jax = jax
        self.params = [
            (jnp.asarray(W), jnp.asarray(b)) for W, b in problem.layer_params(problem.theta)
        ]
        self.tangent = [
            (jnp.asarray(W), jnp.asarray(b)) for W, b in problem.layer_params(problem.v)
        ]
        self.X, self.y = jnp.asarray(problem.X), jnp.asarray(problem.y)
        self._build(jax, jnp)

    def _build(self, jax, jnp):
        def net(p, X):
            for W, b in p[:-1]:
                X = jnp.tanh(X @ W + b)
            return X @ p[-1][0] + p[-1][1]

        def ce(F, y):
            return jnp.mean(
                jax.nn.logsumexp(F, axis=1) - jnp.take_along_axis(F, y[:, None], axis=1)[:, 0]
            )

        def loss(p, X, y):
            return ce(net(p, X), y)

        def gnvp(p, v, X, y):
            F, dF = jax.jvp(lambda q: net(q, X), (p,), (v,))
            HdF = jax.jvp(jax.grad(lambda G: ce(G, y)), (F,), (dF,))[1]
            return jax.vjp(lambda q: net(q, X), p)[1](HdF)[0]

        self._vg = jax.jit(jax.value_and_grad(loss))
        self._hvp = jax.jit(
            lambda p, v, X, y: jax.jvp(lambda q: jax.grad(loss)(q, X, y), (p,), (v,))[1]
        )
        self._gnvp = jax.jit(gnvp)

    def _ready(self, out):
        return self.jax.block_until_ready(out)

    def value_and_grad(self):
        return self._ready(self._vg(self.params, self.X, self.y))[1]

    def hvp(self):
        return self._ready(self._hvp(self.params, self.tangent, self.X, self.y))

    def gnvp(self):
        return self._ready(self._gnvp(self.params, self.tangent, self.X, self.y))

    @staticmethod
    def flat(pairs):
        """numnet's flat layout of ``[(W, b), ...]``."""
        return np.concatenate([np.asarray(a).ravel() for W, b in pairs for a in (W, b)])
