"""numnet.malloc: glibc thresholds set for the process, page faults of repeated gradients gone."""

import os
import subprocess
import sys
import textwrap

import pytest

from numnet.malloc import _glibc, tune_malloc

# A tuned child process (the allocator setting is process-wide): page faults per
# value_and_grad of a 256-512-512-10 tanh network after two warm-up calls.
_CHILD = textwrap.dedent("""
    import resource
    import numpy as np
    from numnet import Dense, Objective, Sequential, tune_malloc
    assert tune_malloc() is True
    rng = np.random.default_rng(0)
    net = Sequential([Dense(256, 512, "tanh"), Dense(512, 512, "tanh"), Dense(512, 10)])
    obj = Objective(net, "cross_entropy", rng.standard_normal((1024, 256)), rng.integers(0, 10, 1024))
    theta = net.init(0)
    obj.value_and_grad(theta); obj.value_and_grad(theta)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(5):
        obj.value_and_grad(theta)
    print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 5)
""")


_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")},
    "OMP_NUM_THREADS": "1",
}


def _tuned_faults():
    out = subprocess.run(
        [sys.executable, "-c", _CHILD],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        env=_ENV,
    )
    return float(out.stdout.strip())


@pytest.mark.skipif(_glibc() is None, reason="mallopt is glibc's")
def test_tuned_process_reuses_memory_instead_of_faulting():
    # Each call allocates ~20 MB of temporaries; a fresh page costs one fault per 4 KiB.
    assert _tuned_faults() < 100


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"mmap_threshold": -1}, ValueError),
        ({"trim_threshold": 1.5}, TypeError),
        ({"mmap_threshold": True}, TypeError),
    ],
)
def test_bad_thresholds_are_named(kwargs, error):
    name = next(iter(kwargs))
    with pytest.raises(error, match=name):
        tune_malloc(**kwargs)
