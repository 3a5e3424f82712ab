"""Helpers the experiment tests share, imported as ``from experiment_support import …``.

The autouse fixtures ``_one_blas_thread`` (small matrices: one BLAS thread per module) and
``_close_figures`` (experiments return open matplotlib figures) take effect in the test files that
import them; ``assert_plain_json`` checks that an experiment's numbers are JSON without a fallback;
``THEORY`` maps the theory experiments' subcommands to their modules for the protocol tests.
"""

import json

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from numnet.experiments import (
    hessian_study,
    linear_pca,
    mle_noise,
    perceptron,
    symmetries,
    universal,
    xor,
)


THEORY = {
    "xor": xor,
    "perceptron": perceptron,
    "linear-pca": linear_pca,
    "symmetries": symmetries,
    "universal": universal,
    "mle-noise": mle_noise,
    "hessian-study": hessian_study,
}


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Small matrices: one BLAS thread is fastest and keeps the shared cores free."""
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(autouse=True)
def _close_figures():
    """Experiments return open matplotlib figures; close them after each test."""
    yield
    from numnet.plots import plt

    plt.close("all")


def assert_plain_json(numbers):
    """``numbers`` survive ``json.dumps`` with no fallback and come back as numbers, not strings."""

    def plain(x):
        if isinstance(x, np.ndarray):
            return x.tolist()
        if isinstance(x, np.generic):
            return x.item()
        raise TypeError(f"not JSON-able: {type(x).__name__}")

    back = json.loads(json.dumps(numbers, default=plain))
    assert set(back) == set(numbers)
    for key, value in back.items():
        assert not isinstance(value, str), key
