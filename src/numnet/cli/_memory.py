"""Memory a run will need, estimated before any large array exists, against the memory available.

A run whose arrays cannot fit is refused up front with the estimate and the
memory available (``numnet: error: ...``, exit 2) instead of dying in
``MemoryError`` after its data are loaded. The estimates count the arrays
that dominate and are lower bounds: a run they admit may still be tight.
"""

import contextlib
import os
import resource
from math import prod

from ._parser import CommandError

__all__ = [
    "available_bytes",
    "format_bytes",
    "require_memory",
    "require_training_memory",
    "training_bytes",
    "floats_per_row",
    "parameter_vectors",
    "dense_path_runs",
    "dense_floats",
]

#: Parameter-sized vectors a method keeps (iterate, gradient, direction, trial point, best point, the
#: saved copy, ...); L-BFGS adds its 2 × 10 pairs, Newton-type methods their CG vectors.
_VECTORS = {
    "lbfgs": 28,
    "newton-cg": 14,
    "gauss-newton": 14,
    "trust-ncg": 14,
    "levenberg-marquardt": 14,
    "block-gauss-newton": 14,
    "varpro": 14,
}
#: Dense p × p matrices of the full-memory quasi-Newton methods (H and the outer products of an update).
_MATRICES = {"bfgs": 4, "sr1": 3}
#: Methods with a dense small-p path (``solver="auto"`` may pick it; :mod:`numnet.optim.linear_solver`).
_DENSE_METHODS = ("gauss-newton", "levenberg-marquardt")
#: Activations kept per layer and row: the output, σ′ and σ″ of the forward cache and a backward
#: cotangent; second-order methods add a tangent pass of the same size.
_FIRST_ORDER_CACHE, _SECOND_ORDER_CACHE = 4, 8


def format_bytes(n):
    """``n`` bytes in the largest binary unit that keeps the number ≥ 1 ("74.5 GiB")."""
    units, k = ("B", "KiB", "MiB", "GiB", "TiB", "PiB"), 0
    while n >= 1024 and k < len(units) - 1:
        n, k = n / 1024, k + 1
    return f"{n:.0f} B" if k == 0 else f"{n:.1f} {units[k]}"


def _meminfo_available():
    """MemAvailable of /proc/meminfo in bytes, or None where it cannot be read."""
    with contextlib.suppress(OSError, ValueError, IndexError), open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return None


def _cgroup_available():
    try:
        limit = open("/sys/fs/cgroup/memory.max").read().strip()
        used = int(open("/sys/fs/cgroup/memory.current").read())
    except (OSError, ValueError):
        return None
    return None if limit == "max" else max(int(limit) - used, 0)


def _address_space_available():
    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        used = 0
    return max(soft - used, 0)


def available_bytes():
    """Memory this process can still allocate: the least of the free RAM (``MemAvailable``), the
    cgroup's headroom and the address-space limit; None where none of them is known."""
    known = [
        b
        for b in (_meminfo_available(), _cgroup_available(), _address_space_available())
        if b is not None
    ]
    return min(known) if known else None


def require_memory(nbytes, what):
    """Raise :class:`CommandError` when ``nbytes`` exceed the available memory; ``what`` names the run."""
    free = available_bytes()
    if free is not None and nbytes > free:
        raise CommandError(
            f"{what} needs about {format_bytes(nbytes)} of memory, but {format_bytes(free)} "
            "is available"
        )


def floats_per_row(layer):
    """Output floats one row produces through ``layer`` (every layer of a network, im2col columns and the
    states of every step of a recurrent layer included): what a forward cache keeps per row."""
    if hasattr(layer, "widths"):  # a Graph: every node's output
        return sum(layer.widths.values())
    if hasattr(layer, "layers"):  # a Sequential
        return sum(floats_per_row(child) for child in layer.layers)
    n = layer.d_out
    if hasattr(layer, "filters") and hasattr(layer, "kernel_size"):  # convolution: im2col columns
        n += layer.d_out // layer.filters * prod(_tuple(layer.kernel_size)) * layer.input_shape[-1]
    if hasattr(layer, "n_steps") and hasattr(layer, "d_h"):  # recurrent: every state h_t
        n = max(n, layer.n_steps * layer.d_h)
    return n


def _tuple(k):
    return tuple(k) if isinstance(k, (tuple, list)) else (k,)


def parameter_vectors(method):
    """Parameter-sized vectors ``method`` keeps at once (see :data:`_VECTORS`); first-order methods 8."""
    return _VECTORS.get(method, 8)


def dense_path_runs(net, method, solver="auto"):
    """Whether ``method`` with ``solver`` forms the dense Gauss-Newton matrix for ``net`` (the rule of
    :func:`numnet.optim.linear_solver.solver_kind` with the default ``dense_max_params`` and ``max_cg``)."""
    if method not in _DENSE_METHODS or solver == "cg":
        return False
    if solver == "dense":
        return True
    from ..curvature.outer import has_fast_jacobian
    from ..optim.gauss_newton import GaussNewtonOptions
    from ..optim.linear_solver import DENSE_MAX_PARAMS

    p = net.n_params
    return p * net.d_out <= DENSE_MAX_PARAMS and (
        has_fast_jacobian(net) or p <= GaussNewtonOptions().max_cg
    )


def dense_floats(net, n_rows):
    """Floats of the dense path (:mod:`numnet.optim.dense`): G, its Cholesky copy, the eigenvectors and a
    scaled copy (4 p²), and the output Jacobian with its stacked factor (2 of n_rows · n_outputs · p
    numbers, at most :data:`~numnet.optim.dense.CHUNK_ENTRIES` each when built in row chunks)."""
    from ..optim.dense import CHUNK_ENTRIES

    p, row = net.n_params, net.n_params * net.d_out
    rows = n_rows if n_rows * row <= CHUNK_ENTRIES else max(1, CHUNK_ENTRIES // row)
    return 4 * p * p + 2 * rows * row


def training_bytes(net, n_rows, method, itemsize=8, solver="auto"):
    """Bytes to train ``net`` on ``n_rows`` rows with ``method``: parameter vectors, p × p matrices of the
    full-memory quasi-Newton methods, the dense Gauss-Newton path's matrix and Jacobian when it will run
    (:func:`dense_path_runs`), and the activations of every training row."""
    p = net.n_params
    cache = _SECOND_ORDER_CACHE if method in _VECTORS and method != "lbfgs" else _FIRST_ORDER_CACHE
    dense = dense_floats(net, n_rows) if dense_path_runs(net, method, solver) else 0
    return itemsize * (
        parameter_vectors(method) * p
        + _MATRICES.get(method, 0) * p * p
        + dense
        + cache * n_rows * floats_per_row(net)
    )


def require_training_memory(net, n_rows, method, flags):
    """Raise :class:`CommandError` naming ``flags`` when training ``net`` on ``n_rows`` rows with
    ``method`` (:func:`training_bytes`) cannot fit in the available memory."""
    require_memory(
        training_bytes(net, n_rows, method),
        f"{flags} ({net.n_params:,} parameters, {n_rows:,} rows, {method})",
    )
