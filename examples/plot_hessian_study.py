"""
Hessian study (notes 004)
=========================

The exact Hessian (columns by the R-operator) against finite differences,
Gauss-Newton, the exact diagonal and Becker–LeCun, at a random and a trained
θ, and the cost of each method as the number of weights W grows.
``numnet hessian-study`` uses a 2-6-6-1 network and wider cost sweeps; here
a 2-4-4-1 network and three widths per method.
"""

from numnet.experiments.hessian_study import hessian_study_experiment

small_cost = {
    "hvp": (1, (32, 64, 128), 200),
    "becker-lecun": (1, (32, 64, 128), 200),
    "exact (W hvps)": (2, (2, 4, 8), 200),
    "fd-grads": (2, (2, 4, 8), 200),
    "fd-values": (3, (1, 2, 3), 200),
}
result = hessian_study_experiment(
    seed=0, hidden=(4, 4), n_samples=80, train_iter=100, cost_methods=small_cost, repeats=1
)
print(result.table)
