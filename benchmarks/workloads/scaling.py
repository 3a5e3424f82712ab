"""Workload 13: strong scaling over MPI ranks, the cost of an ``Allreduce``, and a cost model.

On n = 10⁶ samples (``--quick``: 2·10⁴) this machine runs, under
``mpiexec -n K`` for K = 1 and 2, one BLAS thread per rank:

- one Newton-CG iteration of a :class:`~numnet.distributed.DistributedObjective`
  (a 16-32-1 tanh network, squared error): ``at(θ)``, the gradient and 20
  Gauss-Newton products — 22 reductions;
- one least-squares ELM fit (:func:`numnet.distributed.fit_least_squares`,
  m = 300 random features: stream, reduce ZᵀZ and ZᵀY, solve, broadcast).

Each rank generates only its own rows (in fixed chunks, so the global data
are the same for every K). The strong-scaling efficiency is T₁ / (K·T_K);
the communication share is the time the ranks spend inside the reductions
(which includes waiting for the slowest rank) over the iteration time; its
transfer part is R times the measured ``Allreduce`` time of p numbers. With
two ranks the run also times ``Allreduce`` over message sizes from 8 B to
8 MiB and fits time = α + β·bytes, which gives the cost model

    T(K, n) = compute(n) / K + R · (α + β · 8p)

(R reductions of p float64 numbers per iteration); its rows for K = 8, 64,
512 and n = 10⁹ are predictions, not measurements.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from ._timing import summary

__all__ = ["run", "NAME", "available", "measure", "predict", "fit_alpha_beta", "FULL", "QUICK"]

NAME = "scaling"
BENCH = Path(__file__).resolve().parent.parent
FULL = {
    "n": 1_000_000,
    "widths": (16, 32, 1),
    "products": 20,
    "n_hidden": 300,
    "repeats": 3,
    "sizes": [8 * 4**k for k in range(11)],
    "allreduce_reps": 2000,
    "ranks": (1, 2),
}
QUICK = {
    "n": 20_000,
    "widths": (4, 8, 1),
    "products": 20,
    "n_hidden": 30,
    "repeats": 1,
    "sizes": [8, 8 * 64, 8 * 4096],
    "allreduce_reps": 20,
    "ranks": (1, 2),
}
PREDICT_RANKS, PREDICT_N = (8, 64, 512), 10**9
TARGET_EFFICIENCY, TARGET_COMM = 0.8, 0.05
_CHUNK = 8192
_CHILD = (
    "import json, sys; sys.path.insert(0, sys.argv[1]); from workloads.scaling import measure; "
    "r = measure(json.loads(sys.argv[2])); r is None or print('RESULT ' + json.dumps(r))"
)


# ------------------------------------------------------------------ on every rank


def _rows(lo, hi, d, seed):
    """Rows lo … hi−1 of a synthetic table, drawn in fixed chunks (the same rows whatever the split)."""
    chunks = [
        np.random.default_rng([seed, c]).standard_normal((_CHUNK, d + 1))
        for c in range(lo // _CHUNK, -(-hi // _CHUNK))
    ]
    table = np.concatenate(chunks)[lo - (lo // _CHUNK) * _CHUNK :][: hi - lo]
    X = table[:, :d]
    return X, np.tanh(X @ np.linspace(-1, 1, d)) + 0.1 * table[:, d]


def _timed(comm, fn, stats, repeats):
    """[(seconds, seconds inside collectives, CPU seconds)] of ``repeats`` calls started together.

    Wall times are rank 0's; the CPU time is the largest over the ranks
    (``time.process_time``: unaffected by other processes taking the cores,
    but counting the spinning of a rank that waits inside a collective).
    """
    from mpi4py import MPI

    out = []
    for _ in range(repeats):
        comm.Barrier()
        c0, t0, p0 = stats.seconds, time.perf_counter(), time.process_time()
        fn()
        wall, coll, cpu = time.perf_counter() - t0, stats.seconds - c0, time.process_time() - p0
        out.append((wall, coll, comm.allreduce(cpu, op=MPI.MAX)))
    return out


def _newton(comm, spec):
    from numnet.distributed import DistributedObjective, shard_range
    from numnet.network import mlp

    lo, hi = shard_range(spec["n"], comm.rank, comm.size)
    X, y = _rows(lo, hi, spec["widths"][0], 0)
    net = mlp(spec["widths"][0], list(spec["widths"][1:-1]), spec["widths"][-1], "tanh")
    obj = DistributedObjective(net, "squared_error", X, y, 1e-4, comm=comm)
    theta = net.init(0)
    V = np.random.default_rng(1).standard_normal((net.n_params, spec["products"]))

    def iteration(products=V.shape[1]):
        lin = obj.at(theta)
        lin.grad  # noqa: B018
        for j in range(products):
            lin.gnvp(V[:, j])

    iteration(2)  # warm-up: first touch of the activations' memory
    calls = obj.reducer.stats.calls
    runs = _timed(comm, iteration, obj.reducer.stats, spec["repeats"])
    reductions = (obj.reducer.stats.calls - calls) // spec["repeats"]
    return {"p": net.n_params, "reductions": reductions, "runs": runs, "n_local": hi - lo}


def _elm(comm, spec):
    from numnet.distributed import Reducer, fit_least_squares, shard_range
    from numnet.random_features import random_features

    lo, hi = shard_range(spec["n"], comm.rank, comm.size)
    X, y = _rows(lo, hi, spec["widths"][0], 0)
    features = random_features(X.shape[1], spec["n_hidden"], random_state=0)
    reducer = Reducer(
        comm
    )  # counts the fit's reduction and broadcast (and the wait for rank 0's solve)

    def fit(rows=slice(None)):
        fit_least_squares(features, X[rows], y[rows], alpha=1e-6, batch_size=10_000, comm=reducer)

    fit(slice(0, 10_000))  # warm-up
    return {
        "m": spec["n_hidden"],
        "runs": _timed(comm, fit, reducer.stats, spec["repeats"]),
        "n_local": hi - lo,
    }


def _allreduce(comm, sizes, max_reps=2000):
    """Seconds per in-place float64 ``Allreduce`` of each size (bytes): ``(typical, fast)``.

    typical: the median over 3 batches of the batch's mean time per call;
    fast: the 10th percentile of the single calls, on rank 0 (the cost
    when both ranks happen to hold a core, as on an idle machine).
    """
    from mpi4py import MPI

    typical, fast = [], []
    for nbytes in sizes:
        buf = np.ones(nbytes // 8)
        reps = int(min(max_reps, max(10, 2e8 / nbytes)))
        per_call, single = [], np.empty(3 * reps)
        for b in range(3):
            comm.Barrier()
            t = time.perf_counter()
            for i in range(reps):
                comm.Allreduce(MPI.IN_PLACE, buf)
                single[b * reps + i] = time.perf_counter()
            single[b * reps : (b + 1) * reps] -= np.r_[t, single[b * reps : (b + 1) * reps - 1]]
            per_call.append((time.perf_counter() - t) / reps)
        typical.append(float(np.median(per_call)))
        fast.append(float(np.percentile(single, 10)))
    return typical, fast


def measure(spec):
    """On every rank: the workloads of ``spec``; rank 0 returns the results (others None)."""
    from mpi4py import MPI
    from threadpoolctl import threadpool_limits

    comm = MPI.COMM_WORLD
    limiter = threadpool_limits(limits=1)  # noqa: F841  (one BLAS thread per rank)
    result = {"size": comm.size, "newton": _newton(comm, spec), "elm": _elm(comm, spec)}
    if comm.size > 1:
        reps = spec["allreduce_reps"]
        typical, fast = _allreduce(comm, spec["sizes"], reps)
        grad = _allreduce(comm, [8 * result["newton"]["p"]], reps)
        result["allreduce"] = {
            "bytes": spec["sizes"],
            "seconds": typical,
            "fast_seconds": fast,
            "gradient": grad[0][0],
            "gradient_fast": grad[1][0],
        }
    return result if comm.rank == 0 else None


# ------------------------------------------------------------------ in the runner


def _launch(spec, ranks):
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }
    mpiexec = Path(sys.executable).parent / "mpiexec"
    cmd = [
        str(mpiexec) if mpiexec.exists() else "mpiexec",
        "-n",
        str(ranks),
        sys.executable,
        "-c",
        _CHILD,
        str(BENCH),
        json.dumps(spec),
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=3600, check=False)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(f"mpiexec -n {ranks} failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def fit_alpha_beta(nbytes, seconds):
    """(α, β) ≥ 0 of time = α + β·bytes: non-negative least squares on relative errors (every size alike)."""
    from scipy.optimize import nnls

    b, t = np.asarray(nbytes, float), np.asarray(seconds, float)
    scale = np.array([1.0, 1e-9])  # α in seconds, β in seconds per GB: columns of similar size
    (alpha, beta), _ = nnls(np.stack([1 / t, b / t], axis=1) * scale, np.ones_like(t))
    return float(alpha * scale[0]), float(beta * scale[1])


def predict(compute_s, n, reductions, p, alpha, beta, ranks=PREDICT_RANKS, n_target=PREDICT_N):
    """Predicted iteration seconds T(K) = compute·(n_target/n)/K + R·(α + β·8p) for each K."""
    comm = reductions * (alpha + beta * 8 * p)
    return {k: compute_s * (n_target / n) / k + comm for k in ranks}


def _row(impl, runs, extra):
    return {"impl": impl, "role": "numnet", **summary([run[0] for run in runs]), "extra": extra}


def _medians(results, key, i):
    return {r["size"]: float(np.median([run[i] for run in r[key]["runs"]])) for r in results}


def _scaling_case(workload, problem, results, key, what):
    t, c, cpu = (_medians(results, key, i) for i in range(3))
    rows = []
    for r in results:
        k = r["size"]
        rows.append(
            _row(
                f"{k} rank{'s' if k > 1 else ''}",
                r[key]["runs"],
                f"efficiency {t[1] / (k * t[k]):.0%} (CPU time {cpu[k]:.3g} s: {cpu[1] / (k * cpu[k]):.0%}), "
                f"in collectives {c[k] / t[k]:.1%} ({c[k] * 1e3:.2f} ms)",
            )
        )
    k = max(t)
    eff, share, cpu_eff = t[1] / (k * t[k]), c[k] / t[k], cpu[1] / (k * cpu[k])
    notes = [
        f"{what}: strong-scaling efficiency 1 → {k} ranks {eff:.0%} by wall clock, {cpu_eff:.0%} by CPU "
        f"time (target ≥ {TARGET_EFFICIENCY:.0%}: {'met' if eff >= TARGET_EFFICIENCY else 'NOT met'} by wall "
        f"clock); time inside collectives {share:.2%} of the {k}-rank run (target ≤ {TARGET_COMM:.0%}: "
        f"{'met' if share <= TARGET_COMM else 'NOT met'})"
    ]
    return {
        "workload": workload,
        "dtype": "float64",
        "problem": problem,
        "main": rows[-1]["impl"],
        "rows": rows,
        "ratio": "this / main",
        "efficiency": eff,
        "cpu_efficiency": cpu_eff,
        "comm_share": share,
        "seconds": {str(k): v for k, v in t.items()},
        "cpu_seconds": {str(k): v for k, v in cpu.items()},
        "collective_seconds": {str(k): v for k, v in c.items()},
        "notes": notes,
    }


def _allreduce_case(two, newton_case, newton):
    ar = two["allreduce"]
    alpha, beta = fit_alpha_beta(ar["bytes"], ar["seconds"])
    alpha_fast, beta_fast = fit_alpha_beta(ar["bytes"], ar["fast_seconds"])
    p, reductions = newton["p"], newton["reductions"]
    rows = [
        {
            "impl": f"Allreduce {b:,} B",
            "role": "numnet",
            "median_s": s,
            "min_s": s,
            "iqr_s": 0.0,
            "n": 3,
            "extra": f"model {(alpha + beta * b) * 1e6:.1f} µs; fastest 10% of calls ≤ {f * 1e6:.1f} µs",
        }
        for b, s, f in zip(ar["bytes"], ar["seconds"], ar["fast_seconds"])
    ]
    t1, cpu1 = newton_case["seconds"]["1"], newton_case["cpu_seconds"]["1"]
    pred = predict(t1, newton["n"], reductions, p, alpha, beta)
    pred_cpu = predict(cpu1, newton["n"], reductions, p, alpha, beta)
    comm = reductions * (alpha + beta * 8 * p)
    transfer = reductions * ar["gradient"]  # measured Allreduce time of p numbers, R times
    inside, t2 = newton_case["collective_seconds"]["2"], newton_case["seconds"]["2"]
    bandwidth = f"{1 / beta / 1e9:.2f} GB/s" if beta > 0 else "bandwidth not resolved"
    notes = [
        f"Fit over the sizes: α = {alpha * 1e6:.2f} µs, β = {beta * 1e9:.3f} ns/byte "
        f"({bandwidth}); a gradient-sized vector (p = {p}, {8 * p:,} B) takes "
        f"{ar['gradient'] * 1e6:.1f} µs per Allreduce. From the 10th percentile of single calls (both ranks "
        f"on a core, as on an idle machine): α = {alpha_fast * 1e6:.2f} µs, β = {beta_fast * 1e9:.3f} ns/byte, "
        f"{ar['gradient_fast'] * 1e6:.1f} µs for the gradient.",
        f"Of the {inside * 1e3:.1f} ms the 2-rank Newton-CG iteration spends inside reductions "
        f"({inside / t2:.2%} of it), R × that Allreduce time is {transfer * 1e3:.2f} ms "
        f"({transfer / t2:.3%}); the rest is a rank waiting for the slower one.",
        f"Cost model T(K) = compute/K + R·(α + β·8p) with compute = {t1:.3g} s per Newton-CG iteration "
        f"at n = {newton['n']:,} on one rank, scaled linearly to n = 10⁹, R = {reductions}: PREDICTED "
        + ", ".join(f"K = {k}: {s:.3g} s" for k, s in pred.items())
        + f"; with compute = the 1-rank CPU time {cpu1:.3g} s (less sensitive to other processes on the "
        "machine): "
        + ", ".join(f"K = {k}: {s:.3g} s" for k, s in pred_cpu.items())
        + f". The communication term R·(α + β·8p) is {comm * 1e3:.3g} ms of each "
        "(predictions from the α, β of this machine's shared memory, not measurements).",
    ]
    return {
        "workload": "allreduce",
        "dtype": "float64",
        "problem": "2 ranks on this machine, in-place float64 sum",
        "main": rows[0]["impl"],
        "rows": rows,
        "alpha_s": alpha,
        "beta_s_per_byte": beta,
        "gradient_allreduce_s": ar["gradient"],
        "alpha_fast_s": alpha_fast,
        "beta_fast_s_per_byte": beta_fast,
        "gradient_allreduce_fast_s": ar["gradient_fast"],
        "predictions": {str(k): s for k, s in pred.items()},
        "predictions_cpu": {str(k): s for k, s in pred_cpu.items()},
        "comm_per_iteration_s": comm,
        "transfer_share": transfer / t2,
        "notes": notes,
    }


def available():
    """Whether mpi4py imports and an ``mpiexec`` is on hand (this venv's, or on PATH)."""
    import importlib.util
    import shutil

    local = Path(sys.executable).parent / "mpiexec"
    return importlib.util.find_spec("mpi4py") is not None and (
        local.exists() or shutil.which("mpiexec")
    )


def run(settings, dtypes):
    """Three cases (float64 only): Newton-CG iteration, ELM fit (1 and 2 ranks), Allreduce cost and model.

    No case when mpi4py or mpiexec is missing (``pip install 'numnet[mpi]'``).
    """
    if not available():
        print("scaling: skipped (needs mpi4py and mpiexec: pip install 'numnet[mpi]')")
        return []
    spec = dict(QUICK if settings.quick else FULL)
    if not settings.quick:
        spec["repeats"] = max(settings.repeats // 2, 3)
    results = [_launch(spec, k) for k in spec["ranks"]]
    w = spec["widths"]
    for r in results:
        r["newton"]["n"] = spec["n"]
    newton = _scaling_case(
        "scaling_newton",
        f"one Newton-CG iteration (gradient + {spec['products']} GN "
        f"products), {'-'.join(map(str, w))} tanh network, n = {spec['n']:,}, 1 thread per rank",
        results,
        "newton",
        "Newton-CG iteration",
    )
    elm = _scaling_case(
        "scaling_elm",
        f"least-squares ELM fit, m = {spec['n_hidden']}, n = {spec['n']:,}, 1 thread per rank",
        results,
        "elm",
        "ELM fit",
    )
    two = next(r for r in results if r["size"] == 2)
    return [newton, elm, _allreduce_case(two, newton, results[0]["newton"])]
