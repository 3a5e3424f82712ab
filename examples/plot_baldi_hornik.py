"""
Baldi–Hornik with Y ≠ X: every critical point (notes 001)
=========================================================

For the linear two-layer network fitted to targets Y ≠ X, every critical
point is built from an index set J of eigenvectors of Σ = Σ_yx Σ_xx⁻¹ Σ_xy;
all are saddles except J = {1..p}, and random starts reach the global
minimum. ``numnet baldi-hornik`` uses 8 inputs, 6 outputs and 3 components;
here 5, 4 and 2.
"""

from numnet.experiments.baldi_hornik import baldi_hornik_experiment

result = baldi_hornik_experiment(n_inputs=5, n_outputs=4, n_components=2, n_samples=200, n_starts=4)
print(result.table)
