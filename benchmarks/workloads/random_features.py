"""Workload 6: random-features (extreme learning machine) least squares at n = 10⁵ and 10⁶ rows.

d = 20 inputs, m = 2000 tanh features, one output, ridge λ = 1e-6. numnet's
streaming fit (:func:`numnet.random_features.fit_least_squares` with the
normal equations accumulated over row batches of 10,000) is timed against
two fits on the whole feature matrix Z (n × m, formed in memory): a direct
NumPy solve of the augmented normal equations, and scikit-learn ``Ridge``
on precomputed features (only its ``fit`` is timed). The peers run at
n = 10⁵ only: at 10⁶, Z alone would take 16 GB in float64.

Peak memory is the tracemalloc peak (NumPy reports its buffers to
tracemalloc) of one extra, traced call; the data X and, for the peers, the
precomputed Z are allocated before tracing starts; a peer's peak is then
reported as Z plus what its fit adds (``fit_peak_mb`` alone), numnet's as
what its streaming fit adds. With one repeat (n = 10⁶) the traced call is also the
timed one; otherwise the times come from separate untraced calls. The matmul
limit is ``np.matmul`` on the Gram products the fit needs, Z_bᵀ Z_b for every batch b (2·n·m² FLOPs in all).
"""

import time
import tracemalloc

import numpy as np

from ._timing import compare, summary

__all__ = ["run", "NAME"]

NAME = "random_features"
D, M, ALPHA, BATCH = 20, 2000, 1e-6, 10_000
SIZES = (100_000, 1_000_000)
QUICK = {"sizes": (4_000, 16_000), "m": 200, "batch": 2_000}


def _data(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, D)).astype(dtype)
    return X, np.sin(X.sum(axis=1) / np.sqrt(D)).astype(dtype)


def _numnet(features, X, y, batch):
    from numnet.random_features import fit_least_squares

    return lambda: fit_least_squares(features, X, y, alpha=ALPHA, solver="normal", batch_size=batch)


def _numpy_direct(Z, y):
    """Solve (Z̃ᵀZ̃ + nλD) W̃ = Z̃ᵀy with Z̃ = [Z 1] (intercept not penalized), from the whole Z."""

    def fit():
        n, m = Z.shape
        G = np.empty((m + 1, m + 1), dtype=Z.dtype)
        np.matmul(Z.T, Z, out=G[:m, :m])
        G[m, :m] = G[:m, m] = Z.sum(axis=0)
        G[m, m] = n
        G[np.arange(m), np.arange(m)] += n * ALPHA
        return np.linalg.solve(G, np.append(Z.T @ y, y.sum()))

    return fit


def _ridge(Z, y):
    from sklearn.linear_model import Ridge

    return lambda: Ridge(alpha=len(y) * ALPHA).fit(Z, y)


def peak_bytes(fn):
    """Bytes allocated at the peak of one call of ``fn``, beyond what was live before it."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _batch_parts(features, X, batch, settings):
    """Seconds per batch of: the features, np.matmul Z_bᵀZ_b (the limit) and BLAS syrk (what the fit runs)."""
    import scipy.linalg.blas

    Xb = X[:batch]
    Zb = features.transform(Xb)
    Z64 = Zb.astype(np.float64)
    C = np.zeros((Zb.shape[1],) * 2, order="F")
    fns = {
        "features": lambda: features.transform(Xb),
        "np.matmul gram": lambda: Zb.T @ Zb,
        "syrk (float64)": lambda: scipy.linalg.blas.dsyrk(
            1.0, Z64.T, beta=1.0, c=C, lower=1, overwrite_c=1
        ),
    }
    return {k: v["min_s"] for k, v in compare(fns, settings).items()}, Xb.shape[0]  # fastest calls


def _row(impl, role, fn, settings, repeats):
    """Peak memory from one traced call; times from ``repeats − 1`` untraced calls (or the traced one)."""
    t0 = settings.now()
    peak = peak_bytes(fn)
    traced_s = settings.now() - t0
    times = []
    for _ in range(repeats - 1):
        t0 = settings.now()
        fn()
        times.append(settings.now() - t0)
    return {
        "impl": impl,
        "role": role,
        "peak_mb": peak / 2**20,
        "timed_traced": not times,
        **summary(times or [traced_s]),
    }


def _case(n, dtype, settings, with_peers):
    from numnet.random_features import random_features

    m, batch = (QUICK["m"], QUICK["batch"]) if settings.quick else (M, BATCH)
    X, y = _data(n, dtype)
    feats = random_features(D, m, "tanh", scale=0.5, random_state=0, dtype=dtype)
    repeats = 1 if n >= 1_000_000 else min(settings.repeats, 3) + 1
    rows = [
        _row(
            "numnet fit_least_squares (streaming)",
            "numnet",
            _numnet(feats, X, y, batch),
            settings,
            repeats,
        )
    ]
    if with_peers:
        t0 = time.perf_counter()
        Z = feats.transform(X)
        features_s = time.perf_counter() - t0
        rows += [
            _row(
                "NumPy direct normal equations (whole Z)",
                "peer",
                _numpy_direct(Z, y),
                settings,
                repeats,
            ),
            _row("sklearn Ridge on precomputed Z", "peer", _ridge(Z, y), settings, repeats),
        ]
        for r in rows[1:]:  # forming Z is not in their time, but Z is in their memory
            r.update(
                features_s=features_s,
                fit_peak_mb=r["peak_mb"],
                peak_mb=r["peak_mb"] + Z.nbytes / 2**20,
            )
        del Z
    parts, rows_per_batch = _batch_parts(feats, X, batch, settings)
    limit = parts["np.matmul gram"] * n / rows_per_batch
    return {
        "workload": NAME,
        "dtype": np.dtype(dtype).name,
        "n": n,
        "m": m,
        "d": D,
        "batch": batch,
        "problem": f"n={n:,}, d={D}, m={m}, batch {batch:,}",
        "main": rows[0]["impl"],
        "rows": rows,
        "per_batch_s": parts,
        "gram_matmul_s": limit,
        "fraction_of_np_matmul": limit / rows[0]["median_s"],
    }


def run(settings, dtypes):
    """n = 10⁵ in every dtype (with peers); n = 10⁶ in float64 only (numnet alone)."""
    small, large = QUICK["sizes"] if settings.quick else SIZES
    cases = [_case(small, dtype, settings, with_peers=True) for dtype in dtypes]
    if "float64" in [np.dtype(d).name for d in dtypes]:
        cases.append(_case(large, np.float64, settings, with_peers=False))
    return cases
