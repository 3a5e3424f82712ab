"""numnet.distributed under real MPI: ``mpiexec -n 2`` and ``-n 3`` (uneven shards) in subprocesses.

This file is also the program the ranks run (``python tests/distributed/test_distributed.py SCENARIO OUT DATA``):
each scenario computes on every rank, compares with one process holding all
rows, and rank 0 writes a JSON report that the tests below read. Every
launch has a timeout, so a hang fails the test instead of stalling the suite.
The MPI tests are skipped, with the reason, only when ``mpiexec`` or mpi4py
is missing (``make test`` installs both: the test extra has mpi4py and mpich).
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from numnet import Objective, minimize
from numnet.curvature import empirical_fisher, fisher, hutchinson
from numnet.distributed import (
    ONE_PROCESS_METHODS,
    DistributedObjective,
    fit_least_squares,
    fit_logistic,
    load_shard,
    shard_range,
)
from numnet.network import mlp
from numnet.random_features import NormalEquations, random_features
from numnet.random_features import fit_least_squares as fit_one
from numnet.random_features import fit_logistic as fit_logistic_one
from numnet.regularizers import Tikhonov

BIN = Path(sys.executable).parent
MPIEXEC = shutil.which("mpiexec", path=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
try:
    import mpi4py  # noqa: F401
except ImportError:
    mpi4py = None
needs_mpi = pytest.mark.skipif(
    MPIEXEC is None or mpi4py is None,
    reason="mpiexec or mpi4py not installed (pip install 'numnet[mpi]')",
)
N = 101
METHODS = ("newton-cg", "lbfgs", "gauss-newton", "levenberg-marquardt")
MORE = {
    "trust-ncg": {},
    "bfgs": {},
    "block-gauss-newton": {},
    "sgd": {"batch_size": 16, "learning_rate": 0.05},
}
"""Other methods the distributed objective runs, for a fixed number of iterations (30)."""


def _problem():
    """A planted 2-3-1 tanh regression with Tikhonov: every method converges to gtol 1e-10."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, 2))
    net = mlp(2, [3], 1, "tanh")
    y = net.forward(net.init(5), X)[0][:, 0] + 0.01 * rng.standard_normal(N)
    return net, X, y, Tikhonov(1e-2)


def _classification():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((N, 3))
    y = (X[:, 0] * X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    net = mlp(3, [4], 3, "tanh")
    return net, X, y, Tikhonov(1e-3, mask=~net.bias_mask())


def _rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


# ------------------------------------------------------------------ what the ranks run


def _worker_products(comm, report):
    """value/grad/hvp/gnvp and block products vs one process; batches; θ drift; an agreed failure."""
    net, X, y, reg = _classification()
    lo, hi = shard_range(N, comm.rank, comm.size)
    full = Objective(net, "cross_entropy", X, y, reg)
    dist = DistributedObjective(net, "cross_entropy", X[lo:hi], y[lo:hi], reg, comm=comm)
    theta, rng = net.init(1), np.random.default_rng(2)
    v, V = rng.standard_normal(net.n_params), rng.standard_normal((net.n_params, 3))
    lin, one = dist.at(theta), full.at(theta)
    report["products"] = {
        "value": _rel(dist.value(theta), full.value(theta)),
        "grad": _rel(dist.grad(theta), full.grad(theta)),
        "value_and_grad": _rel(dist.value_and_grad(theta)[1], full.value_and_grad(theta)[1]),
        "hvp": _rel(dist.hvp(theta, v), full.hvp(theta, v)),
        "gnvp": _rel(dist.gnvp(theta, v), full.gnvp(theta, v)),
        "lin.value": _rel(lin.value, one.value),
        "lin.grad": _rel(lin.grad, one.grad),
        "hvp_block": _rel(lin.hvp_block(V), np.stack([one.hvp(c) for c in V.T], 1)),
        "gnvp_block": _rel(lin.G @ V, np.stack([one.gnvp(c) for c in V.T], 1)),
        "batch": _rel(
            dist.batch(np.arange(5, N, 3)).grad(theta), full.batch(np.arange(5, N, 3)).grad(theta)
        ),
        "batch_slice": _rel(
            dist.batch(slice(10, 60)).value(theta), full.batch(slice(10, 60)).value(theta)
        ),
        "hutchinson": _rel(
            hutchinson(lin.G, 12, seed=3).estimate, hutchinson(one.G, 12, seed=3).estimate
        ),
        "empirical_fisher": _rel(lin.operator(empirical_fisher) @ V, empirical_fisher(one) @ V),
        "fisher": _rel(lin.operator(fisher).matvec(v), fisher(one).matvec(v)),
    }
    calls = dist.reducer.stats.calls
    lin.gnvp_block(V), lin.H @ V
    report["block_reductions"] = dist.reducer.stats.calls - calls
    report["n_samples"] = comm.allgather((dist.n_samples, dist.start, dist.n_local))
    drifted = theta + (1e-12 if comm.rank == 1 else 0.0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        report["drift"] = {
            "value": _rel(dist.value(drifted), full.value(theta)),
            "resyncs": dist.resyncs,
        }
    report["failure"] = comm.allgather(_failure(dist, theta, comm))
    report["v_differs"] = comm.allgather(_error_of(lambda: lin.hvp(v + comm.rank)))


def _failure(dist, theta, comm):
    """The error every rank raises when rank 1's forward pass fails (MemoryError)."""
    if comm.rank == 1:
        dist.local = _Failing(dist.local)
    return _error_of(lambda: dist.value_and_grad(theta))


class _Failing:
    def __init__(self, obj):
        self.obj = obj

    def at(self, theta):
        raise MemoryError("cannot allocate the activations")


def _error_of(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001
        return [type(exc).__name__, str(exc)]
    return None


def _worker_minimize(comm, report, methods):
    """minimize on the distributed objective vs one process; θ hashed after every iteration on every rank."""
    net, X, y, reg = _problem()
    lo, hi = shard_range(N, comm.rank, comm.size)
    full = Objective(net, "squared_error", X, y, reg)
    dist = DistributedObjective(net, "squared_error", X[lo:hi], y[lo:hi], reg, comm=comm)
    report["minimize"] = {}
    for method in methods:
        opts = {"solver": "cg"} if method in ("gauss-newton", "levenberg-marquardt") else {}
        seen = []
        one = minimize(full, net.init(0), method, max_iter=400, gtol=1e-10, **opts)
        res = minimize(
            dist,
            net.init(0),
            method,
            max_iter=400,
            gtol=1e-10,
            callback=lambda r: seen.append(r.x.tobytes()),
            **opts,
        )
        everyone = comm.allgather(seen)
        report["minimize"][method] = {
            "rel": _rel(res.x, one.x),
            "nit": [res.nit, one.nit],
            "success": bool(res.success and one.success),
            "identical": all(s == everyone[0] for s in everyone),
            "resyncs": dist.resyncs,
        }
    report["more"] = {}
    for method, opts in MORE.items():
        seen = []
        one = minimize(full, net.init(0), method, max_iter=30, **opts)
        res = minimize(
            dist,
            net.init(0),
            method,
            max_iter=30,
            callback=lambda r: seen.append(r.x.tobytes()),
            **opts,
        )
        everyone = comm.allgather(seen)
        report["more"][method] = {
            "rel": _rel(res.x, one.x),
            "nit": [res.nit, one.nit],
            "identical": all(s == everyone[0] for s in everyone) and len(seen) == res.nit,
        }


def _worker_elm(comm, report):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((N, 2))
    Y = np.stack([np.sin(3 * X[:, 0]), X[:, 0] * X[:, 1]], axis=1)
    features = random_features(2, 40, random_state=0)
    lo, hi = shard_range(N, comm.rank, comm.size)
    mine = fit_least_squares(features, X[lo:hi], Y[lo:hi], alpha=1e-3, batch_size=9, comm=comm)
    one = fit_one(features, X, Y, alpha=1e-3, solver="normal")
    report["elm"] = {
        "rel": _rel(mine, one),
        "identical": len(set(comm.allgather(mine.tobytes()))) == 1,
    }
    labels = (Y[:, 0] > 0).astype(int) + (Y[:, 1] > 0.5)
    res = fit_logistic(features, X[lo:hi], labels[lo:hi], 3, alpha=1e-3, tol=1e-10, comm=comm)
    ref = fit_logistic_one(features, X, labels, 3, alpha=1e-3, tol=1e-10)
    report["elm_logistic"] = {
        "rel": _rel(res.x, ref.x),
        "success": bool(res.success and ref.success),
        "identical": len(set(comm.allgather(res.x.tobytes()))) == 1,
    }


def _worker_shards(comm, report, data):
    """Each rank's shard of every file kind; rank 0 compares their concatenation with the whole table."""
    report["shards"] = {}
    for name, kwargs in (
        ("table.npy", {}),
        ("table.csv", {"target": "label"}),
        ("parts_npy", {}),
        ("parts_csv", {"target": 2}),
        ("mixed.csv", {}),
    ):
        shard = load_shard(data / name, comm=comm, **kwargs)
        parts = comm.gather((shard.X, shard.y, shard.start, shard.n_total), root=0)
        if comm.rank == 0:
            X, y = np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
            starts = [p[2] for p in parts]
            report["shards"][name] = {
                "X": X.tolist(),
                "y": y.tolist(),
                "y_kind": [p[1].dtype.kind for p in parts],
                "starts": starts,
                "n_total": parts[0][3],
            }


def _worker_uncaught(comm, scenario):
    """A library script whose rank 1 fails, uncaught: between collectives, or inside one (agreed)."""
    net, X, y, reg = _problem()
    lo, hi = shard_range(N, comm.rank, comm.size)
    dist = DistributedObjective(net, "squared_error", X[lo:hi], y[lo:hi], reg, comm=comm)
    theta = net.init(0)
    if comm.rank == 1 and scenario == "uncaught":
        raise RuntimeError("injected fault between collectives")
    if comm.rank == 1:
        dist.local = _Failing(dist.local)
    for _ in range(1000):  # rank 0 keeps reducing: it would wait forever for rank 1
        dist.value_and_grad(theta)


def _worker(scenario, out, data):
    from mpi4py import MPI

    comm, report = MPI.COMM_WORLD, {"size": MPI.COMM_WORLD.size}
    if scenario.startswith("uncaught"):
        return _worker_uncaught(comm, scenario)
    t0 = time.perf_counter()
    _worker_products(comm, report)
    _worker_elm(comm, report)
    _worker_shards(comm, report, Path(data))
    _worker_minimize(comm, report, METHODS)
    report["seconds"] = time.perf_counter() - t0
    if comm.rank == 0:
        Path(out).write_text(json.dumps(report))


# ------------------------------------------------------------------ launching


def _mpiexec(n, *command, timeout=90, env=None):
    """Run ``command`` on n ranks; the CompletedProcess (a timeout fails the test: that is a hang)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", **(env or {})}
    try:
        return subprocess.run(
            [MPIEXEC, "-n", str(n), *command],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"mpiexec -n {n} did not finish within {timeout} s (a hang): {exc.stderr}")


def _write_data(folder):
    """The files the shard scenario reads: .npy, CSV with header, folders of parts, mixed int/float targets."""
    rng = np.random.default_rng(4)
    table = np.column_stack([rng.standard_normal((N, 3)), rng.integers(0, 3, N)])
    np.save(folder / "table.npy", table)
    rows = table.tolist()  # Python floats: their repr reads back exactly
    lines = ["a,b,label,c"] + [f"{r[0]!r},{r[1]!r},{int(r[3])},{r[2]!r}" for r in rows]
    (folder / "table.csv").write_text("\n".join(lines) + "\n")
    (folder / "parts_npy").mkdir()
    for i, (lo, hi) in enumerate([(0, 7), (7, 60), (60, N)]):
        np.save(folder / "parts_npy" / f"part-{i}.npy", table[lo:hi])
    (folder / "parts_csv").mkdir()
    for i, (lo, hi) in enumerate([(0, 40), (40, N)]):
        (folder / "parts_csv" / f"part-{i}.csv").write_text(
            "\n".join(lines[1 + lo : 1 + hi]) + "\n"
        )
    mixed = [f"{r[0]!r},{(k if k < 90 else k + 0.5)!r}" for k, r in enumerate(rows)]
    (folder / "mixed.csv").write_text("\n".join(mixed) + "\n")
    return table


@pytest.fixture(scope="module", params=[2, 3], ids=["2 ranks", "3 ranks"])
def report(request, tmp_path_factory):
    if MPIEXEC is None or mpi4py is None:
        pytest.skip("mpiexec or mpi4py not installed (pip install 'numnet[mpi]')")
    folder = tmp_path_factory.mktemp(f"mpi{request.param}")
    _write_data(folder)
    out = folder / "report.json"
    done = _mpiexec(request.param, sys.executable, __file__, "all", str(out), str(folder))
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    result["folder"] = folder
    return result


@needs_mpi
def test_products_equal_one_process(report):
    for name, rel in report["products"].items():
        assert rel <= 1e-12, (name, rel)
    assert report["block_reductions"] == 2  # 3 products in one Allreduce, twice
    blocks = [shard_range(N, r, report["size"]) for r in range(report["size"])]
    assert [tuple(r) for r in report["n_samples"]] == [(N, lo, hi - lo) for lo, hi in blocks]


@needs_mpi
def test_theta_drift_is_found_and_rank0s_theta_used(report):
    assert report["drift"]["resyncs"] == 1
    assert report["drift"]["value"] <= 1e-12


@needs_mpi
def test_a_rank_failing_inside_a_product_fails_every_rank(report):
    for kind, text in report["failure"]:
        assert kind == "DistributedError"
        assert (
            text
            == f"rank 1 of {report['size']} failed: MemoryError: cannot allocate the activations"
        )
    for kind, text in report["v_differs"]:
        assert (kind, text) == (
            "ValueError",
            "the direction differs between ranks; pass the same vectors on every rank",
        )


@needs_mpi
def test_minimize_reaches_the_one_process_solution_with_identical_theta_on_every_rank(report):
    for method, r in report["minimize"].items():
        assert r["success"], (method, r)
        assert r["rel"] <= 1e-8, (method, r)
        assert r["identical"] and r["resyncs"] == 0, (method, r)
        assert abs(r["nit"][0] - r["nit"][1]) <= 2, (method, r)
    assert set(report["minimize"]) == set(METHODS)


@needs_mpi
def test_other_methods_take_the_one_process_steps(report):
    assert set(report["more"]) == set(MORE)
    for method, r in report["more"].items():
        assert r["identical"] and r["nit"][0] == r["nit"][1], (method, r)
        assert r["rel"] <= 1e-8, (method, r)


@needs_mpi
def test_distributed_elm_equals_one_process(report):
    assert report["elm"]["identical"]
    assert report["elm"]["rel"] <= 1e-10
    logistic = report["elm_logistic"]
    assert logistic["success"] and logistic["identical"] and logistic["rel"] <= 1e-8, logistic


@needs_mpi
def test_an_uncaught_exception_on_one_rank_ends_every_rank(tmp_path):
    done = _mpiexec(
        2, sys.executable, __file__, "uncaught", str(tmp_path / "r.json"), str(tmp_path), timeout=60
    )
    assert done.returncode != 0
    assert "RuntimeError: injected fault between collectives" in done.stderr, done.stderr
    assert (
        "rank 1 of 2 ended with an uncaught RuntimeError; stopping every rank (MPI_Abort)"
        in done.stderr
    )


@needs_mpi
def test_an_agreed_failure_uncaught_is_reported_once_and_ends_every_rank(tmp_path):
    done = _mpiexec(
        2,
        sys.executable,
        __file__,
        "uncaught-agreed",
        str(tmp_path / "r.json"),
        str(tmp_path),
        timeout=60,
    )
    assert done.returncode != 0
    assert (
        done.stderr.count("DistributedError: rank 1 of 2 failed: MemoryError: cannot allocate") == 1
    ), done.stderr
    assert "rank 0 of 2 ended with an uncaught DistributedError" in done.stderr


@needs_mpi
def test_shards_cover_the_file_once_in_order(report):
    from numnet.data_files import load_csv

    table = np.load(report["folder"] / "table.npy")
    for name in ("table.npy", "table.csv", "parts_npy", "parts_csv"):
        s = report["shards"][name]
        assert s["n_total"] == N and s["starts"][0] == 0, name
        np.testing.assert_array_equal(np.array(s["X"]), table[:, :3], err_msg=name)
        np.testing.assert_array_equal(np.array(s["y"]), table[:, 3], err_msg=name)
    assert set(report["shards"]["table.npy"]["y_kind"]) == {"i"}
    mixed = report["shards"][
        "mixed.csv"
    ]  # integral targets on the first ranks, fractional on the last
    assert set(mixed["y_kind"]) == {"f"}
    np.testing.assert_array_equal(np.array(mixed["y"]), load_csv(report["folder"] / "mixed.csv")[1])


# ------------------------------------------------------------------ numnet train under mpiexec

TRAIN = [
    "train",
    "peaks",
    "--n-samples",
    "300",
    "--hidden",
    "6",
    "--method",
    "newton-cg",
    "--max-iter",
    "4",
    "--quiet",
]
_INJECT = (
    "import sys, numnet.{module} as m\n"
    "calls = [0]\n"
    "original = m.{attr}\n"
    "def failing(*args, **kwargs):\n"
    "    calls[0] += 1\n"
    "    if calls[0] == 3:\n"
    "        raise {error}\n"
    "    return original(*args, **kwargs)\n"
    "m.{attr} = failing\n"
    "from numnet.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def _train_mpmd(rank1_code, args, timeout=90):
    """``mpiexec -n 1 numnet ARGS : -n 1 python -c CODE ARGS``: rank 1 runs numnet with a fault injected."""
    return _mpiexec(
        1,
        str(BIN / "numnet"),
        *args,
        ":",
        "-n",
        "1",
        sys.executable,
        "-c",
        rank1_code,
        *args,
        timeout=timeout,
    )


@needs_mpi
def test_train_under_mpiexec_saves_the_one_process_model(tmp_path):
    from numnet import io
    from numnet.cli import main

    assert main([*TRAIN, "--out", str(tmp_path / "one")]) == 0
    done = _mpiexec(2, str(BIN / "numnet"), *TRAIN, "--out", str(tmp_path / "two"))
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.count("wrote: ") == 1 and done.stdout.count("stopped after 4 iterations") == 1
    )
    assert done.stderr == ""
    (_, one), (_, two) = (
        io.load(tmp_path / "one" / "model.npz"),
        io.load(tmp_path / "two" / "model.npz"),
    )
    assert _rel(two, one) <= 1e-10
    reports = [json.loads((tmp_path / d / "train.json").read_text()) for d in ("one", "two")]
    assert reports[0]["scores"]["train"]["loss"] == pytest.approx(
        reports[1]["scores"]["train"]["loss"], rel=1e-9
    )


@needs_mpi
def test_train_resumed_under_mpiexec_continues_the_one_process_run(tmp_path):
    from numnet import io
    from numnet.cli import main

    args = [arg for arg in TRAIN if arg not in ("--max-iter", "4")]
    assert main([*args, "--max-iter", "8", "--out", str(tmp_path / "one")]) == 0
    first = _mpiexec(
        2,
        str(BIN / "numnet"),
        *args,
        "--max-iter",
        "4",
        "--checkpoint-every",
        "2",
        "--out",
        str(tmp_path / "two"),
    )
    assert first.returncode == 0, first.stderr
    done = _mpiexec(
        2, str(BIN / "numnet"), "train", "--resume", str(tmp_path / "two"), "--max-iter", "8"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("stopped after 8 iterations") == 1
    (_, one), (_, two) = (
        io.load(tmp_path / "one" / "model.npz"),
        io.load(tmp_path / "two" / "model.npz"),
    )
    assert _rel(two, one) <= 1e-10


@needs_mpi
def test_a_rank_failing_in_a_product_stops_every_rank_with_its_error(tmp_path):
    code = _INJECT.format(
        module="objective", attr="Objective.at", error="MemoryError('injected: no memory')"
    )
    done = _train_mpmd(code, [*TRAIN, "--out", str(tmp_path / "out")])
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("rank 1 of 2 failed: MemoryError: injected: no memory") == 1, (
        done.stderr
    )
    assert not (tmp_path / "out").exists()


@needs_mpi
def test_a_rank_failing_between_collectives_aborts_every_rank(tmp_path):
    code = _INJECT.format(
        module="optim.driver", attr="_Run.accept", error="RuntimeError('injected fault')"
    )
    done = _train_mpmd(code, [*TRAIN, "--out", str(tmp_path / "out")])
    assert done.returncode != 0
    assert "numnet: internal error: RuntimeError: injected fault" in done.stderr, done.stderr
    assert "(rank 1 of 2; the other ranks are still computing: stopping all of them)" in done.stderr
    assert not (tmp_path / "out").exists()


@needs_mpi
def test_train_refuses_a_method_that_reads_all_rows_under_mpiexec(tmp_path):
    args = [arg if arg != "newton-cg" else "kfac" for arg in TRAIN]
    done = _mpiexec(2, str(BIN / "numnet"), *args, "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert (
        done.stderr.count("numnet: error: --method kfac reads all the training rows in one process")
        == 1
    )
    assert "use one of newton-cg," in done.stderr and not (tmp_path / "out").exists()


@needs_mpi
def test_the_same_error_on_every_rank_is_printed_once(tmp_path):
    done = _mpiexec(
        2, str(BIN / "numnet"), "train", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "o")
    )
    assert done.returncode == 2
    assert done.stderr.count("numnet: error:") == 1 and "missing.csv" in done.stderr, done.stderr


def _scaling():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from workloads import scaling

    return scaling


@needs_mpi
def test_scaling_benchmark_smoke():
    scaling = _scaling()
    from workloads._timing import Settings

    cases = scaling.run(Settings(repeats=1, warmup=0, rounds=1, quick=True, pause=0.0), ["float64"])
    assert [c["workload"] for c in cases] == ["scaling_newton", "scaling_elm", "allreduce"]
    for case in cases[:2]:
        assert [r["impl"] for r in case["rows"]] == ["1 rank", "2 ranks"]
        assert 0 < case["efficiency"] and 0 <= case["comm_share"] < 1
    ar = cases[2]
    assert (
        ar["alpha_s"] >= 0
        and ar["beta_s_per_byte"] >= 0
        and set(ar["predictions"]) == {"8", "64", "512"}
    )
    assert "PREDICTED" in ar["notes"][2] and set(ar["predictions_cpu"]) == {"8", "64", "512"}
    p, reductions = (
        4 * 8 + 8 + 8 + 1,
        22,
    )  # the quick 4-8-1 network: at(θ), the gradient, 20 products
    assert ar["comm_per_iteration_s"] == pytest.approx(
        reductions * (ar["alpha_s"] + ar["beta_s_per_byte"] * 8 * p)
    )
    newton = cases[0]
    assert newton["efficiency"] == pytest.approx(
        newton["seconds"]["1"] / (2 * newton["seconds"]["2"])
    )
    assert (
        0 < ar["gradient_allreduce_fast_s"] <= ar["gradient_allreduce_s"] * 3
        and ar["alpha_fast_s"] >= 0
    )
    assert (
        0
        < ar["transfer_share"]
        == pytest.approx(22 * ar["gradient_allreduce_s"] / newton["seconds"]["2"])
    )


def test_cost_model_and_alpha_beta_fit():
    scaling = _scaling()
    nbytes = np.array([8, 800, 8e4, 8e6])
    alpha, beta = scaling.fit_alpha_beta(nbytes, 2e-6 + 1e-10 * nbytes)
    assert alpha == pytest.approx(2e-6, rel=1e-6) and beta == pytest.approx(1e-10, rel=1e-6)
    pred = scaling.predict(10.0, 10**6, 22, 1000, alpha, beta, ranks=(8, 64), n_target=10**9)
    assert pred[8] == pytest.approx(10.0 * 1000 / 8 + 22 * (2e-6 + 1e-10 * 8000), rel=1e-6)
    assert pred[64] < pred[8]


# ------------------------------------------------------------------ one process (no MPI)


def test_numnet_never_imports_mpi4py_without_mpiexec(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "MV2_", "PMIX_"))
    }
    code = (
        "import sys, numnet, numnet.distributed, numnet.cli, numnet.estimators, numnet.experiments\n"
        "from numnet.distributed import DistributedObjective, fit_least_squares, load_shard\n"
        "from numnet.network import mlp\n"
        "import numpy as np\n"
        "obj = DistributedObjective(mlp(2, [3], 1), 'squared_error', np.ones((4, 2)), np.ones(4))\n"
        "obj.value_and_grad(obj.net.init(0))\n"
        "numnet.cli.main(['train', 'xor', '--hidden', '3', '--max-iter', '2', '--quiet', '--out', sys.argv[1]])\n"
        "print(sorted(m for m in sys.modules if m.startswith('mpi4py')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "out")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"


def test_serial_objective_is_the_objective():
    net, X, y, reg = _classification()
    full, dist = (
        Objective(net, "cross_entropy", X, y, reg),
        DistributedObjective(net, "cross_entropy", X, y, reg),
    )
    theta, v = net.init(0), np.random.default_rng(0).standard_normal(net.n_params)
    assert dist.reducer.size == 1 and dist.n_samples == N
    assert dist.value(theta) == full.value(theta)
    np.testing.assert_array_equal(dist.grad(theta), full.grad(theta))
    np.testing.assert_array_equal(dist.hvp(theta, v), full.hvp(theta, v))
    np.testing.assert_array_equal(dist.gnvp(theta, v), full.gnvp(theta, v))


@pytest.mark.parametrize("method", ONE_PROCESS_METHODS)
def test_methods_that_read_the_samples_refuse_a_distributed_objective(method):
    net, X, y, reg = _classification()
    dist = DistributedObjective(net, "cross_entropy", X, y, reg)
    with pytest.raises(
        TypeError, match=f"method '{method}' reads the samples.*DistributedObjective.*one process"
    ):
        minimize(dist, net.init(0), method, max_iter=2)


@pytest.mark.parametrize("n, size", [(0, 3), (7, 3), (101, 2), (101, 3), (5, 8)])
def test_shard_range_splits_into_consecutive_blocks(n, size):
    blocks = [shard_range(n, r, size) for r in range(size)]
    assert blocks[0][0] == 0 and blocks[-1][1] == n
    assert all(a[1] == b[0] for a, b in zip(blocks, blocks[1:]))
    lengths = [hi - lo for lo, hi in blocks]
    assert max(lengths) - min(lengths) <= 1 and lengths == sorted(lengths, reverse=True)


def test_normal_equations_sums_add_up_over_row_blocks():
    rng = np.random.default_rng(0)
    Z, Y = rng.standard_normal((30, 4)), rng.standard_normal((30, 2))
    whole = NormalEquations(4, 2).update(Z, Y)
    parts = [NormalEquations(4, 2).update(Z[lo:hi], Y[lo:hi]) for lo, hi in [(0, 11), (11, 30)]]
    summed = [sum(s) for s in zip(*(p.sums() for p in parts))]
    rebuilt = NormalEquations.from_sums(*summed)
    np.testing.assert_allclose(rebuilt.solve(0.1), whole.solve(0.1), rtol=1e-12)
    with pytest.raises(ValueError, match="ZtZ must have shape"):
        NormalEquations.from_sums(np.eye(3), *summed[1:])


def test_serial_shard_loading_reads_everything(tmp_path):
    table = _write_data(tmp_path)
    shard = load_shard(tmp_path / "parts_npy", dtype=np.float32)
    assert (shard.start, shard.n_total) == (0, N) and shard.X.dtype == np.float32
    np.testing.assert_array_equal(shard.y, table[:, 3].astype(np.int64))
    with pytest.raises(ValueError, match="no such file or folder"):
        load_shard(tmp_path / "missing.npy")
    (tmp_path / "table.txt").write_text("1,2\n")
    with pytest.raises(ValueError, match="must end in .npy or .csv"):
        load_shard(tmp_path / "table.txt")
    with pytest.raises(ValueError, match="is not a column"):
        load_shard(tmp_path / "table.csv", target="nope")


if __name__ == "__main__":
    _worker(*sys.argv[1:4])
