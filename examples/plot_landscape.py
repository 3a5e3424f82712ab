"""
Non-convexity: the loss along two random directions (notes 000)
===============================================================

The cross-entropy of a single layer on peaks along two random directions,
J(θ + α dK + β dW), as contours and a surface, with the fraction of grid
points where the surface's 2 × 2 Hessian has a negative eigenvalue.
``numnet landscape`` uses a 31 × 31 grid and 32 hidden units; here 15 × 15
and 6.
"""

from numnet.experiments.landscape import landscape_experiment

result = landscape_experiment(
    n_samples=150, n_hidden=6, train_iter=20, radius=2.0, n_grid=15, seed=0
)
print(result.table)
