"""Benchmark workloads: each module has ``NAME`` and ``run(settings, dtypes) -> list of cases``.

A *case* is one workload at one dtype: a dict with ``workload``, ``dtype``,
``main`` (the numnet implementation whose ratios are reported) and ``rows``
(one per implementation: ``impl``, ``role`` in {"numnet", "peer"} and the
timing summary of :func:`_timing.summary`), plus workload-specific fields.
Modules whose numnet feature is missing are skipped by capability, not by
name (see :func:`available`).
"""

import importlib

__all__ = ["WORKLOADS", "load"]

WORKLOADS = (
    "products",
    "training",
    "random_features",
    "hessian",
    "conv",
    "fitting",
    "classification",
    "product_ratios",
    "import_time",
    "scaling",
    "curvature",
)


def load(name):
    """Import the workload module ``name``; return None if numnet lacks what it measures."""
    if name not in WORKLOADS:
        raise ValueError(f"workload must be one of {WORKLOADS}, got {name!r}")
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ImportError as exc:
        if (exc.name or "").startswith("numnet"):
            return None
        raise
