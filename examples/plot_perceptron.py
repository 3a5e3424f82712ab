"""
Perceptron: the delta rule and the Auer et al. landscape (notes 001)
====================================================================

Delta-rule SGD recovers a planted perceptron; the Auer et al. construction
gives one strict local minimum per sample of a single sigmoid neuron with
the quadratic loss. ``numnet perceptron`` uses 6 such samples; here 4.
"""

from numnet.experiments.perceptron import perceptron_experiment

result = perceptron_experiment(seed=1, n_minima=4, n_samples=200, n_features=5, epochs=12)
print(result.table)
