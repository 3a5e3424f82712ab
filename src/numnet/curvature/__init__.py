"""Curvature toolkit: dense, diagonal, outer-product and finite-difference Hessians,
inverse Hessians by rank-one updates, and the Hessian's spectrum (note 004).

Every function takes an :class:`~numnet.objective.Objective` and θ, or a
:class:`~numnet.objective.Linearization` alone (``obj.at(theta)``, so that
many products share one forward pass). Matrices are returned dense and are
meant for small networks (p up to a few thousand); the spectrum tools and
:func:`becker_lecun_diagonal` scale to large ones.
"""

from .dense import default_fd_step, hessian_dense, hessian_fd_grads, hessian_fd_values
from .diagonal import becker_lecun_diagonal, hessian_diagonal
from .outer import (loss_hessian_blocks, outer_product_factor, outer_product_hessian,
                    outer_product_hessian_logistic, per_sample_output_gradients)
from .rank_one import inverse_outer_product, sherman_morrison_update, sr1_update
from .spectrum import TraceEstimate, condition_estimate, extreme_eigenvalues, hutchinson_trace

__all__ = [
    "hessian_dense", "hessian_fd_values", "hessian_fd_grads", "default_fd_step",
    "hessian_diagonal", "becker_lecun_diagonal",
    "per_sample_output_gradients", "loss_hessian_blocks", "outer_product_factor",
    "outer_product_hessian", "outer_product_hessian_logistic",
    "inverse_outer_product", "sherman_morrison_update", "sr1_update",
    "extreme_eigenvalues", "hutchinson_trace", "condition_estimate", "TraceEstimate",
]
