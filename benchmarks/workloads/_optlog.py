"""What each optimization of the hot path bought, measured before and after its commit.

Each record was measured by timing the library as of the parent commit
and as of the commit itself, alternately in fresh subprocesses (three
rounds each), with one BLAS thread and process CPU time, so that the load
of the shared machine disturbs both sides alike. Numbers are medians in
milliseconds; the ratio is after / before. The benchmark network is the
784-1024-1024-10 tanh network of workloads 1–3 (batch 512); "small" is
1347 digits samples through a 64-64-10 tanh network.
"""

__all__ = ["OPTIMIZATIONS", "OPTLOG_SETUP"]

OPTLOG_SETUP = (
    "Each change was measured against its parent commit by alternating fresh subprocesses "
    "(3 rounds × 5–7 repeats each), one BLAS thread, process CPU time, on the shared machine "
    "(load average 3–8 during these measurements, so differences under ~5% are noise). "
    "Medians in ms, ratio after/before."
)

OPTIMIZATIONS = [
    {
        "commit": "dd4c6a3",
        "change": "Validate θ and X once per network call: `Sequential.forward` checks them and calls each "
        "layer's unchecked `_forward`; `Objective` leaves finiteness to the network (before: θ was "
        "scanned for NaN 2× whole and once per layer slice, every hidden activation once)",
        "measured": "value_and_grad f64 98.3 → 91.3 (0.93), f32 42.2 → 40.8 (0.97); hvp f64 198.8 → 188.4 (0.95); "
        "gnvp f64 138.4 → 134.7 (0.97), f32 66.8 → 63.3 (0.95)",
    },
    {
        "commit": "1110fc1",
        "change": "`Linearization.hvp` reuses the cotangents of the gradient's backward pass "
        "(`Sequential.backward` returns them, `rop(gZs=...)` takes them): one large matrix product "
        "fewer per HVP (9 → 8 for the benchmark network)",
        "measured": "linearized hvp f64 151.4 → 144.4 (0.95), f32 75.1 → 68.1 (0.91)",
    },
    {
        "commit": "43ffe2c",
        "change": "`Dense.tangent` writes X dW directly when the input direction is None (no zero array, "
        "no extra addition)",
        "measured": "within noise (one pass over a 512 × 1024 array out of ~100 ms)",
    },
    {
        "commit": "e7dd17e",
        "change": "The cotangents are also kept by the first `hvp` when no gradient was asked for, so every "
        "later product of the same linearization skips that backward pass (dense Hessians, CG)",
        "measured": "hessian_dense (16-48-24-4 tanh, p = 2092, 200 samples) f64 535.7 → 504.7 (0.94), "
        "f32 368.8 → 340.5 (0.92)",
    },
    {
        "commit": "0ff1de5",
        "change": "`SoftmaxCrossEntropy.value_and_grad` computes the exponentials once for both (before: "
        "value and grad each ran max, exp and sum); `grad` subtracts and scales in place",
        "measured": "small value_and_grad 2.28 → 2.17 (0.95); MLPClassifier(lbfgs) 22-iteration fit "
        "46.6 → 44.0 (0.94)",
    },
    {
        "commit": "numnet.tune_malloc",
        "change": "glibc returns the top of the heap to the OS after each float64 gradient (its ~36 MB of "
        "temporaries plus the 15 MB gradient exceed the dynamic trim threshold), so the next call "
        "page-faults ~3,600–7,700 times. `numnet.tune_malloc()` fixes glibc's mmap and trim thresholds "
        "(64 MiB, 1 GiB) through `mallopt`, as `MALLOC_MMAP_THRESHOLD_`/`MALLOC_TRIM_THRESHOLD_` would. "
        "It changes the allocator of the whole process, so the library never calls it on import; the "
        "`numnet` command and this runner call it for their own processes (every peer in the run "
        "gets it too)",
        "measured": "value_and_grad f64, 2 threads, wall: 53.0 → 43.3 ms (0.82), page faults per call 4,573 → 0; "
        "1 thread: 87.6 → 77.1 ms (0.88); float32 and one small-network gradient unchanged. Re-measured with "
        "process CPU time, one thread, 3 alternating fresh processes each: value_and_grad f64 "
        "239–250 → 175–222 ms; digits MLPClassifier(lbfgs) 22-iteration fit 127–136 → 103–112 ms",
    },
    {
        "commit": "(reverted)",
        "change": "tanh/sigmoid σ′, σ″ from Z written with `out=` (one temporary instead of two to four)",
        "measured": "no measurable change (value_and_grad f64 0.996, small 0.99); not committed",
    },
]
