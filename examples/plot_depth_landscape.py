"""
Non-convexity against depth (notes 000)
=======================================

The loss along two random directions and its non-convex fraction for
networks of several depths at equal parameter count. ``numnet
depth-landscape`` runs depths 1, 2, 4, 8 with 3 seeds; here 1 and 4 with one
seed on a coarse grid.
"""

from numnet.experiments.depth_landscape import depth_landscape_experiment

result = depth_landscape_experiment(
    depths=(1, 4), n_params=300, n_samples=150, n_seeds=1, train_iter=20, n_grid=9
)
print(result.table)
