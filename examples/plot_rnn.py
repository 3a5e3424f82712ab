"""
Recurrent networks: the adding problem (notes 002)
==================================================

An Elman network (one set of weights shared by all T steps) against a
feed-forward network of about the same size on the flattened sequence,
trained by Adam and Gauss-Newton. ``numnet rnn`` uses T = 10, 500 passes and
3 seeds; here T = 6, 80 passes and 1 seed.
"""

from numnet.experiments.rnn import rnn_experiment

result = rnn_experiment(
    n_steps=6,
    n_hidden=4,
    n_train=200,
    n_test=300,
    passes=80,
    n_seeds=1,
    seed=0,
    methods=("adam", "gauss-newton"),
)
print(result.table)
