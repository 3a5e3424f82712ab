"""The leaf layers of a network with their caches and output cotangents, from one backward pass.

Per-sample gradients, Kronecker factors and per-layer blocks all need, for
every layer that owns parameters, its slice of θ, its forward cache and the
cotangent gZ at its output. :func:`leaves` walks a :class:`~numnet.network.Sequential`
or :class:`~numnet.graph.Graph` (nested in any way) and returns them, running
each container's ``backward`` once. No layer of numnet mixes samples, so row
n of every cotangent belongs to sample n alone.
"""

from typing import Any, NamedTuple

import numpy as np

from ..graph import Add, Concat, Graph
from ..layers import Conv2d, Dense, Residual
from ..network import Sequential

__all__ = [
    "Leaf",
    "leaves",
    "leaf_names",
    "static_leaves",
    "pre_activation",
    "has_bias",
    "KRONECKER_LAYERS",
]

#: Layers whose weights act as one matrix on rows of an input matrix (Kronecker-factorable).
KRONECKER_LAYERS = (Dense, Conv2d, Residual)


class Leaf(NamedTuple):
    """One leaf layer: where its parameters sit in θ, its cache, and the cotangent at its output."""

    name: str
    layer: Any
    params: slice
    cache: Any
    gZ: np.ndarray | None


def leaves(net, theta, cache, gZ=None, *, prefix="", offset=0):
    """Every leaf layer with parameters, input to output, as :class:`Leaf` records.

    Parameters
    ----------
    net : layer, Sequential or Graph
    theta : ndarray of shape (net.n_params,)
    cache : the cache of ``net.forward(theta, X)``
    gZ : ndarray of shape (n_samples, net.d_out), optional
        Cotangent at the network output; when None, the leaves carry no cotangent
        and no backward pass runs.

    Returns
    -------
    list of Leaf
        Names are paths: ``"0"``, ``"1.2"`` for Sequential positions, node names
        for a Graph. A Graph node that shares another node's slice is a leaf of
        its own with the same ``params``.
    """
    if isinstance(net, Sequential):
        gZs = _sequential_cotangents(net, theta, cache, gZ)
        parts = [
            (str(i), layer, s, c, g)
            for i, (layer, s, c, g) in enumerate(zip(net.layers, net.slices, cache, gZs))
        ]
    elif isinstance(net, Graph):
        gZs = (
            {}
            if gZ is None
            else net.backward(theta, cache, gZ, need_gtheta=False, need_gX=False)[2]
        )
        parts = [
            (name, net.nodes[name].op, net.slices[name], cache.caches[name], gZs.get(name))
            for name in net.order
            if not isinstance(net.nodes[name].op, (Add, Concat))
        ]
    else:
        if net.n_params == 0:
            return []
        return [
            Leaf(prefix.rstrip(".") or "0", net, slice(offset, offset + net.n_params), cache, gZ)
        ]
    out = []
    for name, layer, s, c, g in parts:
        out += leaves(layer, theta[s], c, g, prefix=f"{prefix}{name}.", offset=offset + s.start)
    return out


def _sequential_cotangents(net, theta, cache, gZ):
    if gZ is None:
        return [None] * len(net.layers)
    return net.backward(theta, cache, gZ, need_gtheta=False, need_gX=False)[2]


def leaf_names(net):
    """``{name: slice of θ}`` of every leaf layer that owns parameters (no forward pass)."""
    return {leaf.name: leaf.params for leaf in static_leaves(net)}


def static_leaves(net, *, shared=False, prefix="", offset=0):
    """The leaves of :func:`leaves` without a forward pass (no cache, no cotangent).

    Graph nodes that use another node's slice are left out unless ``shared``.
    """
    if isinstance(net, Sequential):
        parts = [(str(i), layer, s) for i, (layer, s) in enumerate(zip(net.layers, net.slices))]
    elif isinstance(net, Graph):
        parts = [
            (name, net.nodes[name].op, net.slices[name])
            for name in net.order
            if not isinstance(net.nodes[name].op, (Add, Concat))
            and (shared or net.nodes[name].share is None)
        ]
    else:
        n = net.n_params
        return (
            [Leaf(prefix.rstrip(".") or "0", net, slice(offset, offset + n), None, None)]
            if n
            else []
        )
    out = []
    for name, layer, s in parts:
        out += static_leaves(
            layer, shared=shared, prefix=f"{prefix}{name}.", offset=offset + s.start
        )
    return out


def pre_activation(leaf):
    """``(rows, gA)`` of a Kronecker-factorable leaf: the rows its weight matrix multiplies and gA.

    Dense: rows = X (n, d_in), gA = σ′(A) ⊙ gZ (n, d_out). Conv2d/Conv1d:
    rows = cols = im2col(X) (n·P, k), gA reshaped to (n·P, filters), P output
    pixels. Residual Z = X + h σ(X W + b): its Dense part with cotangent h gZ.
    Any other layer raises ``TypeError`` naming it.
    """
    layer, cache, gZ = leaf.layer, leaf.cache, leaf.gZ
    if isinstance(layer, Residual):
        layer, gZ = layer.inner, layer.step * gZ
    if not isinstance(layer, (Dense, Conv2d)):
        raise TypeError(
            f"layer {leaf.name} is {layer!r}: only Dense, Residual, Conv2d and Conv1d layers "
            "have a Kronecker-factored curvature"
        )
    gA = gZ if layer.activation.name == "identity" else cache.dsigma * gZ
    if isinstance(layer, Conv2d):
        return cache.cols, gA.reshape(-1, layer.filters)
    return cache.X, gA


def has_bias(leaf):
    """Whether a Kronecker-factorable leaf has a bias (the last d_out entries of its slice)."""
    layer = leaf.layer.inner if isinstance(leaf.layer, Residual) else leaf.layer
    return layer.bias
