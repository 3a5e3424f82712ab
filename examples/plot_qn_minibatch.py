"""
Quasi-Newton on mini-batches (notes 004)
========================================

L-BFGS and BFGS with curvature pairs from mini-batches: pairs formed across
two different batches break the secant information, pairs on the overlap of
consecutive batches keep it. ``numnet qn-minibatch`` runs batch sizes 32,
128, 512 for 60 epochs; here 256 for 3 epochs.
"""

from numnet.experiments.qn_minibatch import qn_minibatch_experiment

result = qn_minibatch_experiment(batch_sizes=(256,), epochs=3)
print(result.table)
