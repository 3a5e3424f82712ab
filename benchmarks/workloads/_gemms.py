"""The matrix products inside each numnet product, and the matmul limit they imply.

A product's FLOPs are counted as its matrix multiplications (2·m·k·n each;
element-wise work is O(n·width) and not counted). The *matmul limit* of a
product is the time ``np.matmul`` takes for the same list of products, with
the same shapes and the same transposes, measured in the same run (the
fastest of the repeated calls of each, so that a spike of machine load
never inflates the limit):
``fraction = limit time / product time`` is the achieved GFLOP/s as a
fraction of what NumPy's BLAS reaches on those shapes.

Layout codes: "NN" is ``A @ B``; "TN" is ``A.T @ B`` with A stored as
(k, m) (the weight gradients ``Xᵀ gA``); "NT" is ``A @ B.T`` with B stored
as (n, k) (the input cotangents ``gA Wᵀ``).
"""

from collections import Counter


__all__ = ["gemms", "flops", "operands", "PRODUCTS"]


def _forward(w, n):
    return [(n, a, b, "NN") for a, b in zip(w, w[1:])]


def _backward(w, n):
    """vjp: gW = Xᵀ gA for every layer, gX = gA Wᵀ for all but the first."""
    out = []
    for i, (a, b) in enumerate(zip(w, w[1:])):
        out.append((a, n, b, "TN"))
        if i > 0:
            out.append((n, b, a, "NT"))
    return out


def _tangent(w, n):
    """dA = X dW (+ dX W after the first layer)."""
    out = []
    for i, (a, b) in enumerate(zip(w, w[1:])):
        out.append((n, a, b, "NN"))
        if i > 0:
            out.append((n, a, b, "NN"))
    return out


def _r_backward(w, n, cotangents_known):
    """R{gW} = Xᵀ R{gA} (+ dXᵀ gA), R{gX} = R{gA} Wᵀ + gA dWᵀ, and gX = gA Wᵀ unless known."""
    out = []
    for i, (a, b) in enumerate(zip(w, w[1:])):
        out.append((a, n, b, "TN"))
        if i > 0:
            out += [(a, n, b, "TN"), (n, b, a, "NT"), (n, b, a, "NT")]
            if not cotangents_known:
                out.append((n, b, a, "NT"))
    return out


PRODUCTS = {
    "grad": lambda w, n: _forward(w, n) + _backward(w, n),
    "hvp": lambda w, n: _forward(w, n) + _tangent(w, n) + _r_backward(w, n, False),
    "hvp_lin": lambda w, n: _tangent(w, n) + _r_backward(w, n, True),
    "gnvp": lambda w, n: _forward(w, n) + _tangent(w, n) + _backward(w, n),
    "gnvp_lin": lambda w, n: _tangent(w, n) + _backward(w, n),
}


def gemms(widths, n, product):
    """``Counter`` of (m, k, n, layout) matrix products that numnet's ``product`` runs."""
    if product not in PRODUCTS:
        raise ValueError(f"product must be one of {sorted(PRODUCTS)}, got {product!r}")
    return Counter(PRODUCTS[product](tuple(widths), int(n)))


def flops(counter):
    """Total FLOPs 2·m·k·n of a ``Counter`` of matrix products."""
    return sum(2 * m * k * p * c for (m, k, p, _), c in counter.items())


def operands(shape, dtype, rng):
    """Two arrays whose product in ``shape``'s layout is an (m, n) matrix: ``(A, B)`` for ``A @ B``."""
    m, k, p, layout = shape
    A = rng.standard_normal((k, m) if layout == "TN" else (m, k)).astype(dtype)
    B = rng.standard_normal((p, k) if layout == "NT" else (k, p)).astype(dtype)
    return (A.T if layout == "TN" else A), (B.T if layout == "NT" else B)
