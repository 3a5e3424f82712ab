"""
Auer et al. in d dimensions (notes 001)
=======================================

A sigmoid neuron with the quadratic loss has floor(n/d)^d local minima on
the Auer et al. data; the experiment counts them from a grid of starts and
compares with the formula. ``numnet auer`` runs d = 1, 2, 3; here d = 1, 2.
"""

from numnet.experiments.auer import auer_experiment

result = auer_experiment(dims=(1, 2), per_axis=2, extra=1)
print(result.table)
