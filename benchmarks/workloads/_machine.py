"""Facts about the machine and the libraries of a benchmark run."""

import os
import platform
from importlib import metadata

__all__ = ["machine_facts", "load_average"]

PACKAGES = ("numnet", "numpy", "scipy", "scikit-learn", "torch", "jax", "jaxlib")


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _blas():
    from threadpoolctl import threadpool_info

    found = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return [
        {
            "library": i.get("internal_api"),
            "version": i.get("version"),
            "architecture": i.get("architecture"),
            "threads": i.get("num_threads"),
            "file": os.path.basename(i.get("filepath", "")),
        }
        for i in found
    ]


def _versions():
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def load_average():
    """The 1, 5 and 15-minute load averages (None where unavailable)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def machine_facts():
    """CPU model, core count, BLAS, Python and package versions, load average."""
    import numpy  # noqa: F401  (loads the BLAS that threadpoolctl reports)

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "blas": _blas(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": _versions(),
        "load_average_start": load_average(),
    }
