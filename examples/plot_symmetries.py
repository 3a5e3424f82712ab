"""
Weight-space symmetries (notes 004)
===================================

The 2^M·M! sign-flip and permutation transforms of a tanh hidden layer keep
the outputs and transform the gradient with θ; with ReLU, sign flips change
the outputs. ``numnet symmetries`` uses M = 6 (46080 transforms, 1000
sampled); here M = 4 (all 384).
"""

from numnet.experiments.symmetries import symmetries_experiment

result = symmetries_experiment(seed=0, n_hidden=4, n_transforms=384)
print(result.table)
