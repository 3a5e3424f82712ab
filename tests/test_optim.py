"""The optimizer table: every registered method × {quadratic, Rosenbrock, inverse crime}.

A method joins every test here by being registered in ``numnet.optim.METHODS``.
Which problems a method applies to is read from capability attributes on the
method function, never from a list of names: ``method.needs_network`` (it
needs a network objective, e.g. per-layer blocks), ``method.stochastic`` (it
needs ``objective.batch``, so also a network objective) and
``method.nonsmooth`` (a subgradient-type method: no promise to drive ‖∇J‖
to zero, so the gtol test leaves it out). Budgets and loss thresholds are
one table, :data:`BUDGETS` (defaults per problem) with :data:`OVERRIDES`.
"""

from typing import NamedTuple

import numpy as np
import pytest
from scipy.optimize import minimize as scipy_minimize
from scipy.optimize import rosen, rosen_der, rosen_hess_prod

from numnet.datasets import inverse_crime
from numnet.layers import Dense
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.optim import METHODS, FunctionObjective, Status, minimize
from numnet.regularizers import Tikhonov

# ------------------------------------------------------------------ problems


class Problem(NamedTuple):
    objective: object
    theta0: np.ndarray
    f_star: float
    network: bool


def quadratic():
    """J(x) = ½‖R x − c‖², R 30 × 10 with singular values 1…10 (condition 100 of RᵀR)."""
    rng = np.random.default_rng(0)
    U, _ = np.linalg.qr(rng.standard_normal((30, 10)))
    V, _ = np.linalg.qr(rng.standard_normal((10, 10)))
    R, c = U @ np.diag(np.linspace(1, 10, 10)) @ V.T, rng.standard_normal(30)
    x_star = np.linalg.lstsq(R, c, rcond=None)[0]
    obj = FunctionObjective(lambda x: 0.5 * np.sum((R @ x - c) ** 2), lambda x: R.T @ (R @ x - c),
                            lambda x, v: R.T @ (R @ v), residual=lambda x: R @ x - c, jac=lambda x: R)
    return Problem(obj, np.zeros(10), obj.value(x_star), False)


def _rosen_residual(x):
    return np.sqrt(2.0) * np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])


def _rosen_jac(x):
    return np.sqrt(2.0) * np.array([[-20 * x[0], 10.0], [-1.0, 0.0]])


def rosenbrock():
    """Rosenbrock from (−1.2, 1); ½‖r‖² with r = √2 (10(x₂ − x₁²), 1 − x₁) for Gauss-Newton."""
    obj = FunctionObjective(rosen, rosen_der, rosen_hess_prod, residual=_rosen_residual, jac=_rosen_jac)
    return Problem(obj, np.array([-1.2, 1.0]), 0.0, False)


def inverse_crime_problem():
    """Notes 000's inverse crime, small: planted softmax data, the same architecture, cross-entropy.

    The planted model is in the family, so min J = mean entropy of the targets.
    """
    d = inverse_crime(n_samples=100, n_features=8, n_classes=3, n_hidden=6, random_state=0)
    net = Sequential([Dense(8, 6, "tanh"), Dense(6, 3)])
    f_star = float(-(d.Y * np.log(d.Y)).sum(axis=1).mean())
    return Problem(Objective(net, "cross_entropy", d.X, d.Y), net.init(0), f_star, True)


PROBLEMS = {"quadratic": quadratic, "rosenbrock": rosenbrock, "inverse_crime": inverse_crime_problem}


# ------------------------------------------------------------------ the table

class Budget(NamedTuple):
    """max_iter, the required J − J* after the run, and the method's options."""

    max_iter: int
    gap: float
    options: dict = {}


BUDGETS = {
    "quadratic": Budget(300, 1e-10),
    "rosenbrock": Budget(300, 1e-10),
    "inverse_crime": Budget(200, 1e-3),
}

OVERRIDES = {
    ("quadratic", "gd"): Budget(2000, 1e-10),
    ("quadratic", "subgradient"): Budget(2000, 1e-6, {"learning_rate": 0.01, "step": "constant"}),
    ("rosenbrock", "gd"): Budget(3000, 1e-3),
    ("rosenbrock", "subgradient"): Budget(2000, 0.3, {"learning_rate": 1.5e-3, "decay": 1000.0}),
    ("inverse_crime", "gd"): Budget(200, 1e-2),
    ("inverse_crime", "subgradient"): Budget(200, 2e-2),
    ("inverse_crime", "sgd"): Budget(100, 1e-2, {"learning_rate": 0.5, "batch_size": 20}),
    ("inverse_crime", "adam"): Budget(100, 2e-3, {"learning_rate": 0.05, "batch_size": 20}),
}


def budget(problem, method):
    return OVERRIDES.get((problem, method), BUDGETS[problem])


def applies(method, network):
    fn = METHODS[method]
    return network or not (getattr(fn, "needs_network", False) or getattr(fn, "stochastic", False))


def _is_network(problem):
    return problem == "inverse_crime"


CASES = [(p, m) for p in PROBLEMS for m in sorted(METHODS) if applies(m, _is_network(p))]


@pytest.fixture(scope="module")
def problems():
    return {name: make() for name, make in PROBLEMS.items()}


@pytest.mark.parametrize("problem,method", CASES)
def test_table(problems, problem, method):
    """Loss threshold reached; callback count, history length and nit agree; iterates finite."""
    prob, b, calls = problems[problem], budget(problem, method), []
    res = minimize(prob.objective, prob.theta0, method, max_iter=b.max_iter,
                   callback=lambda r: calls.append(r.fun), **b.options)
    assert res.fun - prob.f_star <= b.gap, res
    assert len(calls) == res.nit == len(res.history)
    assert np.isfinite(res.x).all() and all(np.isfinite(h["fun"]) for h in res.history)
    assert res.fun == min([h["fun"] for h in res.history] + [prob.objective.value(prob.theta0)])


def _reaches_gtol(method):
    fn = METHODS[method]
    return applies(method, False) and not getattr(fn, "stochastic", False) \
        and not getattr(fn, "nonsmooth", False)


@pytest.mark.parametrize("method", [m for m in sorted(METHODS) if _reaches_gtol(m)])
def test_rosenbrock_stationary(problems, method):
    """Every deterministic smooth method drives ‖∇f‖ below 1e-6 on Rosenbrock."""
    prob = problems["rosenbrock"]
    res = minimize(prob.objective, prob.theta0, method, max_iter=50_000, gtol=1e-6)
    assert res.status is Status.GTOL and res.grad_norm < 1e-6, res
    np.testing.assert_allclose(res.x, [1.0, 1.0], atol=1e-5)


@pytest.mark.parametrize("problem,method", CASES)
def test_callback_stops_early(problems, problem, method):
    """A callback raising StopIteration ends the run with status CALLBACK after that iteration."""
    prob, calls = problems[problem], []

    def stop_at_three(result):
        calls.append(result.nit)
        if result.nit == 3:
            raise StopIteration

    res = minimize(prob.objective, prob.theta0, method, callback=stop_at_three,
                   **budget(problem, method).options)
    assert res.status is Status.CALLBACK and res.success
    assert calls == [1, 2, 3] and res.nit == 3 == len(res.history)


# ------------------------------------------------------------------ non-finite regions

class NaNOutside:
    """Wrap an objective: NaN value, gradient and products outside the ball ‖θ − center‖ ≤ radius.

    Counts the evaluations that landed outside in ``n_nan``.
    """

    def __init__(self, objective, center, radius):
        self.inner, self.center, self.radius, self.n_nan = objective, center, radius, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def outside(self, theta):
        out = np.linalg.norm(theta - self.center) > self.radius
        self.n_nan += bool(out)
        return out

    def value(self, theta):
        return np.nan if self.outside(theta) else self.inner.value(theta)

    def value_and_grad(self, theta):
        if self.outside(theta):
            return np.nan, np.full_like(theta, np.nan)
        return self.inner.value_and_grad(theta)

    def at(self, theta):
        return _NaNLinearization(self.inner.at(theta), self.outside(theta))

    def hvp(self, theta, v):
        return self.at(theta).hvp(v)

    def gnvp(self, theta, v):
        return self.at(theta).gnvp(v)

    def batch(self, rows):
        return NaNOutside(self.inner.batch(rows), self.center, self.radius)


class _NaNLinearization:
    def __init__(self, lin, nan):
        self.lin, self.nan = lin, nan

    def __getattr__(self, name):
        val = getattr(self.lin, name)
        if not self.nan or name not in ("value", "grad", "hvp", "gnvp", "gF"):
            return val
        return (lambda v: np.full_like(v, np.nan)) if callable(val) else np.full_like(np.asarray(val), np.nan)


NAN_OPTIONS = {"sgd": {"learning_rate": 5.0}, "adam": {"learning_rate": 0.5},
               "subgradient": {"learning_rate": 0.5}}


#: Per problem: (center, radius) of the ball outside which J is NaN. θ₀ is inside,
#: and for the quadratic and the network the minimizer is outside.
NAN_BALLS = {
    "quadratic": lambda p: (p.theta0, 1.0),
    "rosenbrock": lambda p: (np.zeros(2), 2.0),
    "inverse_crime": lambda p: (0.5 * p.theta0, 0.55 * np.linalg.norm(p.theta0)),
}
@pytest.mark.parametrize("problem,method", CASES)
def test_non_finite_steps_rejected(problems, problem, method):
    """Beyond a radius J is NaN: no such point is ever accepted and the best iterate is finite."""
    prob = problems[problem]
    obj = NaNOutside(prob.objective, *NAN_BALLS[problem](prob))
    res = minimize(obj, prob.theta0, method, max_iter=30, **NAN_OPTIONS.get(method, {}))
    assert np.isfinite(res.x).all() and np.isfinite(res.fun)
    assert np.linalg.norm(res.x - obj.center) <= obj.radius
    assert all(np.isfinite(h["fun"]) for h in res.history)
    assert res.fun <= prob.objective.value(prob.theta0)


# ------------------------------------------------------------------ reproducibility

@pytest.mark.parametrize("method", [m for m in sorted(METHODS) if getattr(METHODS[m], "stochastic", False)])
def test_same_seed_same_run(problems, method):
    prob = problems["inverse_crime"]
    opts = {**budget("inverse_crime", method).options, "batch_size": 30}
    runs = [minimize(prob.objective, prob.theta0, method, max_iter=3, seed=s, **opts) for s in (7, 7, 8)]
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    assert not np.array_equal(runs[0].x, runs[2].x)


# ------------------------------------------------------------------ against SciPy

def logistic_regression():
    """Strongly convex: Dense(5, 1) + binary cross-entropy + Tikhonov(0.01), planted labels."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, 5))
    y = (rng.random(200) < 1 / (1 + np.exp(-X @ rng.standard_normal(5)))).astype(float)
    net = Sequential([Dense(5, 1)])
    return Objective(net, "binary_cross_entropy", X, y[:, None], regularizer=Tikhonov(0.01)), net


@pytest.mark.parametrize("method", [m for m in ("lbfgs", "bfgs", "newton-cg") if m in METHODS])
def test_logistic_regression_matches_scipy(method):
    obj, net = logistic_regression()
    theta0 = net.init(1)
    ref = scipy_minimize(obj.value, theta0, jac=obj.grad, hessp=obj.hvp, method="trust-krylov",
                         options={"gtol": 1e-13})
    res = minimize(obj, theta0, method, max_iter=500, gtol=1e-10)
    assert res.success, res
    np.testing.assert_allclose(res.x, ref.x, atol=1e-6)


# ------------------------------------------------------------------ float32

@pytest.mark.parametrize("method", [m for m in sorted(METHODS) if applies(m, True)])
def test_float32_end_to_end(problems, method):
    """On float32 data every method keeps float32 iterates and decreases J."""
    prob = problems["inverse_crime"]
    obj = prob.objective
    obj32 = Objective(obj.net, obj.loss, obj.X.astype(np.float32), obj.Y.astype(np.float32))
    theta0 = prob.theta0.astype(np.float32)
    res = minimize(obj32, theta0, method, max_iter=10, **budget("inverse_crime", method).options)
    assert res.x.dtype == np.float32 and res.nit >= 1
    assert res.fun < 0.95 * obj32.value(theta0)
