"""numnet.objective: J(θ) = E(F(θ, X), Y) + λR(θ) over LOSSES × REGULARIZERS.

Each property draws the shapes, a seed and the network's activation: grad
is the derivative of value, hvp the derivative of grad, the Hessian is
symmetric, Gauss-Newton is symmetric PSD (every loss here is convex in F)
and equals the Hessian where it must; float32 is kept; the LinearOperators
work with scipy; ``at`` runs one forward pass; ``batch`` gives views; and
bad input raises errors naming the argument.
"""

import numpy as np
import pytest
import scipy.sparse.linalg as spla
from hypothesis import given
from hypothesis import strategies as st
from registry import (
    DTYPES,
    LOSSES,
    PROPERTY,
    REGULARIZERS,
    Shape,
    make_objective,
    rel_err,
    shapes,
    smooth,
)

from numnet.activations import ACTIVATIONS
from numnet.checks import adjoint_check, derivative_check
from numnet.layers import Dense
from numnet.network import Sequential
from numnet.objective import Linearization, Objective
from numnet.regularizers import Tikhonov

# Scalar Taylor tables start where the linear term dominates, so f(x+hv) - f(x) does not
# pass through 0 in the judged tail (the false negative pinned in test_checks.py).
H0 = 1e-3
acts = st.sampled_from(sorted(ACTIVATIONS))


def is_smooth(obj):
    return smooth(obj.net, obj.loss, obj.regularizer)


def _n_steps(obj):
    return 14 if is_smooth(obj) else 24


@pytest.mark.parametrize("reg_name", REGULARIZERS)
@pytest.mark.parametrize("loss_name", LOSSES)
@PROPERTY
@given(s=shapes(), act=acts)
def test_grad_is_derivative_of_value(loss_name, reg_name, s, act):
    _, obj, theta = make_objective(loss_name, reg_name, act, s)
    g = obj.grad(theta)
    res = derivative_check(
        obj.value, theta, lambda v: g @ v, smooth=is_smooth(obj), h0=H0, seed=s.seed
    )
    assert res.passed, str(res)


@pytest.mark.parametrize("reg_name", REGULARIZERS)
@pytest.mark.parametrize("loss_name", LOSSES)
@PROPERTY
@given(s=shapes(), act=acts)
def test_hvp_is_derivative_of_grad(loss_name, reg_name, s, act):
    _, obj, theta = make_objective(loss_name, reg_name, act, s)
    lin = obj.at(theta)
    res = derivative_check(
        obj.grad, theta, lin.hvp, smooth=is_smooth(obj), n_steps=_n_steps(obj), seed=s.seed
    )
    assert res.passed, str(res)


@pytest.mark.parametrize("reg_name", REGULARIZERS)
@pytest.mark.parametrize("loss_name", LOSSES)
@PROPERTY
@given(s=shapes(), act=acts)
def test_hessian_symmetric_and_gauss_newton_symmetric_psd(loss_name, reg_name, s, act):
    rng, obj, theta = make_objective(loss_name, reg_name, act, s)
    lin, n = obj.at(theta), obj.n_params
    for product in (lin.hvp, lin.gnvp):
        res = adjoint_check(product, product, (n,), (n,), tol=1e-10, seed=s.seed)
        assert res.passed, str(res)
    V = rng.standard_normal((5, n))
    scale = max(np.abs(lin.gnvp(v) @ v) for v in V) + 1e-300
    assert min(lin.gnvp(v) @ v for v in V) >= -1e-12 * scale


@pytest.mark.parametrize("loss_name", LOSSES)
@PROPERTY
@given(s=shapes(), act=acts)
def test_float32_keeps_dtype_and_agrees_with_float64(loss_name, s, act):
    rng, obj, theta = make_objective(loss_name, "tikhonov", act, s)
    _, obj32, theta32 = make_objective(loss_name, "tikhonov", act, s, np.float32)
    np.testing.assert_array_equal(theta32, theta.astype(np.float32))
    v = rng.standard_normal(obj.n_params)
    lin, lin32 = obj.at(theta), obj32.at(theta32)
    assert obj32.dtype == np.float32 and lin32.value == pytest.approx(lin.value, rel=1e-4)
    for single, double in [
        (lin32.grad, lin.grad),
        (lin32.hvp(v), lin.hvp(v)),
        (lin32.gnvp(v), lin.gnvp(v)),
    ]:
        assert single.dtype == np.float32
        assert rel_err(single, double) < 1e-4


@pytest.mark.parametrize("loss_name", ["squared_error", "huber"])
@PROPERTY
@given(s=shapes())
def test_gnvp_equals_hvp_when_the_model_is_linear_in_theta(loss_name, s):
    rng, obj, theta = make_objective(
        loss_name, "generalized_tikhonov", "identity", s, layer="dense"
    )
    lin, v = obj.at(theta), rng.standard_normal(obj.n_params)
    np.testing.assert_allclose(lin.gnvp(v), lin.hvp(v), rtol=1e-12, atol=1e-14)


@PROPERTY
@given(s=shapes(), act=st.sampled_from([n for n, a in ACTIVATIONS.items() if a.smooth]))
def test_gnvp_equals_hvp_at_zero_residual_and_differs_otherwise(s, act):
    rng, obj, theta = make_objective("squared_error", "none", act, s)
    planted = Objective(obj.net, "squared_error", obj.X, obj.predict(theta))
    lin, v = planted.at(theta), rng.standard_normal(obj.n_params)
    np.testing.assert_allclose(lin.gnvp(v), lin.hvp(v), rtol=1e-10, atol=1e-12)


def test_linear_two_layer_network_hessian_is_not_gauss_newton():
    rng = np.random.default_rng(0)
    net = Sequential([Dense(3, 4), Dense(4, 2)])
    obj = Objective(net, "squared_error", rng.standard_normal((6, 3)), rng.standard_normal((6, 2)))
    lin, v = obj.at(net.init(rng)), rng.standard_normal(net.n_params)
    assert rel_err(lin.gnvp(v), lin.hvp(v)) > 1e-3


@pytest.mark.parametrize("loss_name", LOSSES)
def test_linear_operators_work_with_cg_and_eigsh(loss_name):
    _, obj, theta = make_objective(loss_name, "tikhonov", "tanh", Shape(7, 3, 4, 2, 11))
    lin, n = obj.at(theta), obj.n_params
    for op in (lin.H, lin.G, obj.hessian(theta), obj.gauss_newton(theta)):
        assert op.shape == (n, n) and op.dtype == np.float64
    H = lin.H @ np.eye(n)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-12 * np.abs(H).max())
    top = spla.eigsh(lin.H, k=1, which="LA", tol=1e-12)[0][0]
    assert top == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-8)
    b = np.ones(n)
    x, info = spla.cg(lin.G, b, rtol=1e-12, maxiter=10 * n)
    assert info == 0 and np.linalg.norm(lin.gnvp(x) - b) <= 1e-8 * np.linalg.norm(b)


def test_linear_operators_are_their_own_transposes():
    """H and G are symmetric: rmatvec, H.T and H.H apply the same products as matvec."""
    rng, obj, theta = make_objective("cross_entropy", "tikhonov", "tanh", Shape(5, 3, 4, 3, 2))
    lin, v = obj.at(theta), rng.standard_normal(obj.n_params)
    for op, product in ((lin.H, lin.hvp), (lin.G, lin.gnvp)):
        want = product(v)
        for got in (op.rmatvec(v), op.T @ v, op.H @ v, op.rmatmat(v[:, None])[:, 0]):
            np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13 * np.abs(want).max())


def test_linear_operator_keeps_float32():
    _, obj, theta = make_objective(
        "cross_entropy", "tikhonov", "tanh", Shape(5, 3, 4, 3, 2), np.float32
    )
    H = obj.at(theta).H
    assert H.dtype == np.float32 and (H @ np.ones(obj.n_params, np.float32)).dtype == np.float32


def test_at_runs_one_forward_pass_for_many_products(monkeypatch):
    rng, obj, theta = make_objective("binomial", "tikhonov", "tanh", Shape(6, 3, 4, 1, 5))
    calls = []
    forward = obj.net.forward
    monkeypatch.setattr(obj.net, "forward", lambda *a: calls.append(1) or forward(*a))
    lin = obj.at(theta)
    for _ in range(4):
        v = rng.standard_normal(obj.n_params)
        lin.hvp(v), lin.gnvp(v), lin.H @ v, lin.G @ v, lin.grad, lin.value
    assert len(calls) == 1
    obj.hvp(theta, v)
    assert len(calls) == 2


def test_simple_calls_agree_with_the_linearization():
    rng, obj, theta = make_objective(
        "cross_entropy", "generalized_tikhonov", "sin", Shape(5, 3, 4, 3, 8)
    )
    lin, v = obj.at(theta), rng.standard_normal(obj.n_params)
    assert isinstance(lin, Linearization) and lin.value == pytest.approx(
        obj.value(theta), rel=1e-14
    )
    value, grad = obj.value_and_grad(theta)
    assert (
        value == lin.value
        and np.array_equal(grad, lin.grad)
        and np.array_equal(obj.grad(theta), grad)
    )
    np.testing.assert_array_equal(obj.hvp(theta, v), lin.hvp(v))
    np.testing.assert_array_equal(obj.gnvp(theta, v), lin.gnvp(v))
    np.testing.assert_array_equal(lin.F, obj.predict(theta))
    np.testing.assert_allclose(lin.gF, obj.loss.grad(lin.F, obj.Y), rtol=1e-15)


def test_objective_is_pure():
    rng, obj, theta = make_objective("huber", "l1", "tanh", Shape(5, 3, 4, 2, 9))
    v = rng.standard_normal(obj.n_params)
    before = [a.copy() for a in (theta, v, obj.X, obj.Y)]
    lin = obj.at(theta)
    lin.grad, lin.hvp(v), lin.gnvp(v), obj.value(theta)
    grad_again = obj.grad(theta)
    for a, b in zip(before, (theta, v, obj.X, obj.Y)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(grad_again, lin.grad)


@pytest.mark.parametrize("loss_name", LOSSES)
def test_batch_slice_is_a_view_with_the_subset_value(loss_name):
    _, obj, theta = make_objective(loss_name, "tikhonov", "tanh", Shape(7, 3, 4, 2, 4))
    sub = obj.batch(slice(2, 6))
    assert np.shares_memory(sub.X, obj.X) and np.shares_memory(sub.Y, obj.Y)
    assert sub.n_samples == 4 and obj.n_samples == 7
    ref = Objective(obj.net, obj.loss, obj.X[2:6], obj.Y[2:6], obj.regularizer)
    assert sub.value(theta) == pytest.approx(ref.value(theta), rel=1e-14)
    np.testing.assert_allclose(sub.grad(theta), ref.grad(theta), rtol=1e-13)
    rows = np.array([6, 0, 3])
    picked = obj.batch(rows)
    assert picked.value(theta) == pytest.approx(
        Objective(obj.net, obj.loss, obj.X[rows], obj.Y[rows], obj.regularizer).value(theta),
        rel=1e-14,
    )


def test_batch_of_no_rows_raises():
    _, obj, _ = make_objective("squared_error", "none", "tanh", Shape(4, 2, 2, 1, 0))
    with pytest.raises(ValueError, match="rows selects no samples"):
        obj.batch(slice(3, 3))


# ------------------------------------------------------------------ errors


def _small():
    net = Sequential([Dense(3, 4, "tanh"), Dense(4, 2)])
    rng = np.random.default_rng(0)
    return net, rng.standard_normal((5, 3)), rng.standard_normal((5, 2)), net.init(0)


@pytest.mark.parametrize(
    "X, Y, exc, match",
    [
        (np.zeros((5, 4)), None, ValueError, r"X must have shape \(n_samples, 3\)"),
        (np.zeros(5), None, ValueError, "X must be a 2-D array"),
        (np.zeros((0, 3)), np.zeros((0, 2)), ValueError, "X must contain at least one sample"),
        (np.full((5, 3), np.nan), None, ValueError, "X contains NaN or inf"),
        (None, np.zeros((4, 2)), ValueError, "Y must have 5 rows like X"),
        (None, np.zeros((5, 3)), ValueError, r"Y must have shape \(n_samples, 2\)"),
        (None, np.full((5, 2), np.inf), ValueError, "Y contains NaN or inf"),
        (
            np.zeros((5, 3), dtype=np.complex128),
            None,
            TypeError,
            "X must be a float32 or float64 array",
        ),
    ],
)
def test_constructor_errors_name_the_argument(X, Y, exc, match):
    net, X0, Y0, _ = _small()
    with pytest.raises(exc, match=match):
        Objective(net, "squared_error", X0 if X is None else X, Y0 if Y is None else Y)


def test_unknown_loss_and_bad_regularizer_name_the_argument():
    net, X, Y, _ = _small()
    with pytest.raises(ValueError, match="loss must be one of"):
        Objective(net, "mse", X, Y)
    with pytest.raises(ValueError, match="mask must have shape"):
        Objective(net, "squared_error", X, Y, Tikhonov(0.1, mask=np.ones(3, bool)))
    with pytest.raises(TypeError, match="regularizer"):
        Objective(net, "squared_error", X, Y, "ridge")


@pytest.mark.parametrize(
    "theta, exc, match",
    [
        (np.zeros(10), ValueError, r"theta must be a 1-D array of shape \(26,\)"),
        (np.zeros((26, 1)), ValueError, "theta must be a 1-D array"),
        (np.zeros(26, np.float32), TypeError, "theta has dtype float32 but X is float64"),
        (np.full(26, np.nan), ValueError, "theta contains NaN or inf"),
    ],
)
def test_theta_errors_name_the_argument(theta, exc, match):
    net, X, Y, _ = _small()
    obj = Objective(net, "squared_error", X, Y)
    for call in (obj.value, obj.grad, obj.at):
        with pytest.raises(exc, match=match):
            call(theta)


def test_direction_and_predict_errors_name_the_argument():
    net, X, Y, theta = _small()
    obj = Objective(net, "squared_error", X, Y)
    lin = obj.at(theta)
    for call in (lin.hvp, lin.gnvp, lambda v: obj.hvp(theta, v)):
        with pytest.raises(ValueError, match=r"v must have shape \(26,\)"):
            call(np.zeros(25))
    with pytest.raises(ValueError, match="X must have shape"):
        obj.predict(theta, np.zeros((2, 2)))
    with pytest.raises(TypeError, match="X has dtype float32"):
        obj.predict(theta, np.zeros((2, 3), np.float32))


def test_every_linearization_satisfies_the_protocol_and_problem_counts_its_products():
    from numnet.curvature import hessian_dense, hessian_fd_grads
    from numnet.objective import NetworkLinearization
    from numnet.optim import FunctionObjective
    from numnet.optim.problem import Problem

    rng, obj, theta = make_objective("squared_error", "tikhonov", "tanh", Shape(5, 3, 4, 2, 8))
    quadratic = FunctionObjective(lambda x: 0.5 * x @ x, lambda x: x, lambda x, v: v)
    problem = Problem(obj)
    lins = [
        obj.at(theta),
        quadratic.at(np.ones(3)),
        problem.at(theta),
        Problem(quadratic).at(np.ones(3)),
    ]
    assert all(isinstance(lin, Linearization) for lin in lins)
    assert isinstance(lins[0], NetworkLinearization) and not isinstance(
        lins[2], NetworkLinearization
    )
    lins[2].grad, lins[2].grad
    assert problem.counts.nfev == 1 and problem.counts.ngev == 1  # one forward pass, one gradient
    v = rng.standard_normal(obj.n_params)
    np.testing.assert_array_equal(lins[2].H @ v, obj.hvp(theta, v))
    np.testing.assert_array_equal(lins[2].G @ v, obj.gnvp(theta, v))
    assert problem.counts.nhvp == 2
    np.testing.assert_array_equal(lins[2].F, lins[0].F)
    # the curvature tools take a Problem and its linearizations, and their evaluations are counted
    np.testing.assert_array_equal(hessian_dense(lins[2]), hessian_dense(obj, theta))
    assert problem.counts.nhvp == 2 + obj.n_params
    nfev, ngev = problem.counts.nfev, problem.counts.ngev
    np.testing.assert_array_equal(hessian_fd_grads(problem, theta), hessian_fd_grads(obj, theta))
    assert (problem.counts.nfev - nfev, problem.counts.ngev - ngev) == (
        1 + 2 * obj.n_params,
        2 * obj.n_params,
    )


# ------------------------------------------------------------------ network kinds and pieces

#: registry entries that are a bare layer without ``backward`` (the objective backpropagates by vjp)
BARE = ["dense", "residual", "conv2d", "rnn_last", "rnn_sequence"]


@pytest.mark.parametrize("reg_name", ["none", "tikhonov"])
@pytest.mark.parametrize("layer", BARE)
def test_bare_layer_objective_equals_the_layer_wrapped_in_a_sequential(layer, reg_name):
    """A bare layer (no ``backward``): value, grad, hvp and gnvp equal those of Sequential([layer])
    and pass the derivative checks."""
    s = Shape(4, 3, 3, 2, 17)
    rng, obj, theta = make_objective("squared_error", reg_name, "tanh", s, layer=layer)
    assert not hasattr(obj.net, "backward")
    wrapped = Objective(Sequential([obj.net]), obj.loss, obj.X, obj.Y, obj.regularizer)
    lin, ref, v = obj.at(theta), wrapped.at(theta), rng.standard_normal(obj.n_params)
    assert lin.value == pytest.approx(ref.value, rel=1e-14)
    np.testing.assert_allclose(lin.grad, ref.grad, rtol=1e-12, atol=1e-14)
    hv = lin.hvp(v)  # before and after the gradient: the same product
    np.testing.assert_allclose(hv, ref.hvp(v), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(lin.gnvp(v), ref.gnvp(v), rtol=1e-12, atol=1e-14)
    fresh = obj.at(theta)
    np.testing.assert_allclose(fresh.hvp(v), hv, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(fresh.grad, ref.grad, rtol=1e-12, atol=1e-14)
    g = lambda t: obj.at(t).grad
    assert derivative_check(obj.value, theta, lambda d: g(theta) @ d, h0=H0, seed=1).passed
    assert derivative_check(g, theta, lin.hvp, seed=2).passed


class _Minimal:
    """A layer with only what ``Objective`` requires (no ``tangent``, ``rop`` or ``backward``)."""

    def __init__(self, layer):
        self.layer, self.d_in, self.d_out = layer, layer.d_in, layer.d_out
        self.n_params = layer.n_params

    def forward(self, theta, X):
        return self.layer.forward(theta, X)

    def jvp(self, theta, cache, dtheta, dX):
        return self.layer.jvp(theta, cache, dtheta, dX)

    def vjp(self, theta, cache, gZ, *, need_gX=True):
        return self.layer.vjp(theta, cache, gZ, need_gX=need_gX)


@pytest.mark.parametrize("loss_name", ["squared_error", "cross_entropy"])
def test_minimal_layer_gives_value_grad_and_gauss_newton_by_jvp_and_vjp(loss_name):
    """A layer without ``tangent`` gets its Gauss-Newton product from ``jvp`` and ``vjp``:
    value, grad and gnvp equal those of the full layer, and the Gauss-Newton matrix
    equals Jᵀ ∇²E J built from a dense Jacobian."""
    rng, obj, theta = make_objective(
        loss_name, "tikhonov", "tanh", Shape(4, 3, 3, 3, 5), layer="dense"
    )
    minimal = Objective(_Minimal(obj.net), obj.loss, obj.X, obj.Y, obj.regularizer)
    lin, ref, v = minimal.at(theta), obj.at(theta), rng.standard_normal(obj.n_params)
    assert lin.value == ref.value
    np.testing.assert_allclose(lin.grad, ref.grad, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(lin.gnvp(v), ref.gnvp(v), rtol=1e-13, atol=1e-15)
    J = np.column_stack(
        [obj.net.jvp(theta, ref.cache, e, None).ravel() for e in np.eye(obj.n_params)]
    )
    HE = np.column_stack(
        [obj.loss.hvp(ref.F, obj.Y, e.reshape(ref.F.shape)).ravel() for e in np.eye(ref.F.size)]
    )
    G = J.T @ HE @ J + 0.3 * np.eye(obj.n_params)
    np.testing.assert_allclose(lin.gnvp(v), G @ v, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("reg_name", REGULARIZERS)
def test_value_is_the_loss_of_the_prediction_plus_the_regularizer(reg_name):
    """J(θ) = E(F(θ, X), Y) + λR(θ) exactly, and E alone without a regularizer."""
    _, obj, theta = make_objective("huber", reg_name, "tanh", Shape(5, 3, 4, 2, 3))
    E = obj.loss.value(obj.predict(theta), obj.Y)
    R = 0.0 if obj.regularizer is None else obj.regularizer.value(theta)
    lin = obj.at(theta)
    assert obj.value(theta) == E + R and lin.value == E + R and lin.loss_value == E
    if obj.regularizer is None:
        assert obj.value(theta) == E


class _Quartic:
    """A non-quadratic custom regularizer R(θ) = λ Σ θ⁴ / 4 without ``check``."""

    smooth, lam = True, 0.2

    def value(self, theta):
        return self.lam * float(np.sum(theta**4)) / 4

    def grad(self, theta):
        return self.lam * theta**3

    def hvp(self, theta, v):
        return 3 * self.lam * theta**2 * v


def test_custom_regularizer_without_check_enters_value_grad_hvp_and_gnvp():
    """A duck-typed regularizer (no ``check``) is accepted; its θ-dependent Hessian enters
    hvp and gnvp at the linearization point."""
    rng, obj, theta = make_objective("squared_error", "none", "tanh", Shape(5, 3, 4, 2, 6))
    reg = _Quartic()
    both = Objective(obj.net, obj.loss, obj.X, obj.Y, reg)
    lin, plain, v = both.at(theta), obj.at(theta), rng.standard_normal(obj.n_params)
    assert lin.value == pytest.approx(plain.value + reg.value(theta), rel=1e-14)
    np.testing.assert_allclose(lin.grad, plain.grad + reg.grad(theta), rtol=1e-13)
    np.testing.assert_allclose(lin.hvp(v), plain.hvp(v) + reg.hvp(theta, v), rtol=1e-13)
    np.testing.assert_allclose(lin.gnvp(v), plain.gnvp(v) + reg.hvp(theta, v), rtol=1e-13)
    res = derivative_check(both.grad, theta, lin.hvp, seed=3)
    assert res.passed, str(res)


@pytest.mark.parametrize("layer", ["mlp3", "graph_shared", "dense", "rnn_last"])
def test_float32_products_cast_a_float64_direction(layer):
    """On a float32 objective, hvp and gnvp of a float64 v are float32 and equal to those of
    v cast to float32 (the direction is cast once, before the products)."""
    rng, obj, theta = make_objective(
        "squared_error", "tikhonov", "tanh", Shape(4, 3, 3, 2, 7), np.float32, layer=layer
    )
    lin, v = obj.at(theta), rng.standard_normal(obj.n_params)
    for product in (lin.hvp, lin.gnvp):
        got, want = product(v), product(v.astype(np.float32))
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want)


class _NoJvp:
    d_in, d_out, n_params = 2, 1, 3

    def forward(self, theta, X): ...

    def vjp(self, theta, cache, gZ): ...


def test_a_net_without_the_layer_methods_is_refused_naming_what_is_missing():
    _, X, Y, _ = _small()
    with pytest.raises(
        TypeError,
        match=r"^net must be a layer or network \(numnet\.layers\.Layer\), got _NoJvp without jvp$",
    ):
        Objective(_NoJvp(), "squared_error", X[:, :2], Y[:, :1])
    with pytest.raises(
        TypeError, match=r"got object without d_in, d_out, n_params, forward, jvp, vjp$"
    ):
        Objective(object(), "squared_error", X, Y)


def test_error_messages_are_exact():
    """The messages start with the argument's name (no prefix) and report the bad size."""
    net, X, Y, theta = _small()
    with pytest.raises(ValueError, match=r"^X must have shape \(n_samples, 3\)"):
        Objective(net, "squared_error", np.zeros((5, 4)), Y)
    with pytest.raises(ValueError, match=r"^X must contain at least one sample, got 0 rows$"):
        Objective(net, "squared_error", np.zeros((0, 3)), np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"^Y must have 5 rows like X, got 4$"):
        Objective(net, "squared_error", X, np.zeros((4, 2)))
    obj = Objective(net, "squared_error", X, Y)
    with pytest.raises(ValueError, match=r"^rows selects no samples$"):
        obj.batch(slice(3, 3))
    with pytest.raises(ValueError, match=r"^X must have shape \(n_samples, 3\)"):
        obj.predict(theta, np.zeros((2, 2)))
    with pytest.raises(TypeError, match=r"^X has dtype float32"):
        obj.predict(theta, np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("dtype", DTYPES)
def test_predict_converts_integer_input_to_the_objective_dtype(dtype):
    """Integer X given to ``predict`` is converted to the objective's dtype (float32 stays float32)."""
    _, obj, theta = make_objective("squared_error", "none", "tanh", Shape(4, 3, 3, 2, 7), dtype)
    Xi = np.arange(6).reshape(2, 3) - 2
    got = obj.predict(theta, Xi)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, obj.predict(theta, Xi.astype(dtype)))
