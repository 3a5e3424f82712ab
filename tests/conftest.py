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


@pytest.fixture(autouse=True, scope="session")
def _signals_as_in_a_terminal():
    """SIGINT raises KeyboardInterrupt here and in child processes, however the suite was started.

    A shell without job control starts background commands with SIGINT ignored, and an
    ignored signal stays ignored across exec: Python then installs no KeyboardInterrupt
    handler and the tests of interrupted runs would wait for an interrupt that never comes.
    A handled signal is reset to its default on exec, so children behave as from a terminal.
    """
    import signal

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    if previous[signal.SIGINT] == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if previous[signal.SIGTERM] == signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    for s, handler in previous.items():
        signal.signal(s, handler)
