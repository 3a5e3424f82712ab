"""
Planted perceptron: recovery error against n (notes 001)
========================================================

Fit a perceptron to samples of a planted model and measure the parameter
error against the number of samples: it falls like sqrt(d log n / n), a
slope of −1/2 on log-log axes. ``numnet planted-recovery`` runs d = 5, 10,
20 and n up to 6400 with 20 seeds; here d = 4, n up to 3200 and 5 seeds.
"""

from numnet.experiments.planted_recovery import planted_recovery_experiment

result = planted_recovery_experiment(
    dims=(4,), sizes=(200, 800, 3200), n_seeds=5, n_population=20_000
)
print(result.table)
