"""
A linear two-layer network is PCA (Baldi–Hornik, notes 001)
===========================================================

The linear autoencoder X ↦ X W₁ W₂ trained by Newton-CG from random starts
reaches the principal subspace every time; the critical point built from a
non-leading eigenvector is a saddle. ``numnet linear-pca`` uses 8 features,
3 components and 8 starts; here 5, 2 and 4.
"""

from numnet.experiments.linear_pca import linear_pca_experiment

result = linear_pca_experiment(seed=0, n_features=5, n_components=2, n_samples=200, n_starts=4)
print(result.table)
