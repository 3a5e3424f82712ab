"""
Universal approximation and the O(1/n) rate (notes 002)
=======================================================

A smooth function on a ball fitted by tanh networks of n hidden units, the
error next to the bound 4r²C(f)²/n. ``numnet universal`` runs n up to 64;
here up to 8, with fewer samples and iterations.
"""

from numnet.experiments.universal import universal_experiment

result = universal_experiment(
    seed=0, units=(1, 2, 4, 8), n_train=(150, 400), n_test=1000, max_iter=200, n_starts=1
)
print(result.table)
