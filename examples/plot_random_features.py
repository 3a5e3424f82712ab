"""
Random features (extreme learning machines, notes 000)
======================================================

K and b are drawn at random and only W is fitted, by least squares on the
one-hot classes of peaks: the validation error for sin, tanh and relu, the
error against the width m, and the singular values of the features (the
identity activation gives rank n_features + 1). ``numnet random-features``
runs 1000 samples and m = 200; here 300 samples and m = 60.
"""

from numnet.experiments.random_features_peaks import random_features_peaks_experiment

result = random_features_peaks_experiment(
    n_samples=300, n_hidden=60, widths=(5, 20, 60, 240), seed=0
)
print(result.table)
