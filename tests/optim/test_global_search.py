"""Global strategies (numnet.optim.global_search): stochastic kick, multi-start, basin hopping.

Each strategy is checked on a function with a known bad local minimum (it
must leave it), for reproducibility from its seed, for the bookkeeping of the
inner runs (history, runs, finals, counters), and for refusing bad options
before any evaluation.
"""

import numpy as np
import pytest

from numnet.datasets import planted_softmax
from numnet.layers import Dense
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.optim import FunctionObjective, Status, minimize
from numnet.optim.global_search import (
    GlobalResult,
    StallTest,
    alpha_schedule,
    basin_hopping,
    metropolis,
    multistart,
    start_family,
    stochastic_kick,
    tikhonov_continuation,
)


def tilted_double_well(counter=None):
    """J(x) = Σ (x_i² − 1)² + 0.3 Σ x_i: local minima near x_i = ±1, the global one at x_i ≈ −1.04."""

    def fun(x):
        if counter is not None:
            counter.append(1)
        return float(np.sum((x**2 - 1) ** 2) + 0.3 * np.sum(x))

    return FunctionObjective(
        fun, lambda x: 4 * x * (x**2 - 1) + 0.3, lambda x, v: (12 * x**2 - 4) * v
    )


def global_value(dim):
    x = minimize(tilted_double_well(), -np.ones(dim), "newton-cg", gtol=1e-12).x
    return tilted_double_well().value(x)


STRATEGIES = {
    "kick": lambda obj, x0, **kw: stochastic_kick(
        obj, x0, "newton-cg", kick=1.0, anneal=1.0, max_kicks=30, max_iter=2000, **kw
    ),
    "basin-hopping": lambda obj, x0, **kw: basin_hopping(
        obj, x0, "newton-cg", step=1.0, temperature=0.5, n_hops=30, **kw
    ),
    "multistart": lambda obj, x0, **kw: multistart(
        obj, lambda rng: rng.uniform(-2, 2, x0.size), "newton-cg", n_starts=30, **kw
    ),
}


def test_the_local_method_alone_stays_in_the_bad_minimum():
    res = minimize(tilted_double_well(), np.ones(3), "newton-cg", gtol=1e-12)
    assert res.success and np.all(res.x > 0.9)
    assert res.fun > global_value(3) + 1.0


@pytest.mark.parametrize("name", STRATEGIES)
def test_a_strategy_leaves_the_bad_minimum_and_stops_at_the_target(name):
    target = global_value(2) + 1e-9
    res = STRATEGIES[name](tilted_double_well(), np.ones(2), seed=1, target=target)
    assert isinstance(res, GlobalResult)
    assert res.reached and res.success and res.stop == "target"
    assert res.fun <= target and np.all(res.x < -1.0)
    assert len(res.runs) > 1  # the first run alone (from the bad basin) cannot do it


@pytest.mark.parametrize("name", STRATEGIES)
def test_same_seed_same_result_bit_for_bit_other_seed_other_path(name):
    runs = [STRATEGIES[name](tilted_double_well(), np.ones(4), seed=s) for s in (3, 3, 4)]
    assert np.array_equal(runs[0].x, runs[1].x) and np.array_equal(runs[0].finals, runs[1].finals)
    assert [h["fun"] for h in runs[0].history] == [h["fun"] for h in runs[1].history]
    assert not np.array_equal(runs[0].finals, runs[2].finals)


@pytest.mark.parametrize("name", STRATEGIES)
def test_every_inner_run_is_in_the_history(name):
    res = STRATEGIES[name](tilted_double_well(), np.ones(2), seed=0)
    assert [r["run"] for r in res.runs] == list(range(len(res.runs)))
    assert res.nit == len(res.history) == sum(r["nit"] for r in res.runs)
    assert [h["nit"] for h in res.history] == list(range(1, res.nit + 1))
    for r in res.runs:
        own = [h for h in res.history if h["run"] == r["run"]]
        assert [h["run_nit"] for h in own] == list(range(1, r["nit"] + 1))
        if own:
            assert own[-1]["fun"] >= r["fun"] - 1e-15  # a run's best is at most its last record
    np.testing.assert_array_equal(res.finals, [r["fun"] for r in res.runs])
    assert res.fun == res.finals.min()
    times = [h["time"] for h in res.history]
    assert times == sorted(times) or name == "multistart"


def test_kick_restarts_from_the_best_point_with_annealed_sizes():
    res = stochastic_kick(
        tilted_double_well(), np.ones(3), "newton-cg", kick=0.5, anneal=0.5, max_kicks=4, seed=0
    )
    assert [r["kick"] for r in res.runs] == [0.0, 0.5, 0.25, 0.125, 0.0625]
    best = np.minimum.accumulate(res.finals)
    assert np.all(np.diff(best) <= 0)


def test_stall_test_stops_a_run_that_no_longer_decreases():
    flat = FunctionObjective(lambda x: float(1.0 + 1e-12 * np.sum(x**2)), lambda x: 2e-12 * x)
    stall = StallTest(window=5, rtol=1e-6, target=None)
    res = minimize(
        flat, np.ones(2), "gd", callback=stall, max_iter=100, gtol=0.0, learning_rate=1.0
    )
    assert stall.why == "stall" and res.status is Status.CALLBACK and res.nit == 6
    assert stall.step_length > 0


def test_metropolis_accepts_downhill_and_uphill_with_the_boltzmann_probability():
    assert metropolis(1.0, 2.0, 0.0, 0.999) and not metropolis(2.0, 1.0, 0.0, 0.0)
    u = np.random.default_rng(0).random(20000)
    rate = np.mean([metropolis(1.5, 1.0, 0.5, ui) for ui in u])
    assert rate == pytest.approx(np.exp(-1.0), abs=0.01)


def test_basin_hopping_records_acceptance_and_the_chain():
    res = basin_hopping(
        tilted_double_well(), np.ones(2), "lbfgs", step=0.8, temperature=0.0, n_hops=10, seed=0
    )
    assert res.runs[0]["accepted"]
    chain = [r["current_fun"] for r in res.runs]
    assert np.all(np.diff(chain) <= 0)  # T = 0: greedy, the chain never goes up
    for r, prev in zip(res.runs[1:], chain):
        assert r["accepted"] == (r["fun"] <= prev)


def test_multistart_is_the_same_in_parallel_and_reports_every_final():
    def init(rng):
        return rng.uniform(-2, 2, 3)

    one = multistart(tilted_double_well(), init, "newton-cg", n_starts=6, seed=5)
    two = multistart(tilted_double_well(), init, "newton-cg", n_starts=6, seed=5, n_jobs=2)
    assert np.array_equal(one.finals, two.finals) and np.array_equal(one.x, two.x)
    assert one.finals.size == 6 and [r["nit"] for r in one.runs] == [r["nit"] for r in two.runs]
    first = minimize(tilted_double_well(), start_family(init, 6, 5)[0], "newton-cg", gtol=1e-10)
    assert one.finals[0] == first.fun


def test_multistart_starts_are_seeded_per_index_and_truncated_at_the_target():
    starts = start_family(lambda rng: rng.standard_normal(2), 4, 7)
    again = start_family(lambda rng: rng.standard_normal(2), 6, 7)
    for a, b in zip(starts, again):
        np.testing.assert_array_equal(a, b)  # start i does not depend on how many there are
    X = np.array([[1.0, 1.0], [-1.0, -1.0], [1.0, -1.0]])
    res = multistart(
        tilted_double_well(), X, "newton-cg", n_starts=3, target=global_value(2) + 1e-9
    )
    assert res.stop == "target" and len(res.runs) == 2 and res.reached
    with pytest.raises(ValueError, match="n_starts=4"):
        multistart(tilted_double_well(), X, "newton-cg", n_starts=4)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda o, x: stochastic_kick(o, x, window=0), "window"),
        (lambda o, x: stochastic_kick(o, x, kick=-1.0), "kick"),
        (lambda o, x: stochastic_kick(o, x, anneal=1.5), "anneal"),
        (lambda o, x: stochastic_kick(o, x, scale="huge"), "scale"),
        (lambda o, x: stochastic_kick(o, x, max_kicks=-1), "max_kicks"),
        (lambda o, x: stochastic_kick(o, x, target=float("nan")), "target"),
        (lambda o, x: stochastic_kick(o, x, "no-such-method"), "method"),
        (lambda o, x: stochastic_kick(o, x, "gauss-newton", max_cg=0), "max_cg"),
        (lambda o, x: basin_hopping(o, x, temperature=-1.0), "temperature"),
        (lambda o, x: basin_hopping(o, x, step=0.0), "step"),
        (lambda o, x: basin_hopping(o, x, n_hops=-2), "n_hops"),
        (lambda o, x: multistart(o, lambda rng: x, n_jobs=0), "n_jobs"),
        (lambda o, x: multistart(o, lambda rng: x, n_starts=0), "n_starts"),
    ],
)
def test_bad_options_are_refused_before_any_evaluation(call, match):
    calls = []
    with pytest.raises((ValueError, TypeError), match=match):
        call(tilted_double_well(calls), np.ones(2))
    assert calls == []


def regularized_double_well(alpha):
    """The tilted double well plus ½α‖x‖² (α = 0: the well itself)."""
    well = tilted_double_well()
    return FunctionObjective(
        lambda x: well.value(x) + 0.5 * alpha * float(x @ x),
        lambda x: well.grad(x) + alpha * x,
        lambda x, v: well.hvp(x, v) + alpha * v,
    )


def test_alpha_schedule_ends_at_zero():
    np.testing.assert_allclose(alpha_schedule(1e-2, 0.1, 1e-5)[:-1], [1e-2, 1e-3, 1e-4, 1e-5])
    assert alpha_schedule(1e-2, 0.1, 1e-5)[-1] == 0.0 and alpha_schedule(1.0, 0.5, 2.0 / 3)[
        -2:
    ] == [1.0, 0.0]


def test_continuation_follows_the_path_from_the_convex_end_to_the_global_minimum():
    """α₀ = 10 makes J + ½α x² convex with its minimizer at x ≈ −0.3/6 < 0: the path leads to the global
    minimum x ≈ −1.04 although the start x = 1 lies in the bad basin."""
    res = tikhonov_continuation(
        regularized_double_well,
        np.ones(2),
        "newton-cg",
        alpha0=10.0,
        factor=0.3,
        alpha_min=1e-4,
        stage_iter=50,
        target=global_value(2) + 1e-9,
    )
    assert res.reached and np.all(res.x < -1.0)
    alphas = [r["alpha"] for r in res.runs]
    assert alphas == alpha_schedule(10.0, 0.3, 1e-4)
    assert res.finals[-1] == res.fun and np.all(
        res.finals >= global_value(2) - 1e-12
    )  # J itself, unregularized
    assert (
        res.finals[0] > res.finals[-1] + 0.5
    )  # the first stage ends near θ = 0, far above the minimum


def test_continuation_reaches_the_planted_network_where_gauss_newton_stops():
    """Planted softmax model with 4 tanh units: dense Gauss-Newton from start 0 stops at excess 3e-2 (a unit saturates
    into a step function, its weights grow without bound); continuation from the same start reaches it."""
    d = planted_softmax(200, 10, 4, 4, random_state=0)
    net = Sequential([Dense(10, 4, "tanh"), Dense(4, 4, bias=False)])
    obj = Objective(net, "cross_entropy", d.X, d.Y)
    e_true = obj.value(np.concatenate([d.W1.ravel(), d.b, d.W2.ravel()]))
    plain = minimize(obj, net.init(0), "gauss-newton", max_iter=150, gtol=1e-12, solver="dense")
    assert plain.fun - e_true > 1e-2 and np.abs(plain.x).max() > 100
    res = tikhonov_continuation(
        lambda a: Objective(net, "cross_entropy", d.X, d.Y, a or None),
        net.init(0),
        "gauss-newton",
        max_iter=400,
        target=e_true + 1e-8,
        solver="dense",
    )
    assert res.reached and np.abs(res.x).max() < 10
    alphas = [r["alpha"] for r in res.runs]
    assert alphas == alpha_schedule(1e-3, 0.1, 1e-10)[: len(alphas)] and res.stop == "target"


@pytest.mark.parametrize(
    "options, match",
    [
        ({"alpha0": 0.0}, "alpha0"),
        ({"factor": 1.5}, "factor"),
        ({"alpha0": 1e-3, "alpha_min": 1e-2}, "alpha_min"),
        ({"stage_iter": 0}, "stage_iter"),
    ],
)
def test_continuation_refuses_bad_options_before_any_evaluation(options, match):
    made = []
    with pytest.raises(ValueError, match=match):
        tikhonov_continuation(
            lambda a: made.append(a) or regularized_double_well(a), np.ones(2), **options
        )
    assert made == []


def test_unknown_local_option_names_the_option():
    with pytest.raises(TypeError, match="no_such_option"):
        basin_hopping(tilted_double_well(), np.ones(2), "lbfgs", no_such_option=1)


def test_global_strategies_on_a_small_inverse_crime():
    """Planted softmax model, 6 hidden units: Gauss-Newton (dense solver, named) from some starts stops in a
    spurious minimum, a multi-start over the same family of starts reaches the planted one (excess < 1e-6)."""
    d = planted_softmax(300, 6, 4, 6, random_state=2)
    net = Sequential([Dense(6, 6, "tanh"), Dense(6, 4, bias=False)])
    obj = Objective(net, "cross_entropy", d.X, d.Y)
    e_true = obj.value(np.concatenate([d.W1.ravel(), d.b, d.W2.ravel()]))
    res = multistart(
        obj,
        lambda rng: net.init(rng),
        "gauss-newton",
        n_starts=8,
        seed=0,
        max_iter=150,
        target=e_true + 1e-6,
        solver="dense",
    )
    assert res.reached and res.fun - e_true < 1e-6
    assert len(res.runs) == 3 and np.all(
        res.finals[:2] - e_true > 1e-3
    )  # starts 0 and 1 end in spurious minima
