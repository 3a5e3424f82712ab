"""Checkpoint and resume: every method continues bit for bit (issue 18, item 6).

For every method in ``METHODS`` (and option variants that change its state:
momentum, Nesterov, dropout keys, augmentation, L-BFGS outer loop, Schur
curvature, Wolfe searches, fixed step rules, the proximal step), N iterations
in one call equal N/2 iterations written to a checkpoint plus a fresh
``minimize(..., resume=)`` for the rest: x, fun, every history value (with
what the callback returned) and the evaluation counters, compared with
``np.array_equal`` (one BLAS thread, see conftest). Then interrupts (a
callback raising KeyboardInterrupt; real SIGINT and SIGTERM in a
subprocess), the periodic writes, the file format and the errors of a resume
that does not fit.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
from typing import NamedTuple

import numpy as np
import pytest

import numnet
from numnet.augment import Augment
from numnet.datasets import planted_softmax
from numnet.layers import Dense, Dropout
from numnet.network import Sequential
from numnet.objective import Objective
from numnet.optim import METHODS, FunctionObjective, Iterate, Method, Status, minimize, register
from numnet.optim.checkpoint import load_checkpoint
from numnet.regularizers import L1Penalty

N = 8
HISTORY_KEYS = ("nit", "fun", "grad_norm", "step", "inner", "x0")


def network(dtype=np.float64, n_samples=60):
    d = planted_softmax(n_samples=n_samples, n_features=5, n_classes=3, n_hidden=4, random_state=0)
    net = Sequential([Dense(5, 4, "tanh"), Dense(4, 3)])
    obj = Objective(net, "cross_entropy", d.X.astype(dtype), d.Y.astype(dtype))
    return obj, net.init(0).astype(dtype)


def dropout_network():
    d = planted_softmax(n_samples=40, n_features=5, n_classes=3, n_hidden=4, random_state=1)
    net = Sequential([Dense(5, 6, "tanh"), Dropout(6, 0.3, seed=1), Dense(6, 3)])
    return Objective(net, "cross_entropy", d.X, d.Y), net.init(0)


def images():
    rng = np.random.default_rng(0)
    net = Sequential([Dense(16, 5, "tanh"), Dense(5, 1)])
    return Objective(
        net, "squared_error", rng.random((30, 16)), rng.standard_normal((30, 1))
    ), net.init(0)


def lasso():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6))
    y = X @ np.array([1.5, 0.0, -2.0, 0.0, 0.0, 0.5]) + 0.1 * rng.standard_normal(40)
    net = Sequential([Dense(6, 1)])
    return Objective(
        net, "squared_error", X, y[:, None], regularizer=L1Penalty(0.1, mask=~net.bias_mask())
    ), np.zeros(7)


PROBLEMS = {
    "network": network,
    "float32": lambda: network(np.float32),
    "dropout": dropout_network,
    "images": images,
    "lasso": lasso,
}
STOCHASTIC = {"learning_rate": 0.1, "batch_size": 16}
DEFAULTS = {"sgd": STOCHASTIC, "adam": STOCHASTIC}
CASES = [("network", m, DEFAULTS.get(m, {})) for m in sorted(METHODS)] + [
    ("float32", "lbfgs", {}),
    ("float32", "adam", STOCHASTIC),
    ("float32", "levenberg-marquardt", {}),
    ("dropout", "sgd", {**STOCHASTIC, "momentum": 0.9, "nesterov": True}),
    ("dropout", "adam", {**STOCHASTIC, "seed": 3}),
    ("images", "sgd", {"batch_size": 8, "seed": 2, "augment": "augment", "full_eval": False}),
    ("network", "sgd", {**STOCHASTIC, "learning_rate": "schedule"}),
    ("lasso", "subgradient", {"prox": True, "step": "constant", "learning_rate": 0.1}),
    ("network", "gd", {"step": "wolfe"}),
    ("network", "gd", {"step": "diminishing", "learning_rate": 0.5}),
    ("network", "lbfgs", {"line_search": "armijo", "memory": 3}),
    ("network", "sr1", {"line_search": "wolfe"}),
    ("network", "bfgs", {"h0": 0.5}),
    ("network", "varpro", {"outer": "lbfgs", "memory": 3}),
    ("network", "varpro", {"curvature": "schur"}),
    ("network", "gauss-newton", {"damping": 1e-3}),
    ("network", "levenberg-marquardt", {"mu0": 1.0}),
    ("network", "trust-ncg", {"initial_radius": 0.1}),
    # p = 39 and 91: the defaults above run the dense path; these run CG, Marquardt's scaling, squared error
    ("network", "levenberg-marquardt", {"solver": "cg"}),
    ("network", "gauss-newton", {"solver": "cg"}),
    ("network", "levenberg-marquardt", {"scaling": "marquardt"}),
    ("images", "levenberg-marquardt", {"solver": "dense"}),
    ("images", "gauss-newton", {"damping": 1e-2}),
]


def resolve(options):
    """Options with the placeholders for objects that must be fresh per call."""
    out = dict(options)
    if out.get("augment") == "augment":
        out["augment"] = Augment((4, 4), shift=1, noise=0.05)
    if out.get("learning_rate") == "schedule":
        out["learning_rate"] = numnet.optim.schedules.square_summable(0.5, 20.0)
    return out


def record(result):
    """A callback whose return value goes into the history (compared too)."""
    assert result.status is Status.RUNNING
    return {"x0": float(result.x[0])}


def run(problem, method, options, **kwargs):
    obj, theta0 = PROBLEMS[problem]()
    return minimize(obj, theta0, method, gtol=0.0, callback=record, **resolve(options), **kwargs)


def history(result):
    return np.array([[h[k] for k in HISTORY_KEYS] for h in result.history])


def assert_same_run(a, b):
    """Bitwise equal iterate, value, history and counters."""
    np.testing.assert_array_equal(a.x, b.x)
    assert a.x.dtype == b.x.dtype and a.fun == b.fun and a.grad_norm == b.grad_norm
    np.testing.assert_array_equal(history(a), history(b))
    assert (a.nit, a.nfev, a.ngev, a.nhvp, a.status) == (b.nit, b.nfev, b.ngev, b.nhvp, b.status)


@pytest.mark.parametrize(
    "problem,method,options", CASES, ids=[f"{p}-{m}-{'-'.join(o)}" for p, m, o in CASES]
)
def test_resumed_run_equals_the_uninterrupted_run(tmp_path, problem, method, options):
    straight = run(problem, method, options, max_iter=N)
    first = run(problem, method, options, max_iter=N // 2, checkpoint=tmp_path / "run.npz")
    rest = run(problem, method, options, max_iter=N, resume=tmp_path / "run.npz")
    assert first.nit == N // 2 and straight.nit == N
    assert_same_run(straight, rest)


def test_a_run_resumed_twice_from_one_file_equals_the_uninterrupted_run(tmp_path):
    """3 + 3 + 2 iterations, each call resuming from and writing to the same file."""
    path = tmp_path / "run.npz"
    run("network", "adam", STOCHASTIC, max_iter=3, checkpoint=path)
    run("network", "adam", STOCHASTIC, max_iter=6, checkpoint=path, resume=path)
    assert load_checkpoint(path)["nit"] == 6
    last = run("network", "adam", STOCHASTIC, max_iter=N, checkpoint=path, resume=path)
    assert_same_run(run("network", "adam", STOCHASTIC, max_iter=N), last)


def test_every_method_is_covered():
    assert {m for _, m, _ in CASES} == set(METHODS)


@pytest.mark.parametrize("method", ["lbfgs", "sgd", "levenberg-marquardt", "varpro", "trust-ncg"])
def test_keyboard_interrupt_saves_the_last_completed_iteration(tmp_path, method):
    """A callback raising KeyboardInterrupt at iteration 5: the file holds iteration 4, and resuming
    it (the callback sees 5 again) ends where the uninterrupted run ends."""
    path, seen = tmp_path / "run.npz", []

    def interrupt(result):
        seen.append(result.nit)
        if result.nit == 5:
            raise KeyboardInterrupt
        return record(result)

    obj, theta0 = network()
    options = DEFAULTS.get(method, {})
    with pytest.raises(KeyboardInterrupt):
        minimize(
            obj,
            theta0,
            method,
            gtol=0.0,
            max_iter=N,
            callback=interrupt,
            checkpoint=path,
            checkpoint_every=100,
            **options,
        )
    assert seen == [1, 2, 3, 4, 5] and load_checkpoint(path)["nit"] == 4
    rest = minimize(
        obj,
        theta0,
        method,
        gtol=0.0,
        max_iter=N,
        callback=interrupt_free(seen),
        resume=path,
        **options,
    )
    assert seen[5:] == [5, 6, 7, 8]
    assert_same_run(run("network", method, options, max_iter=N), rest)


def interrupt_free(seen):
    def callback(result):
        seen.append(result.nit)
        return record(result)

    return callback


def test_checkpoint_every_k_iterations(tmp_path):
    """With checkpoint_every=3 the file holds iterations 3, 6, … while the run goes on, and the last at the end."""
    path, on_disk = tmp_path / "run.npz", []

    def look(result):
        on_disk.append(load_checkpoint(path)["nit"] if path.exists() else None)

    obj, theta0 = network()
    minimize(
        obj,
        theta0,
        "lbfgs",
        gtol=0.0,
        max_iter=8,
        callback=look,
        checkpoint=path,
        checkpoint_every=3,
    )
    assert on_disk == [None, None, None, 3, 3, 3, 6, 6] and load_checkpoint(path)["nit"] == 8


CHILD = textwrap.dedent("""
    import signal, sys, time
    import numpy as np
    # Ctrl-C raises KeyboardInterrupt even when this process inherited SIGINT ignored (a test run started
    # in the background of a non-interactive shell): Python then leaves the ignored disposition in place
    signal.signal(signal.SIGINT, signal.default_int_handler)
    sys.path.insert(0, {src!r})
    sys.path.insert(0, {tests!r})
    from test_resume import network
    from numnet.optim import minimize

    def tick(result):
        print(result.nit, flush=True)
        time.sleep(0.02)

    obj, theta0 = network()
    minimize(obj, theta0, "adam", gtol=0.0, max_iter=10**6, callback=tick, checkpoint={path!r},
             checkpoint_every=10**6, learning_rate=0.1, batch_size=16)
""")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_real_signal_saves_a_checkpoint_that_resumes_bitwise(tmp_path, signum):
    path = tmp_path / "run.npz"
    code = CHILD.format(
        src=os.path.dirname(os.path.dirname(numnet.__file__)),
        tests=os.path.dirname(__file__),
        path=str(path),
    )
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        while int(child.stdout.readline() or -1) < 5:
            assert child.poll() is None, child.stderr.read()
        child.send_signal(signum)
        _, err = child.communicate(timeout=60)
    finally:
        child.kill()
    assert child.returncode != 0 and "KeyboardInterrupt" in err
    nit = load_checkpoint(path)["nit"]
    assert nit >= 4  # the child printed 5 in iteration 5's callback: 4 iterations were complete
    obj, theta0 = network()
    options = dict(gtol=0.0, max_iter=nit + 3, learning_rate=0.1, batch_size=16)
    straight, rest = (
        minimize(obj, theta0, "adam", **options),
        minimize(obj, theta0, "adam", resume=path, **options),
    )
    np.testing.assert_array_equal(straight.x, rest.x)
    np.testing.assert_array_equal(
        [h["fun"] for h in straight.history], [h["fun"] for h in rest.history]
    )


# ------------------------------------------------------------------ the file


def test_the_file_is_plain_arrays_and_json_written_atomically(tmp_path):
    path = tmp_path / "run.npz"
    run("network", "sgd", STOCHASTIC, max_iter=3, checkpoint=path)
    assert os.listdir(tmp_path) == ["run.npz"]
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    assert all(a.dtype != object for a in arrays.values())
    meta = json.loads(bytes(arrays["__meta__"]))
    assert (meta["format"], meta["method"], meta["nit"], meta["n_params"]) == (
        "numnet-checkpoint",
        "sgd",
        3,
        39,
    )
    state = meta["state"]["fields"]
    assert state["rng"]["@dict"]["bit_generator"] == "PCG64" and "@array" in state["x"]
    assert [h["nit"] for h in meta["history"]] == [1, 2, 3]


def test_resume_at_the_iteration_limit_does_no_work(tmp_path):
    path = tmp_path / "run.npz"
    first = run("network", "lbfgs", {}, max_iter=4, checkpoint=path)
    again = run("network", "lbfgs", {}, max_iter=4, resume=path)
    assert again.status is Status.MAX_ITER and (again.nit, again.nfev) == (first.nit, first.nfev)
    np.testing.assert_array_equal(again.x, first.x)


@pytest.mark.parametrize(
    "change,match",
    [
        ({"method": "bfgs"}, "method 'lbfgs'"),
        ({"memory": 5}, "memory=5"),
        ({"problem": lambda: network(np.float32)}, "dtype"),
        ({"problem": lambda: network(n_samples=50)}, "n_samples"),
        ({"problem": images}, "n_params"),
    ],
)
def test_resume_refuses_a_checkpoint_that_does_not_fit(tmp_path, change, match):
    path = tmp_path / "run.npz"
    run("network", "lbfgs", {}, max_iter=2, checkpoint=path)
    obj, theta0 = change.get("problem", network)()
    options = {k: v for k, v in change.items() if k not in ("method", "problem")}
    with pytest.raises(ValueError, match=match):
        minimize(obj, theta0, change.get("method", "lbfgs"), resume=path, **options)


def test_resume_refuses_files_that_are_not_checkpoints(tmp_path):
    obj, theta0 = network()
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    np.savez(tmp_path / "plain.npz", x=theta0)
    for name in ("junk.npz", "plain.npz", "missing.npz"):
        with pytest.raises(ValueError, match="resume"):
            minimize(obj, theta0, "lbfgs", resume=tmp_path / name)


def test_checkpoint_argument_errors(tmp_path):
    obj, theta0 = network()
    with pytest.raises(TypeError, match="checkpoint"):
        minimize(obj, theta0, checkpoint=3)
    with pytest.raises(ValueError, match="checkpoint_every"):
        minimize(obj, theta0, checkpoint=tmp_path / "a.npz", checkpoint_every=0)
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="checkpoint"):
        minimize(obj, theta0, checkpoint=tmp_path / "file" / "a.npz")


def test_a_registered_generator_method_runs_but_cannot_be_checkpointed(tmp_path):
    """The interface of numnet ≤ 0.1 (a generator function) still registers and runs, without checkpoints."""

    def halving(problem, x, f, g, *, rate=0.1):
        while True:
            x = x - rate * g
            f, g = problem.value_and_grad(x)
            yield Iterate(x, float(f), g, step=rate)

    register("halving-test", halving)
    try:
        obj = FunctionObjective(lambda x: float(x @ x), lambda x: 2 * x)
        res = minimize(obj, np.ones(2), "halving-test", max_iter=3, rate=0.25)
        np.testing.assert_array_equal(res.x, [0.125, 0.125])
        with pytest.raises(TypeError, match="rat"):
            minimize(obj, np.ones(2), "halving-test", rat=0.25)
        with pytest.raises(ValueError, match="generator"):
            minimize(obj, np.ones(2), "halving-test", checkpoint=tmp_path / "a.npz")
    finally:
        METHODS.pop("halving-test")


class HeavyBallOptions(NamedTuple):
    """Heavy ball (a user's method): v ← βv − α∇J(x), x ← x + v."""

    rate: float = 0.1
    beta: float = 0.5

    def check(self):
        if not self.rate > 0:
            raise ValueError(f"rate must be positive, got {self.rate!r}")


class HeavyBallState(NamedTuple):
    x: np.ndarray
    g: np.ndarray
    velocity: np.ndarray


def _heavy_ball_init(problem, x, f, g, opts):
    return HeavyBallState(x, g, np.zeros_like(x))


def _heavy_ball_step(problem, state, opts):
    v = opts.beta * state.velocity - opts.rate * state.g
    f, g = problem.value_and_grad(state.x + v)
    return HeavyBallState(state.x + v, g, v), Iterate(state.x + v, float(f), g, step=opts.rate)


def test_a_registered_method_is_checked_checkpointed_and_resumed(tmp_path):
    register(Method("heavy-ball-test", HeavyBallOptions, _heavy_ball_init, _heavy_ball_step))
    try:
        with pytest.raises(ValueError, match="rate"):
            run("network", "heavy-ball-test", {"rate": -1.0}, max_iter=2)
        straight = run("network", "heavy-ball-test", {"beta": 0.9}, max_iter=N)
        run(
            "network", "heavy-ball-test", {"beta": 0.9}, max_iter=3, checkpoint=tmp_path / "run.npz"
        )
        assert_same_run(
            straight,
            run(
                "network", "heavy-ball-test", {"beta": 0.9}, max_iter=N, resume=tmp_path / "run.npz"
            ),
        )
    finally:
        METHODS.pop("heavy-ball-test")
