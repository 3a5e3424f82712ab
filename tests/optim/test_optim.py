"""The optimizer table: every registered method × {quadratic, Rosenbrock, inverse crime}.

Also, for every method: options bound and checked before the first
evaluation (unknown names, bad values), and a gradient whose norm underflows
never counts as converged.

A method joins every test here by being registered in ``numnet.optim.METHODS``.
Which problems a method applies to is read from capability attributes on the
method function, never from a list of names: ``method.needs_network`` (it
needs a network objective, e.g. per-layer blocks), ``method.stochastic`` (it
needs ``objective.batch``, so also a network objective) and
``method.nonsmooth`` (a subgradient-type method: no promise to drive ‖∇J‖
to zero, so the gtol test leaves it out). Budgets and loss thresholds are
one table, :data:`BUDGETS` (defaults per problem) with :data:`OVERRIDES`.
"""

import itertools
from typing import NamedTuple

import numpy as np
import pytest
from scipy.optimize import minimize as scipy_minimize
from scipy.optimize import rosen, rosen_der, rosen_hess_prod

from numnet.datasets import planted_softmax
from numnet.layers import Dense
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.optim import METHODS, FunctionObjective, Method, Status, minimize, robust_norm
from numnet.optim import Problem as CountedProblem
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
    obj = FunctionObjective(
        lambda x: 0.5 * np.sum((R @ x - c) ** 2),
        lambda x: R.T @ (R @ x - c),
        lambda x, v: R.T @ (R @ v),
        residual=lambda x: R @ x - c,
        jac=lambda x: R,
    )
    return Problem(obj, np.zeros(10), obj.value(x_star), False)


def _rosen_residual(x):
    return np.sqrt(2.0) * np.array([10 * (x[1] - x[0] ** 2), 1 - x[0]])


def _rosen_jac(x):
    return np.sqrt(2.0) * np.array([[-20 * x[0], 10.0], [-1.0, 0.0]])


def rosenbrock():
    """Rosenbrock from (−1.2, 1); ½‖r‖² with r = √2 (10(x₂ − x₁²), 1 − x₁) for Gauss-Newton."""
    obj = FunctionObjective(
        rosen, rosen_der, rosen_hess_prod, residual=_rosen_residual, jac=_rosen_jac
    )
    return Problem(obj, np.array([-1.2, 1.0]), 0.0, False)


def inverse_crime_problem():
    """Notes 000's inverse crime, small: planted softmax data, the same architecture, cross-entropy.

    The planted model is in the family, so min J = mean entropy of the targets.
    """
    d = planted_softmax(n_samples=100, n_features=8, n_classes=3, n_hidden=6, random_state=0)
    net = Sequential([Dense(8, 6, "tanh"), Dense(6, 3)])
    f_star = float(-(d.Y * np.log(d.Y)).sum(axis=1).mean())
    return Problem(Objective(net, "cross_entropy", d.X, d.Y), net.init(0), f_star, True)


PROBLEMS = {
    "quadratic": quadratic,
    "rosenbrock": rosenbrock,
    "inverse_crime": inverse_crime_problem,
}


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
    # Gauss-Newton's default (auto) path at these sizes is dense: an exact solve ends the linear
    # least-squares quadratic in one step (the callback test needs three), and the exact, undamped
    # steps on the inverse crime reach another local minimum (J − J* = 8.7e-3). The table runs the
    # CG path here; tests/optim/test_dense_lm.py covers the dense one.
    ("quadratic", "gauss-newton"): Budget(300, 1e-10, {"solver": "cg"}),
    ("inverse_crime", "gauss-newton"): Budget(200, 1e-3, {"solver": "cg"}),
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
    res = minimize(
        prob.objective,
        prob.theta0,
        method,
        max_iter=b.max_iter,
        callback=lambda r: calls.append(r.status),
        **b.options,
    )
    assert res.fun - prob.f_star <= b.gap, res
    assert len(calls) == res.nit == len(res.history)
    assert (
        set(calls) == {Status.RUNNING} and not Status.RUNNING.success
    )  # intermediate results are running
    assert np.isfinite(res.x).all() and all(np.isfinite(h["fun"]) for h in res.history)
    assert res.fun == min([h["fun"] for h in res.history] + [prob.objective.value(prob.theta0)])


def _reaches_gtol(method):
    fn = METHODS[method]
    return (
        applies(method, False)
        and not getattr(fn, "stochastic", False)
        and not getattr(fn, "nonsmooth", False)
    )


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

    res = minimize(
        prob.objective,
        prob.theta0,
        method,
        callback=stop_at_three,
        **budget(problem, method).options,
    )
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
        return (
            (lambda v: np.full_like(v, np.nan))
            if callable(val)
            else np.full_like(np.asarray(val), np.nan)
        )


NAN_OPTIONS = {
    "sgd": {"learning_rate": 5.0},
    "adam": {"learning_rate": 0.5},
    "subgradient": {"learning_rate": 0.5},
}


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


@pytest.mark.parametrize(
    "method", [m for m in sorted(METHODS) if getattr(METHODS[m], "stochastic", False)]
)
def test_same_seed_same_run(problems, method):
    prob = problems["inverse_crime"]
    opts = {**budget("inverse_crime", method).options, "batch_size": 30}
    runs = [
        minimize(prob.objective, prob.theta0, method, max_iter=3, seed=s, **opts) for s in (7, 7, 8)
    ]
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
    # SciPy's BFGS (no Hessian) as the reference: trust-krylov's trlib once passed NaN directions
    # to hessp in a full run (issue 18, item 12)
    ref = scipy_minimize(obj.value, theta0, jac=obj.grad, method="BFGS", options={"gtol": 1e-11})
    assert np.linalg.norm(obj.grad(ref.x)) < 1e-9
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


# ------------------------------------------------------------------ the method table


def test_the_method_table_is_explicit():
    """Every entry is a Method under its own name, with documented options (no registration by import)."""
    from numnet.optim import methods

    assert methods.METHODS is METHODS and len(METHODS) >= 13
    for name, method in METHODS.items():
        assert (
            isinstance(method, Method) and method.name == name and "**Options**" in method.__doc__
        )


@pytest.mark.parametrize("method", ["lbfgs", "newton-cg", "levenberg-marquardt"])
def test_a_method_called_directly_is_a_generator_of_iterates(problems, method):
    """``METHODS[name](problem, x, f, g, **options)``, the interface of numnet ≤ 0.1, still yields the iterates."""
    prob = problems["rosenbrock"]
    problem = CountedProblem(prob.objective)
    f, g = problem.value_and_grad(prob.theta0)
    steps = (
        METHODS[method](problem, prob.theta0, f, g, max_cg=5)
        if method != "lbfgs"
        else METHODS[method](problem, prob.theta0, f, g, memory=5)
    )
    funs = [it.fun for it in itertools.islice(steps, 4)]
    options = {"memory": 5} if method == "lbfgs" else {"max_cg": 5}
    res = minimize(prob.objective, prob.theta0, method, max_iter=4, gtol=0.0, **options)
    assert funs == [h["fun"] for h in res.history]


# ------------------------------------------------------------------ options, before any work


class Counting:
    """Wrap an objective and count every evaluation (value, gradient, linearization, product, batch)."""

    def __init__(self, objective):
        self.inner, self.calls = objective, 0

    def __getattr__(self, name):
        val = getattr(self.inner, name)
        if name not in ("value", "grad", "value_and_grad", "at", "hvp", "gnvp", "batch"):
            return val

        def counted(*args, **kwargs):
            self.calls += 1
            return val(*args, **kwargs)

        return counted


@pytest.mark.parametrize("method", sorted(METHODS))
def test_a_misspelt_option_is_a_type_error_before_any_evaluation(problems, method):
    """``memroy=5`` names the typo and lists the method's options; the objective is never evaluated."""
    prob = problems["inverse_crime"]
    obj = Counting(prob.objective)
    with pytest.raises(TypeError, match="'memroy'") as err:
        minimize(obj, prob.theta0, method, memroy=5)
    assert all(name in str(err.value) for name in METHODS[method].option_names)
    assert obj.calls == 0


#: (method, options, exception, name the message must contain): one or more bad values per option family.
BAD_OPTIONS = [
    ("newton-cg", {"max_cg": 0}, ValueError, "max_cg"),
    ("newton-cg", {"max_cg": 2.5}, TypeError, "max_cg"),
    ("newton-cg", {"forcing_power": -1.0}, ValueError, "forcing_power"),
    ("newton-cg", {"max_forcing": 1.5}, ValueError, "max_forcing"),
    ("newton-cg", {"c1": 0.0}, ValueError, "c1"),
    ("newton-cg", {"max_backtracks": -1}, ValueError, "max_backtracks"),
    ("trust-ncg", {"initial_radius": -1.0}, ValueError, "initial_radius"),
    ("trust-ncg", {"initial_radius": 2e3}, ValueError, "initial_radius"),
    ("trust-ncg", {"eta": 0.3}, ValueError, "eta"),
    ("trust-ncg", {"min_radius": 0.0}, ValueError, "min_radius"),
    ("gauss-newton", {"damping": -1.0}, ValueError, "damping"),
    ("gauss-newton", {"damping": "x"}, TypeError, "damping"),
    ("levenberg-marquardt", {"mu0": 0.0}, ValueError, "mu0"),
    ("levenberg-marquardt", {"tau": -1.0}, ValueError, "tau"),
    ("levenberg-marquardt", {"max_mu": np.inf}, ValueError, "max_mu"),
    ("block-gauss-newton", {"max_cg": 0}, ValueError, "max_cg"),
    ("block-gauss-newton", {"c1": 1.5}, ValueError, "c1"),
    ("gd", {"step": "newton"}, ValueError, "step"),
    ("gd", {"learning_rate": -1.0}, ValueError, "learning_rate"),
    ("gd", {"step": "constant", "learning_rate": -1.0}, ValueError, "learning_rate"),
    ("gd", {"step": "wolfe", "c1": 0.5, "c2": 0.1}, ValueError, "c2"),
    ("gd", {"step": "diminishing", "decay": 0.0}, ValueError, "decay"),
    ("gd", {"max_evals": 0}, ValueError, "max_evals"),
    ("subgradient", {"step": "armijo"}, ValueError, "step"),
    ("subgradient", {"learning_rate": 0.0}, ValueError, "learning_rate"),
    ("subgradient", {"prox": "yes"}, TypeError, "prox"),
    ("sgd", {"learning_rate": -1.0}, ValueError, "learning_rate"),
    ("sgd", {"momentum": 1.0}, ValueError, "momentum"),
    ("sgd", {"nesterov": True}, ValueError, "nesterov"),
    ("sgd", {"batch_size": 0}, ValueError, "batch_size"),
    ("sgd", {"seed": -1}, ValueError, "seed"),
    ("sgd", {"full_eval": "no"}, TypeError, "full_eval"),
    ("sgd", {"augment": "shift"}, TypeError, "augment"),
    ("adam", {"b1": 1.0}, ValueError, "b1"),
    ("adam", {"b2": -0.1}, ValueError, "b2"),
    ("adam", {"eps": 0.0}, ValueError, "eps"),
    ("adam", {"learning_rate": "fast"}, TypeError, "learning_rate"),
    ("sr1", {"line_search": "exact"}, ValueError, "line_search"),
    ("sr1", {"r": -1.0}, ValueError, "r"),
    ("sr1", {"h0": 0.0}, ValueError, "h0"),
    ("bfgs", {"h0": -1.0}, ValueError, "h0"),
    ("bfgs", {"c2": 1.5}, ValueError, "c2"),
    ("bfgs", {"eps": -1.0}, ValueError, "eps"),
    ("lbfgs", {"memory": 0}, ValueError, "memory"),
    ("lbfgs", {"memory": 2.5}, TypeError, "memory"),
    ("lbfgs", {"line_search": "exact"}, ValueError, "line_search"),
    ("lbfgs", {"c1": 0.0}, ValueError, "c1"),
    ("varpro", {"outer": "newton"}, ValueError, "outer"),
    ("varpro", {"curvature": "full"}, ValueError, "curvature"),
    ("varpro", {"inner_reg": -1.0}, ValueError, "inner_reg"),
    ("varpro", {"max_inner": 0}, ValueError, "max_inner"),
    ("varpro", {"memory": 0}, ValueError, "memory"),
    ("kfac", {"kind": "fisher"}, ValueError, "kind"),
    ("kfac", {"mc_samples": 0}, ValueError, "mc_samples"),
    ("kfac", {"bias": "shared"}, ValueError, "bias"),
    ("kfac", {"min_mu": 0.0}, ValueError, "min_mu"),
    ("kfac", {"rescale": "yes"}, TypeError, "rescale"),
]


def test_bad_options_cover_every_method():
    assert {m for m, *_ in BAD_OPTIONS} == set(METHODS)


@pytest.mark.parametrize(
    "method,options,exc,name", BAD_OPTIONS, ids=[f"{m}-{'-'.join(o)}" for m, o, *_ in BAD_OPTIONS]
)
def test_bad_option_values_are_refused_before_any_evaluation(problems, method, options, exc, name):
    prob = problems["inverse_crime"]
    obj = Counting(prob.objective)
    with pytest.raises(exc, match=name):
        minimize(obj, prob.theta0, method, **options)
    assert obj.calls == 0


@pytest.mark.parametrize("method", [m for m in sorted(METHODS) if not applies(m, False)])
def test_objectives_a_method_cannot_use_are_refused_before_any_evaluation(problems, method):
    obj = Counting(problems["rosenbrock"].objective)
    with pytest.raises(TypeError):
        minimize(obj, problems["rosenbrock"].theta0, method)
    assert obj.calls == 0


def test_theta0_may_be_a_list():
    res = minimize(FunctionObjective(rosen, rosen_der), [-1.2, 1.0], "lbfgs", max_iter=3)
    assert res.nit == 3 and res.x.dtype == np.float64


# ------------------------------------------------------------------ gradient norms that underflow


def tiny_quadratic():
    """J(x) = ½ s‖x‖² with s = 1e-162 from x = 1.1·(1, 1, 1, 1): max |∇J_i| = 1.1e-162, ‖∇J‖ = 2.2e-162,
    whose square underflows (np.linalg.norm gives 0)."""
    s = 1e-162
    return FunctionObjective(
        lambda x: 0.5 * s * float(x @ x), lambda x: s * x, lambda x, v: s * v
    ), np.full(4, 1.1)


@pytest.mark.parametrize("method", [m for m in sorted(METHODS) if applies(m, False)])
def test_gtol_zero_never_claims_success_from_an_underflowing_norm(method):
    obj, x0 = tiny_quadratic()
    assert np.linalg.norm(obj.grad(x0)) == 0  # the trap
    res = minimize(obj, x0, method, gtol=0.0, max_iter=5)
    assert not res.success and res.status is not Status.GTOL, res
    assert res.grad_norm == pytest.approx(2.2e-162, rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_robust_norm_is_the_plain_norm_where_that_is_safe(rng, dtype):
    for scale in (1e-10, 1.0, 1e10):
        v = (scale * rng.standard_normal(50)).astype(dtype)
        assert robust_norm(v) == float(np.linalg.norm(v))  # bit for bit: results did not move


@pytest.mark.parametrize(
    "v,expected",
    [
        (np.full(4, 1.1e-162), 2.2e-162),
        (np.full(4, 1e200), 2e200),
        (np.array([3e-170, 4e-170]), 5e-170),
        (np.full(3, 1e-25, dtype=np.float32), np.sqrt(3) * 1e-25),
        (np.zeros(3), 0.0),
        (np.zeros(0), 0.0),
    ],
)
def test_robust_norm_scales_tiny_and_huge_vectors(v, expected):
    assert robust_norm(v) == pytest.approx(expected, rel=1e-6 if v.dtype == np.float32 else 1e-14)


def test_robust_norm_of_non_finite_vectors():
    assert robust_norm(np.array([1.0, np.inf])) == np.inf
    assert np.isnan(robust_norm(np.array([1.0, np.nan])))
