"""
Training a single layer (notes 000)
===================================

The same single hidden layer on peaks trained from the same start by several
methods on an equal budget of passes over the data (a value or gradient is
half a pass, a Hessian- or Gauss-Newton-vector product one pass, an SGD epoch
one pass). ``numnet single-layer`` runs six methods, 1000 samples and 1000
passes; here four methods, 200 samples and 100 passes.
"""

from numnet.experiments.single_layer_peaks import single_layer_peaks_experiment

result = single_layer_peaks_experiment(
    methods=("sgd", "newton-cg", "gauss-newton", "lbfgs"),
    n_samples=200,
    n_hidden=8,
    passes=100,
    seed=0,
)
print(result.table)
