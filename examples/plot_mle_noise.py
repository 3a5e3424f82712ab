"""
Maximum-likelihood noise precision β (notes 004)
================================================

Targets t = f(x) + ε with ε ~ N(0, β⁻¹I) fitted by least squares, then
β_ML = NK / Σ‖y − t‖² next to its χ² interval. ``numnet mle-noise`` repeats
the fit over 10 noise draws; here once.
"""

from numnet.experiments.mle_noise import mle_noise_experiment

result = mle_noise_experiment(seed=0, beta=25.0, n_samples=1000, n_replicates=1, max_iter=300)
print(result.table)
