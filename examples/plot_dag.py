"""
DAG architectures: chain, residual, inception (notes 002)
=========================================================

Backpropagation runs on any DAG: three ``Graph`` networks of about the same
size on spirals — a chain, a residual network and an inception-style network
— trained by L-BFGS on an equal budget of passes. ``numnet dag`` uses 1000
points, 150 passes and 3 seeds; here 300 points, 60 passes and 1 seed.
"""

from numnet.experiments.dag import dag_experiment

result = dag_experiment(n_samples=300, width=8, n_modules=3, passes=60, n_seeds=1, seed=0)
print(result.table)
