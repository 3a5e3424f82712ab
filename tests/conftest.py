"""Shared test configuration: reproducible hypothesis runs for the whole suite.

The property matrix itself (layers, activations, dtypes, losses,
regularizers) lives in ``registry.py`` so test modules import it by name.
"""

import os

import numpy as np
import pytest
from hypothesis import settings

# Deterministic CI: the same examples on every run, no example database on disk.
settings.register_profile("numnet", derandomize=True, database=None, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "numnet"))


@pytest.fixture
def rng():
    """A fresh seeded generator per test."""
    return np.random.default_rng(20240601)


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    """Tests use small matrices: one BLAS thread avoids thread start-up and oversubscription."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield
