"""
The inverse crime (notes 000)
=============================

Fit the planted softmax model of notes 000 by Gauss-Newton, then align the
recovered parameters with the true ones up to the weight-space symmetries
(a permutation of the hidden units, sign flips, the softmax shift). On this
small identifiable instance the data are fitted to rounding and the aligned
parameter error is tiny; at the notes' size (``numnet inverse-crime``:
n = 500, n_f = 50, n_c = 10, m = 40) fitting the data does not recover the
weights.
"""

from numnet.experiments.inverse_crime import inverse_crime_experiment

result = inverse_crime_experiment(
    n_samples=300, n_features=4, n_classes=5, n_hidden=3, max_iter=60, seed=0
)
print(result.table)
