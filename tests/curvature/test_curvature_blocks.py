"""Block-diagonal curvature, Jacobian operators and the Hessian w.r.t. the inputs.

Blocks must be the diagonal blocks of the dense Hessian and Gauss–Newton
matrices (regularizer included) on chains, graphs, convolutions and
recurrent layers; the Jacobian operator must reproduce the per-sample
Jacobians; the input Hessian must match central differences of the input
gradient (O(h²)) and be block diagonal over samples.
"""

import numpy as np
import pytest
from registry import Shape, make_objective, rel_err

from numnet.curvature import (
    BlockDiagonal,
    block_operators,
    gauss_newton_blocks,
    hessian_blocks,
    hessian_dense,
    input_hessian,
    jacobian_operator,
    outer_product_hessian,
    parameter_groups,
    per_sample_output_gradients,
    transposed_jacobian_operator,
)
from numnet.curvature._common import matrix_of
from numnet.objective import Objective

SHAPE = Shape(5, 3, 4, 3, 4)
NETS = ["mlp3", "graph_shared", "graph_nested", "conv_pool_avg", "rnn_sequence"]


def _case(layer, reg="none", dtype=np.float64):
    return make_objective("cross_entropy", reg, "tanh", SHAPE, dtype, layer=layer)


@pytest.mark.parametrize("reg", ["none", "generalized_tikhonov"])
@pytest.mark.parametrize("layer", NETS)
def test_blocks_are_the_diagonal_blocks_of_the_dense_matrices(layer, reg):
    _, obj, theta = _case(layer, reg)
    lin = obj.at(theta)
    H, G, groups = hessian_dense(lin), outer_product_hessian(lin), parameter_groups(obj.net)
    assert sorted(s.start for s in groups.values()) == sorted({s.start for s in groups.values()})
    hb, gb = hessian_blocks(lin), gauss_newton_blocks(lin, chunk_size=2)
    for operator, dense, blocks in (("hessian", H, hb), ("gauss_newton", G, gb)):
        ops = block_operators(lin, operator=operator)
        for name, s in groups.items():
            assert rel_err(blocks[name], dense[s, s]) < 1e-12
            assert (
                rel_err(matrix_of(ops[name].matvec, s.stop - s.start, obj.dtype), dense[s, s])
                < 1e-12
            )


def test_custom_groups_and_the_block_diagonal_operator():
    rng, obj, theta = _case("mlp3", "tikhonov")
    p = obj.n_params
    groups = {
        "weights": np.flatnonzero(~obj.net.bias_mask()),
        "biases": np.flatnonzero(obj.net.bias_mask()),
    }
    G = outer_product_hessian(obj, theta)
    blocks = gauss_newton_blocks(obj, theta, groups=groups)
    BD = BlockDiagonal(blocks, groups, p)
    mask = np.zeros((p, p), dtype=bool)
    for idx in groups.values():
        mask[np.ix_(idx, idx)] = True
    assert rel_err(BD.to_dense(), np.where(mask, G, 0)) < 1e-12
    v = rng.standard_normal(p)
    assert rel_err(BD.inverse(0.1) @ (BD @ v + 0.1 * v), v) < 1e-12
    ops = BlockDiagonal(
        block_operators(obj, theta, operator="gauss_newton", groups=groups), groups, p
    )
    assert rel_err(ops.as_operator() @ v, BD @ v) < 1e-12


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("layer", NETS)
def test_jacobian_operator_is_the_stack_of_per_sample_jacobians(layer, dtype):
    rng, obj, theta = _case(layer, dtype=dtype)
    J = jacobian_operator(obj, theta)
    dense = per_sample_output_gradients(obj.net, theta, obj.X).reshape(-1, obj.n_params)
    V = rng.standard_normal((obj.n_params, 2)).astype(dtype)
    U = rng.standard_normal((J.shape[0], 2)).astype(dtype)
    tol = 1e-13 if dtype == np.float64 else 1e-5
    assert (
        J.dtype == dtype and rel_err(J @ V, dense @ V) < tol and rel_err(J.T @ U, dense.T @ U) < tol
    )
    JT = transposed_jacobian_operator(obj.net, theta, obj.X)  # the network form
    assert JT.shape == (obj.n_params, J.shape[0]) and rel_err(JT @ U, dense.T @ U) < tol


def _input_gradient(obj, theta, X):
    o = Objective(obj.net, obj.loss, X, obj.Y)
    lin = o.at(theta)
    return o.net.vjp(theta, lin.cache, lin.gF)[1]


@pytest.mark.parametrize("layer", NETS)
def test_input_hessian_matches_central_differences_and_is_block_diagonal(layer):
    rng, obj, theta = _case(layer)
    n, d = obj.X.shape
    Hx, blocks = input_hessian(obj, theta), input_hessian(obj, theta, dense=True)
    dX = rng.standard_normal((n, d))
    errors = []
    for h in (2e-4, 1e-4):
        fd = (
            _input_gradient(obj, theta, obj.X + h * dX)
            - _input_gradient(obj, theta, obj.X - h * dX)
        ) / (2 * h)
        errors.append(rel_err(fd.ravel(), Hx @ dX.ravel()))
    assert errors[1] < 1e-5 and errors[1] < 0.35 * errors[0]  # O(h²): halving h quarters the error
    assert rel_err(np.einsum("nij,nj->ni", blocks, dX), (Hx @ dX.ravel()).reshape(n, d)) < 1e-12
    assert rel_err(blocks, blocks.transpose(0, 2, 1)) < 1e-12


def test_bad_input_names_the_argument():
    _, obj, theta = _case("mlp3")
    with pytest.raises(ValueError, match="operator"):
        block_operators(obj, theta, operator="fisher")
    with pytest.raises(ValueError, match=r"groups\['w'\]"):
        hessian_blocks(obj, theta, groups={"w": np.array([obj.n_params])})
    with pytest.raises(TypeError, match="groups"):
        gauss_newton_blocks(obj, theta, groups=[slice(0, 3)])
    blocks = gauss_newton_blocks(obj, theta)
    with pytest.raises(ValueError, match="groups"):
        BlockDiagonal(blocks, {"0": slice(0, 3)}, obj.n_params)
    with pytest.raises(ValueError, match="damping"):
        BlockDiagonal(blocks, parameter_groups(obj.net), obj.n_params).inverse(0)
    with pytest.raises(ValueError, match="X must be None"):
        jacobian_operator(obj, theta, obj.X)
    with pytest.raises(ValueError, match="theta and X"):
        jacobian_operator(obj.net, theta)
    with pytest.raises(TypeError, match="dense"):
        input_hessian(obj, theta, dense=1)
