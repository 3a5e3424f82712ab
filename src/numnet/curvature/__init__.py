"""Curvature toolkit: dense, diagonal, outer-product and finite-difference Hessians,
inverse Hessians by rank-one updates, and the Hessian's spectrum (note 004); and
what curvlinops, BackPACK and PyHessian offer, verified against them: Fisher
matrices, per-sample gradients, KFAC/EKFAC, block-diagonal curvature, Jacobian
operators, randomized trace/diagonal estimators and spectral densities (SLQ).

Every function takes an :class:`~numnet.objective.Objective` and θ, or a
:class:`~numnet.objective.Linearization` alone (``obj.at(theta)``, so that
many products share one forward pass). Matrices are returned dense and are
meant for small networks (p up to a few thousand); the spectrum tools and
:func:`becker_lecun_diagonal` scale to large ones.
"""

from .dense import default_fd_step, hessian_dense, hessian_fd_grads, hessian_fd_values
from .diagonal import becker_lecun_diagonal, hessian_diagonal
from .outer import (
    loss_hessian_blocks,
    outer_product_factor,
    outer_product_hessian,
    outer_product_hessian_logistic,
    per_sample_output_gradients,
)
from .rank_one import inverse_outer_product, sherman_morrison_update, sr1_update
from .spectrum import TraceEstimate, condition_estimate, extreme_eigenvalues, hutchinson_trace
from .per_sample import (
    GradientMoments,
    gradient_moments,
    iter_per_sample_gradients,
    per_sample_gradients,
    per_sample_vjp,
)
from .factors import (
    KINDS,
    OutputFactors,
    curvature_factors,
    empirical_factors,
    fisher_factors,
    hessian_factors,
    mc_factors,
    sample_targets,
)
from .ggn import factor_diagonal, factor_matrix, factor_operator, ggn_diagonal
from .fisher import empirical_fisher, fisher, mc_fisher
from .kronecker import EigenBlock, KroneckerBlock, KroneckerEigenOperator, KroneckerOperator
from .kfac import check_kfac_network, ekfac, kfac
from .blocks import (
    BlockDiagonal,
    block_operators,
    gauss_newton_blocks,
    hessian_blocks,
    parameter_groups,
)
from .jacobian import input_hessian, jacobian_operator, transposed_jacobian_operator
from .randomized import DiagonalEstimate, diagonal_hutchinson, hutchinson, hutchpp, xdiag, xtrace
from .slq import SpectralDensity, lanczos, plot_spectral_densities, slq

__all__ = [
    "hessian_dense",
    "hessian_fd_values",
    "hessian_fd_grads",
    "default_fd_step",
    "hessian_diagonal",
    "becker_lecun_diagonal",
    "per_sample_output_gradients",
    "loss_hessian_blocks",
    "outer_product_factor",
    "outer_product_hessian",
    "outer_product_hessian_logistic",
    "inverse_outer_product",
    "sherman_morrison_update",
    "sr1_update",
    "extreme_eigenvalues",
    "hutchinson_trace",
    "condition_estimate",
    "TraceEstimate",
    "per_sample_gradients",
    "iter_per_sample_gradients",
    "per_sample_vjp",
    "gradient_moments",
    "GradientMoments",
    "OutputFactors",
    "KINDS",
    "hessian_factors",
    "empirical_factors",
    "mc_factors",
    "fisher_factors",
    "sample_targets",
    "curvature_factors",
    "factor_operator",
    "factor_matrix",
    "factor_diagonal",
    "ggn_diagonal",
    "empirical_fisher",
    "mc_fisher",
    "fisher",
    "KroneckerBlock",
    "EigenBlock",
    "KroneckerOperator",
    "KroneckerEigenOperator",
    "kfac",
    "ekfac",
    "check_kfac_network",
    "parameter_groups",
    "hessian_blocks",
    "gauss_newton_blocks",
    "block_operators",
    "BlockDiagonal",
    "jacobian_operator",
    "transposed_jacobian_operator",
    "input_hessian",
    "hutchinson",
    "hutchpp",
    "xtrace",
    "diagonal_hutchinson",
    "xdiag",
    "DiagonalEstimate",
    "slq",
    "lanczos",
    "SpectralDensity",
    "plot_spectral_densities",
]
