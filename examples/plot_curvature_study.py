"""
Curvature study: Hessian, Gauss-Newton, Fisher and KFAC (notes 004)
===================================================================

Spectral densities (stochastic Lanczos quadrature) of the Hessian, the
Gauss-Newton matrix, the empirical Fisher and KFAC at a trained network, and
how far KFAC, EKFAC, the diagonal and layer blocks are from Gauss-Newton.
``numnet curvature-study`` trains a 2-12-12-3 network; here 2-4-3.
"""

from numnet.experiments.curvature_study import curvature_study_experiment

result = curvature_study_experiment(
    seed=1, n_samples=60, hidden=(4,), train_iter=30, n_probes=2, n_steps=8
)
print(result.table)
