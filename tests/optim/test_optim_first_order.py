"""Line searches, step rules, update transforms and the first-order methods gd, subgradient, sgd, adam."""

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st
from scipy.optimize import rosen, rosen_der, rosen_hess_prod
from sklearn.linear_model import Lasso

from numnet.datasets import planted_softmax
from numnet.layers import Dense
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.optim import FunctionObjective, NoProgress, Problem, minimize
from numnet.optim import schedules, transforms
from numnet.optim.linesearch import armijo, get_line_search, wolfe
from numnet.optim.sgd import minibatches
from numnet.regularizers import L1Penalty

# ------------------------------------------------------------------ line searches


def rosen_problem():
    return Problem(FunctionObjective(rosen, rosen_der, rosen_hess_prod))


def nan_beyond(radius):
    """Rosenbrock, NaN for ‖x‖ > radius."""

    def fun(x):
        return np.nan if np.linalg.norm(x) > radius else rosen(x)

    return Problem(FunctionObjective(fun, rosen_der))


@given(
    x=st.lists(st.floats(-2, 2), min_size=2, max_size=2),
    angle=st.floats(-1.4, 1.4),
    t0=st.sampled_from([1e-3, 1.0, 10.0]),
)
def test_wolfe_satisfies_strong_wolfe(x, angle, t0):
    """Along any descent direction (within 80° of −g) the step meets both strong Wolfe conditions."""
    pr, x = rosen_problem(), np.array(x)
    f, g = pr.value_and_grad(x)
    assume(np.linalg.norm(g) > 1e-8)  # at the minimizer (1, 1) there is no descent direction
    c, s = np.cos(angle), np.sin(angle)
    p = -np.array([[c, -s], [s, c]]) @ g
    t, lin = wolfe(pr, x, f, g, p, t0=t0, c1=1e-4, c2=0.9)
    assert lin.value <= f + 1e-4 * t * (g @ p)
    assert abs(lin.grad @ p) <= 0.9 * abs(g @ p)
    np.testing.assert_array_equal(lin.theta, x + t * p)


@given(x=st.lists(st.floats(-2, 2), min_size=2, max_size=2), t0=st.sampled_from([1e-2, 1.0, 100.0]))
def test_armijo_sufficient_decrease_and_first_acceptable(x, t0):
    """Armijo returns the first t0·2⁻ʲ with sufficient decrease (so 2t fails unless t = t0)."""
    pr, x = rosen_problem(), np.array(x)
    f, g = pr.value_and_grad(x)
    assume(np.linalg.norm(g) > 1e-8)
    t, lin = armijo(pr, x, f, g, -g, t0=t0)
    assert lin.value <= f - 1e-4 * t * (g @ g) and lin.value == rosen(x - t * g)
    assert t == t0 or rosen(x - 2 * t * g) > f - 1e-4 * 2 * t * (g @ g)


@pytest.mark.parametrize("search", ["armijo", "wolfe"])
def test_line_search_rejects_nan_trials(search):
    pr = nan_beyond(2.0)
    x = np.array([-1.2, 1.0])
    f, g = pr.value_and_grad(x)
    t, lin = get_line_search(search)(pr, x, f, g, -g, 100.0)
    assert np.isfinite(lin.value) and np.linalg.norm(x - t * g) <= 2.0 and lin.value < f


@pytest.mark.parametrize("search", ["armijo", "wolfe"])
def test_line_search_raises_on_ascent_or_nan_everywhere(search):
    pr, x = rosen_problem(), np.array([-1.2, 1.0])
    f, g = pr.value_and_grad(x)
    with pytest.raises(NoProgress, match="not a descent direction"):
        get_line_search(search)(pr, x, f, g, g, 1.0)
    with pytest.raises(NoProgress):
        get_line_search(search, max_evals=5)(nan_beyond(0.0), x, f, g, -g, 1.0)


def test_line_search_option_errors():
    pr, x = rosen_problem(), np.zeros(2)
    f, g = pr.value_and_grad(x)
    with pytest.raises(ValueError, match="c1"):
        wolfe(pr, x, f, g, -g, c1=0.95, c2=0.9)
    with pytest.raises(ValueError, match="t0"):
        armijo(pr, x, f, g, -g, t0=-1.0)
    with pytest.raises(ValueError, match="line_search"):
        get_line_search("exact")


def test_wolfe_float32_keeps_dtype():
    pr = Problem(
        FunctionObjective(lambda x: float(np.sum(x.astype(np.float64) ** 4)), lambda x: 4 * x**3)
    )
    x = np.array([1.0, -2.0], dtype=np.float32)
    f, g = pr.value_and_grad(x)
    t, lin = wolfe(pr, x, f, g, -g)
    assert lin.theta.dtype == np.float32 and lin.value < f


# ------------------------------------------------------------------ step rules


def test_step_rules_follow_their_formulas():
    k = np.arange(1000)
    dim = np.array([schedules.square_summable(100, 100)(i) for i in k])
    np.testing.assert_allclose(dim, 100 / (100 + k))
    np.testing.assert_allclose(
        [schedules.inverse_sqrt(10, 100)(i) for i in k], 10 / np.sqrt(100 + k)
    )
    assert schedules.constant(0.3)(999) == 0.3
    for name in schedules.STEP_RULES:
        rule = schedules.step_rule(0.5, name, decay=10)
        assert rule(0) == 0.5 and rule(10) <= 0.5
    assert schedules.step_rule(0.5, "square-summable", decay=10)(10) == 0.25


def test_schedules_reject_bad_input():
    with pytest.raises(ValueError, match="t"):
        schedules.constant(0.0)
    with pytest.raises(TypeError, match="learning_rate"):
        schedules.as_schedule("fast")
    with pytest.raises(ValueError, match="rule"):
        schedules.step_rule(1.0, "cyclic")
    with pytest.raises(ValueError, match="k"):
        schedules.square_summable()(-1)


# ------------------------------------------------------------------ transforms vs torch.optim


def _torch_run(make_opt, grads, x0):
    p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
    opt = make_opt([p])
    for gk in grads:
        p.grad = torch.tensor(gk, dtype=torch.float64)
        opt.step()
    return p.detach().numpy()


def _ours(tx, grads, x0):
    x, state = x0.copy(), tx.init(x0)
    for gk in grads:
        u, state = tx.update(gk, state)
        x = transforms.apply_updates(x, u)
    return x


@pytest.mark.parametrize("momentum,nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_transform_matches_torch(rng, momentum, nesterov):
    x0, grads = rng.standard_normal(5), rng.standard_normal((20, 5))
    ref = _torch_run(
        lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=momentum, nesterov=nesterov), grads, x0
    )
    np.testing.assert_allclose(
        _ours(transforms.sgd_transform(0.1, momentum, nesterov), grads, x0), ref, rtol=1e-12
    )


def test_adam_transform_matches_torch(rng):
    x0, grads = rng.standard_normal(5), rng.standard_normal((20, 5))
    ref = _torch_run(
        lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.8, 0.99), eps=1e-6), grads, x0
    )
    np.testing.assert_allclose(
        _ours(transforms.adam_transform(0.01, 0.8, 0.99, 1e-6), grads, x0), ref, rtol=1e-10
    )


def test_transforms_are_pure_and_chain_composes(rng):
    g = rng.standard_normal(4)
    g_copy, tx = g.copy(), transforms.chain(transforms.trace(0.5), transforms.scale(-2.0))
    s0 = tx.init(g)
    u1, s1 = tx.update(g, s0)
    u2, _ = tx.update(g, s0)
    np.testing.assert_array_equal(g, g_copy)
    np.testing.assert_array_equal(u1, u2)
    np.testing.assert_allclose(u1, -2.0 * g)
    np.testing.assert_allclose(tx.update(g, s1)[0], -2.0 * (g + 0.5 * g))


def test_scheduled_learning_rate_counts_steps():
    tx = transforms.scale_by_learning_rate(lambda k: 1.0 / (k + 1))
    state, g, out = tx.init(np.ones(1)), np.ones(1), []
    for _ in range(3):
        u, state = tx.update(g, state)
        out.append(u[0])
    assert out == [-1.0, -0.5, -1.0 / 3]


# ------------------------------------------------------------------ gd and subgradient


@pytest.mark.parametrize("step", ["armijo", "wolfe", "constant", "diminishing", "square-summable"])
def test_gd_step_rules_on_a_quadratic(step):
    A = np.diag([1.0, 4.0])
    obj = FunctionObjective(lambda x: 0.5 * x @ A @ x, lambda x: A @ x)
    res = minimize(
        obj, np.array([1.0, 1.0]), "gd", step=step, learning_rate=0.2, max_iter=2000, gtol=1e-8
    )
    assert res.success and np.linalg.norm(res.x) < 1e-7, res


def test_gd_constant_step_too_large_is_halved_not_accepted():
    """Step 10 on ½‖x‖²·(1, 4) diverges; beyond ‖x‖ = 1e3 J is NaN: the step must be halved."""
    A = np.diag([1.0, 4.0])
    obj = FunctionObjective(
        lambda x: 0.5 * x @ A @ x if np.linalg.norm(x) < 1e3 else np.nan, lambda x: A @ x
    )
    res = minimize(
        obj, np.array([1.0, 1.0]), "gd", step="constant", learning_rate=10.0, max_iter=200
    )
    steps = [h["step"] for h in res.history]
    assert (
        np.isfinite(res.fun)
        and min(steps) < 10.0
        and all(np.isfinite(h["fun"]) for h in res.history)
    )


def test_subgradient_on_a_nonsmooth_function():
    """f = |x₁| + 2|x₂| (subgradient sign): the best value of 100/(100+k) steps approaches 0."""
    obj = FunctionObjective(lambda x: abs(x[0]) + 2 * abs(x[1]), lambda x: np.sign(x) * [1.0, 2.0])
    res = minimize(obj, np.array([3.0, -2.0]), "subgradient", learning_rate=0.1, max_iter=3000)
    assert res.fun < 0.01 and res.fun < min(h["fun"] for h in res.history[:100])


def test_proximal_subgradient_solves_the_lasso(rng):
    """Proximal gradient with the L1Penalty prox equals scikit-learn's Lasso (same objective)."""
    X = rng.standard_normal((80, 6))
    y = X @ np.array([1.5, 0.0, -2.0, 0.0, 0.0, 0.5]) + 0.1 * rng.standard_normal(80)
    net = Sequential([Dense(6, 1)])
    obj = Objective(
        net, "squared_error", X, y[:, None], regularizer=L1Penalty(0.1, mask=~net.bias_mask())
    )
    L = np.linalg.eigvalsh(np.c_[X, np.ones(80)].T @ np.c_[X, np.ones(80)] / 80).max()
    res = minimize(
        obj,
        np.zeros(7),
        "subgradient",
        prox=True,
        step="constant",
        learning_rate=1 / L,
        max_iter=2000,
        gtol=1e-10,
    )
    ref = Lasso(alpha=0.1, tol=1e-12, max_iter=100_000).fit(X, y)
    np.testing.assert_allclose(res.x, np.r_[ref.coef_, ref.intercept_], atol=1e-7)
    assert res.success and (res.x[[1, 3, 4]] == 0).all()


def test_proximal_needs_a_prox():
    obj = FunctionObjective(lambda x: x @ x, lambda x: 2 * x)
    with pytest.raises(TypeError, match="prox"):
        minimize(obj, np.ones(2), "subgradient", prox=True)


# ------------------------------------------------------------------ sgd and adam


@pytest.fixture(scope="module")
def crime():
    d = planted_softmax(n_samples=120, n_features=5, n_classes=3, n_hidden=4, random_state=1)
    net = Sequential([Dense(5, 4, "tanh"), Dense(4, 3)])
    return Objective(net, "cross_entropy", d.X, d.Y), net.init(0)


def test_minibatches_partition_the_rows():
    batches = minibatches(np.random.default_rng(0), 23, 5)
    assert [len(b) for b in batches] == [5, 5, 5, 5, 3]
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(23))


@pytest.mark.parametrize(
    "method,options",
    [
        ("sgd", {"learning_rate": 0.5}),
        ("sgd", {"learning_rate": 0.2, "momentum": 0.9}),
        ("sgd", {"learning_rate": 0.2, "momentum": 0.9, "nesterov": True}),
        ("sgd", {"learning_rate": schedules.square_summable(50.0, 100.0)}),
        ("adam", {"learning_rate": 0.05}),
    ],
)
def test_stochastic_methods_decrease_the_loss(crime, method, options):
    obj, theta0 = crime
    res = minimize(obj, theta0, method, max_iter=40, batch_size=16, **options)
    assert res.fun < 0.8 * obj.value(theta0), res
    assert all(h["inner"] == 8 for h in res.history)
    assert res.ngev == 40 * (8 + 1) + 1  # 8 batches + the full gradient per epoch, + the start


def test_full_eval_false_estimates_the_gradient(crime):
    obj, theta0 = crime
    res = minimize(
        obj, theta0, "sgd", learning_rate=0.5, max_iter=5, batch_size=16, full_eval=False
    )
    est = res.history[-1]["grad_norm"]
    assert res.ngev == 5 * 8 + 1 and np.isfinite(est) and est != np.linalg.norm(obj.grad(res.x))


def test_sgd_float32_stays_float32(crime):
    obj, theta0 = crime
    obj32 = Objective(obj.net, obj.loss, obj.X.astype(np.float32), obj.Y.astype(np.float32))
    res = minimize(obj32, theta0.astype(np.float32), "adam", learning_rate=0.05, max_iter=5)
    assert res.x.dtype == np.float32 and res.fun < obj32.value(theta0.astype(np.float32))


def test_stochastic_option_errors(crime):
    obj, theta0 = crime
    with pytest.raises(ValueError, match="batch_size"):
        minimize(obj, theta0, "sgd", batch_size=0)
    with pytest.raises(ValueError, match="nesterov"):
        minimize(obj, theta0, "sgd", nesterov=True)
    with pytest.raises(TypeError, match="batch"):
        minimize(FunctionObjective(lambda x: x @ x, lambda x: 2 * x), np.ones(2), "adam")
    with pytest.raises(TypeError):
        minimize(obj, theta0, "adam", beta1=0.5)


@pytest.mark.parametrize("method,learning_rate", [("sgd", 1e3), ("adam", 1e100)])
def test_diverging_minibatch_steps_are_rejected(rng, method, learning_rate):
    """A linear net with squared error and a huge step overflows to inf/NaN (Adam's steps have
    length ≈ α, hence α = 1e100): those steps are
    rejected, the learning-rate multiplier halves, and every yielded iterate is finite."""
    X = rng.standard_normal((64, 4))
    net = Sequential([Dense(4, 4), Dense(4, 1)])
    obj = Objective(net, "squared_error", X, X.sum(axis=1, keepdims=True))
    res = minimize(obj, net.init(0), method, learning_rate=learning_rate, max_iter=40, batch_size=8)
    mult = [h["step"] for h in res.history]
    assert mult[-1] < 1.0 and all(np.isfinite(h["fun"]) for h in res.history)
    assert np.isfinite(res.x).all() and res.fun <= obj.value(net.init(0))
