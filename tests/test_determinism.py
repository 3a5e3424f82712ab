"""Same seed, same thread count: bitwise-identical results in separate processes (issue 18).

Each run happens in a fresh interpreter with the BLAS/OpenMP thread count
fixed through the environment before NumPy loads; two runs must agree to the
last bit (SHA-256 of the result arrays) for several ``minimize`` methods, a
stochastic one with mini-batches and dropout included, and for estimator
fits. Results may differ between thread counts (a BLAS reduction splits its
sums differently), which is why the thread count is part of the promise.
"""

import json
import os
import subprocess
import sys

import pytest

CHILD = r"""
import hashlib, json, sys
import numpy as np
import numnet as nn
from numnet.datasets import peaks, digits

def digest(*arrays):
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()

X, y = peaks(n_samples=300, random_state=1)
net = nn.Sequential([nn.Dense(2, 24, "tanh"), nn.Dropout(24, 0.1, seed=3), nn.Dense(24, 24, "tanh"),
                     nn.Dense(24, int(y.max()) + 1)])
obj = nn.Objective(net, "cross_entropy", X, y, regularizer=1e-4)
theta0 = net.init(0)
out = {}
for method, options in [("lbfgs", {}), ("newton-cg", {}), ("gauss-newton", {}), ("trust-ncg", {}),
                        ("adam", {"batch_size": 32, "seed": 5}), ("sgd", {"batch_size": 32, "seed": 5})]:
    res = nn.minimize(obj, theta0, method, max_iter=15, **options)
    out[method] = digest(res.x, np.array([res.fun]))
Xd, yd = digits()
Xd, yd = Xd[:400], yd[:400]
clf = nn.MLPClassifier(hidden_layer_sizes=(32,), solver="lbfgs", max_iter=30, random_state=0).fit(Xd, yd)
out["MLPClassifier(lbfgs)"] = digest(clf.theta_, clf.predict_proba(Xd))
clf = nn.MLPClassifier(hidden_layer_sizes=(32,), solver="adam", max_iter=3, random_state=0).fit(Xd, yd)
out["MLPClassifier(adam)"] = digest(clf.theta_)
elm = nn.ELMRegressor(n_hidden=50, random_state=0).fit(Xd, Xd[:, :3])
out["ELMRegressor"] = digest(elm.theta_)
# products large enough that a multi-threaded BLAS splits them (the digits, 64-512-512-10)
Xd, yd = digits()
wide = nn.Sequential([nn.Dense(64, 512, "tanh"), nn.Dense(512, 512, "tanh"), nn.Dense(512, 10)])
wide_obj = nn.Objective(wide, "cross_entropy", Xd, yd)
res = nn.minimize(wide_obj, wide.init(0), "lbfgs", max_iter=5)
out["lbfgs 64-512-512-10"] = digest(res.x, wide_obj.hvp(res.x, res.x))
json.dump(out, sys.stdout)
"""

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
)


def run_child(threads):
    """Digests of every result, computed in a new process limited to ``threads`` BLAS threads."""
    env = dict(os.environ, **{name: str(threads) for name in THREAD_VARIABLES})
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module", params=[1, 2], ids=["1 thread", "2 threads"])
def first_run(request):
    return request.param, run_child(request.param)


def test_same_seed_and_threads_give_bitwise_identical_results(first_run):
    threads, digests = first_run
    assert run_child(threads) == digests


def test_the_runs_are_not_trivially_equal(first_run):
    """Every method and estimator produced its own result (nothing is skipped or constant)."""
    digests = first_run[1]
    assert len(set(digests.values())) == len(digests) == 10
