"""Graph: a directed acyclic network of layers over one flat parameter vector.

Notes 002, "backpropagation works for any DAG": each node is a layer (or a
merge of several inputs, :class:`Add` or :class:`Concat`); the forward pass
runs the nodes in topological order, backpropagation runs them in reverse and
sums the cotangents of a node's consumers (fan-out), and a node may reuse
another node's parameter slice (sharing: its gradient and R-products add into
that slice). A graph is itself a layer, so it nests in ``Sequential`` and
vice versa.
"""

from typing import NamedTuple

import numpy as np

from ._validation import as_rng, check_float_dtype, check_matrix, check_theta
from .layers import INIT_SCHEMES, Layer
from .layers._contract import check_tangents

__all__ = ["Graph", "Node", "Add", "Concat", "GraphCache", "INPUT"]

#: The name of the graph's input X, usable as a node input.
INPUT = "input"


class Add:
    """Merge node Z = X₁ + X₂ + … (equal widths).

    Notes
    -----
    Linear: jvp dZ = Σ dXᵢ, vjp gXᵢ = gZ for every input, rop R gXᵢ = dgZ.
    """

    def __repr__(self):
        return "Add()"

    def get_config(self):
        return {}

    def width(self, widths, node):
        """The output width; the inputs' widths must agree (``ValueError`` naming ``node``)."""
        if len(set(widths)) != 1:
            raise ValueError(f"node {node!r}: Add needs inputs of equal width, got widths {widths}")
        return widths[0]

    def forward(self, Xs):
        return sum(Xs[1:], Xs[0].copy())

    def jvp(self, dXs, widths, n):
        parts = [d for d in dXs if d is not None]
        return sum(parts[1:], parts[0].copy()) if parts else None

    def vjp(self, gZ, widths):
        return [gZ] * len(widths)


class Concat:
    """Merge node Z = [X₁, X₂, …] along the features (columns).

    Notes
    -----
    Linear: jvp dZ = [dX₁, dX₂, …], vjp gXᵢ = the columns of gZ that belong to
    input i, rop R gXᵢ = the same columns of dgZ.
    """

    def __repr__(self):
        return "Concat()"

    def get_config(self):
        return {}

    def width(self, widths, node):
        return sum(widths)

    def forward(self, Xs):
        return np.concatenate(Xs, axis=1)

    def jvp(self, dXs, widths, n):
        if all(d is None for d in dXs):
            return None
        dtype = next(d.dtype for d in dXs if d is not None)
        return np.concatenate(
            [np.zeros((n, w), dtype) if d is None else d for d, w in zip(dXs, widths)], axis=1
        )

    def vjp(self, gZ, widths):
        return np.split(gZ, np.cumsum(widths)[:-1], axis=1)


_MERGES = (Add, Concat)


class Node(NamedTuple):
    """One node of a :class:`Graph`.

    Parameters
    ----------
    name : str
        Unique name (not ``"input"``).
    op : layer, Add or Concat
        What the node computes.
    inputs : str or sequence of str, default="input"
        The nodes (or ``"input"``) it reads; a layer reads one, a merge two or more.
    share : str or None, default=None
        The name of a layer node whose parameter slice this node uses too.
    """

    name: str
    op: object
    inputs: object = INPUT
    share: str | None = None


class GraphCache(NamedTuple):
    """What the forward pass of a :class:`Graph` keeps.

    Attributes
    ----------
    values : dict
        Each node's output by name, and ``"input"`` → X.
    caches : dict
        Each layer node's own cache by name.
    """

    values: dict
    caches: dict


class Graph:
    """A directed acyclic network of layers and merges over one flat ``theta``.

    Parameters
    ----------
    d_in : int
        Width of the input X.
    nodes : sequence of Node (or of (name, op[, inputs[, share]]) tuples)
        In any order; they must form a DAG.
    output : str, default=None
        The node whose output is the graph's output (the last node when None).

    Notes
    -----
    With v the nodes in topological order and pa(v) the nodes v reads:

    - forward: Z_v = f_v(θ_{s(v)}, Z_{pa(v)}), F = Z_out
    - jvp: dZ_v = J_θ f_v dθ_{s(v)} + J_X f_v dZ_{pa(v)}, in the same order
    - vjp: gZ_u = Σ_{v : u ∈ pa(v)} (J_X f_v)ᵀ gZ_v (cotangents of fan-out summed),
      gθ_s = Σ_{v : s(v) = s} (J_θ f_v)ᵀ gZ_v (shared slices accumulate), in reverse order
    - rop: the same reverse pass over the nodes' ``rop`` with R{gZ_v} summed like gZ_v.

    The parameter slices s(v) follow the topological order of the nodes
    that own them; a node with ``share=u`` uses s(u).
    """

    def __init__(self, d_in, nodes, output=None):
        if isinstance(d_in, bool) or not isinstance(d_in, (int, np.integer)) or d_in < 1:
            raise ValueError(f"d_in must be a positive integer, got {d_in!r}")
        nodes = [_as_node(n) for n in nodes]
        if not nodes:
            raise ValueError("nodes must be a non-empty sequence of nodes")
        self.d_in = int(d_in)
        self.nodes = {n.name: n for n in nodes}
        if len(self.nodes) != len(nodes):
            dup = next(n.name for n in nodes if sum(m.name == n.name for m in nodes) > 1)
            raise ValueError(f"node {dup!r} is defined twice")
        self.output = nodes[-1].name if output is None else output
        if self.output not in self.nodes:
            raise ValueError(f"output names an unknown node {self.output!r}")
        self.order = _topological_order(self.nodes)
        self.widths = self._widths()
        self.d_out = self.widths[self.output]
        _check_all_used(self.nodes, self.output)
        self.slices, self.owners = self._slices()
        self._forwards = {
            name: getattr(n.op, "_forward", n.op.forward) for name, n in self.nodes.items()
        }

    # ------------------------------------------------------------ construction

    def _widths(self):
        widths = {INPUT: self.d_in}
        for name in self.order:
            node = self.nodes[name]
            w_in = [widths[i] for i in node.inputs]
            if isinstance(node.op, _MERGES):
                widths[name] = node.op.width(w_in, name)
            elif w_in[0] != node.op.d_in:
                raise ValueError(
                    f"node {name!r} has d_in={node.op.d_in} but its input "
                    f"{node.inputs[0]!r} has width {w_in[0]}"
                )
            else:
                widths[name] = node.op.d_out
        return widths

    def _slices(self):
        slices, owners, start = {}, [], 0
        for name in self.order:
            node = self.nodes[name]
            if isinstance(node.op, _MERGES) or node.share is not None:
                continue
            slices[name] = slice(start, start + node.op.n_params)
            owners.append(name)
            start += node.op.n_params
        for name in self.order:
            if self.nodes[name].share is not None:
                slices[name] = slices[self._check_share(name)]
        return slices, owners

    def _check_share(self, name):
        node = self.nodes[name]
        target = self.nodes.get(node.share)
        if target is None:
            raise ValueError(
                f"node {name!r} shares the parameters of an unknown node {node.share!r}"
            )
        if target.share is not None or isinstance(target.op, _MERGES):
            raise ValueError(
                f"node {name!r} must share the parameters of a layer node that owns them; "
                f"{node.share!r} does not"
            )
        if _param_shapes(node.op) != _param_shapes(target.op):
            raise ValueError(
                f"node {name!r} shares the slice of {node.share!r} but their parameter "
                f"shapes differ: {_param_shapes(node.op)} vs {_param_shapes(target.op)}"
            )
        return node.share

    def __repr__(self):
        lines = [
            f"    Node({n.name!r}, {n.op!r}, {list(n.inputs)!r}"
            + (f", share={n.share!r})" if n.share else ")")
            for n in self.nodes.values()
        ]
        return f"Graph({self.d_in}, [\n" + ",\n".join(lines) + f",\n], output={self.output!r})"

    def get_config(self):
        """``{"d_in", "nodes", "output"}`` with the ops themselves (:mod:`numnet.io` turns them into JSON)."""
        nodes = [
            {"name": n.name, "op": n.op, "inputs": list(n.inputs), "share": n.share}
            for n in self.nodes.values()
        ]
        return {"d_in": self.d_in, "nodes": nodes, "output": self.output}

    def map_layers(self, fn):
        """A new graph with every leaf layer replaced by ``fn(layer)`` (containers recurse)."""

        def mapped(op):
            if isinstance(op, _MERGES):
                return op
            return op.map_layers(fn) if hasattr(op, "map_layers") else fn(op)

        nodes = [Node(n.name, mapped(n.op), n.inputs, n.share) for n in self.nodes.values()]
        return Graph(self.d_in, nodes, self.output)

    # ------------------------------------------------------------ parameters

    @property
    def n_params(self):
        return sum(self.nodes[name].op.n_params for name in self.owners)

    @property
    def smooth(self):
        """True when every layer node is twice continuously differentiable."""
        return all(n.op.smooth for n in self.nodes.values() if not isinstance(n.op, _MERGES))

    def init(self, seed_or_rng=None, dtype=np.float64, scheme="xavier"):
        """A new parameter vector: each owning node's ``init`` in topological order."""
        if scheme not in INIT_SCHEMES:
            raise ValueError(f"scheme must be one of {INIT_SCHEMES}, got {scheme!r}")
        rng, dtype = as_rng(seed_or_rng), check_float_dtype(dtype)
        theta = np.empty(self.n_params, dtype=dtype)
        for name in self.owners:
            theta[self.slices[name]] = self.nodes[name].op.init(rng, dtype, scheme)
        return theta

    def unpack(self, theta):
        """``{node name: that layer's views}`` for the nodes that own parameters."""
        theta = check_theta(theta, self.n_params, finite=False)
        return {name: self.nodes[name].op.unpack(theta[self.slices[name]]) for name in self.owners}

    def bias_mask(self):
        mask = np.zeros(self.n_params, dtype=bool)
        for name in self.owners:
            mask[self.slices[name]] = self.nodes[name].op.bias_mask()
        return mask

    # ------------------------------------------------------------ products

    def forward(self, theta, X):
        """Return ``(F, GraphCache)``."""
        theta = check_theta(theta, self.n_params)
        return self._forward(theta, check_matrix(X, "X", self.d_in, dtype=theta.dtype))

    def _forward(self, theta, X):
        values, caches = {INPUT: X}, {}
        for name in self.order:
            node = self.nodes[name]
            inputs = [values[i] for i in node.inputs]
            if isinstance(node.op, _MERGES):
                values[name] = node.op.forward(inputs)
            else:
                values[name], caches[name] = self._forwards[name](
                    theta[self.slices[name]], inputs[0]
                )
        return values[self.output], GraphCache(values, caches)

    def predict(self, theta, X):
        """Network output F for inputs X."""
        return self.forward(theta, X)[0]

    def tangent(self, theta, cache, dtheta, dX):
        """Forward tangent pass: ``(dF, tcache)``, tcache[name] = (the node's input tangent, its own tcache)."""
        n = cache.values[INPUT].shape[0]
        dvals, tcache = {INPUT: dX}, {}
        for name in self.order:
            node = self.nodes[name]
            din = [dvals[i] for i in node.inputs]
            if isinstance(node.op, _MERGES):
                dvals[name] = node.op.jvp(din, [self.widths[i] for i in node.inputs], n)
                continue
            s, d = self.slices[name], din[0]
            if d is None and dtheta is None:
                dvals[name] = None
                continue
            dvals[name], tc = node.op.tangent(
                theta[s], cache.caches[name], None if dtheta is None else dtheta[s], d
            )
            tcache[name] = (d, tc)
        dF = dvals[self.output]
        return (np.zeros_like(cache.values[self.output]) if dF is None else dF), tcache

    def jvp(self, theta, cache, dtheta, dX):
        """J v along a parameter direction ``dtheta`` and/or an input direction ``dX``.

        Both are checked first (real, finite, ``(n_params,)`` and ``(n_samples, d_in)``),
        as :meth:`Sequential.jvp <numnet.network.Sequential.jvp>` checks them.
        """
        dtheta, dX = check_tangents(self, theta, dtheta, dX, cache.values[INPUT].shape[0])
        return self.tangent(theta, cache, dtheta, dX)[0]

    def vjp(self, theta, cache, gZ, *, need_gtheta=True, need_gX=True, out=None):
        """Backpropagation Jᵀ u: return ``(gtheta, gX)``."""
        g, gX, _ = self.backward(
            theta, cache, gZ, need_gtheta=need_gtheta, need_gX=need_gX, out=out
        )
        return g, gX

    def backward(self, theta, cache, gZ, *, need_gtheta=True, need_gX=True, out=None):
        """:meth:`vjp` that also returns each node's output cotangent ``gZs`` (a dict), for :meth:`rop`."""
        g = _Gradient(out, self.n_params, gZ.dtype) if need_gtheta else None
        gvals, gZs = {self.output: gZ}, {}
        for name in reversed(self.order):
            node, gZs[name] = self.nodes[name], gvals.pop(name)
            if isinstance(node.op, _MERGES):
                _accumulate(
                    gvals,
                    node.inputs,
                    node.op.vjp(gZs[name], [self.widths[i] for i in node.inputs]),
                )
                continue
            s, wants_gX = self.slices[name], need_gX or node.inputs[0] != INPUT
            gX = node.op.vjp(
                theta[s],
                cache.caches[name],
                gZs[name],
                need_gtheta=need_gtheta,
                need_gX=wants_gX,
                out=None if g is None else g.target(s),
            )[1]
            if need_gtheta:
                g.written(s)
            if wants_gX:
                _accumulate(gvals, node.inputs, [gX])
        g = None if g is None else g.finish(self.slices.values())
        return g, (gvals.get(INPUT) if need_gX else None), gZs

    def rop(
        self, theta, cache, dtheta, dX, gZ, dgZ, *, tcache=None, need_gX=True, out=None, gZs=None
    ):
        """R-operator of :meth:`vjp` along (dtheta, dX), with gZ moving along dgZ.

        ``gZs``, the cotangents of :meth:`backward` for this ``gZ``, spare one backward pass.
        """
        if tcache is None:
            tcache = self.tangent(theta, cache, dtheta, dX)[1]
        if gZs is None:
            gZs = self.backward(theta, cache, gZ, need_gtheta=False, need_gX=False)[2]
        Rg = _Gradient(out, self.n_params, gZ.dtype)
        dgvals = {self.output: dgZ}
        for name in reversed(self.order):
            node, dg = self.nodes[name], dgvals.pop(name, None)
            if isinstance(node.op, _MERGES):
                if dg is not None:
                    _accumulate(
                        dgvals, node.inputs, node.op.vjp(dg, [self.widths[i] for i in node.inputs])
                    )
                continue
            s, wants_gX = self.slices[name], need_gX or node.inputs[0] != INPUT
            d, tc = tcache.get(name, (None, None))
            if d is None and dtheta is None and dg is None:
                continue  # every input of this node's R-pass is zero
            RgX = node.op.rop(
                theta[s],
                cache.caches[name],
                None if dtheta is None else dtheta[s],
                d,
                gZs[name],
                dg,
                tcache=tc,
                need_gX=wants_gX,
                out=Rg.target(s),
            )[1]
            Rg.written(s)
            if wants_gX:
                _accumulate(dgvals, node.inputs, [RgX])
        Rg = Rg.finish(self.slices.values())
        RgX = dgvals.get(INPUT) if need_gX else None
        if need_gX and RgX is None:
            RgX = np.zeros_like(cache.values[INPUT])
        return Rg, RgX

    def diag_backward(self, theta, cache, gZ, hZ, *, need_hX=True, out=None, gZs=None):
        """Becker–LeCun's backward recursion (note 004) through the DAG: ``(diag curvature of θ, hX)``.

        Like :meth:`backward` with the diagonal curvature hZ in place of the
        cotangent: a node read by several others gets the sum of their hX (the
        cross terms between consumers are dropped, as all off-diagonal terms
        are); a shared slice adds the diagonals of its uses; Add passes hZ to
        every input and Concat splits it.
        """
        from .network import require_diag_backward

        if gZs is None:
            gZs = self.backward(theta, cache, gZ, need_gtheta=False, need_gX=False)[2]
        d = _Gradient(out, self.n_params, gZ.dtype)
        hvals = {self.output: hZ}
        for name in reversed(self.order):
            node, h = self.nodes[name], hvals.pop(name)
            if isinstance(node.op, _MERGES):
                _accumulate(
                    hvals, node.inputs, node.op.vjp(h, [self.widths[i] for i in node.inputs])
                )
                continue
            s, wants_hX = self.slices[name], need_hX or node.inputs[0] != INPUT
            hX = require_diag_backward(node.op, repr(name)).diag_backward(
                theta[s], cache.caches[name], gZs[name], h, need_hX=wants_hX, out=d.target(s)
            )[1]
            d.written(s)
            if wants_hX:
                _accumulate(hvals, node.inputs, [hX])
        return d.finish(self.slices.values()), (hvals.get(INPUT) if need_hX else None)


# ------------------------------------------------------------ helpers


def _as_node(spec):
    node = spec if isinstance(spec, Node) else Node(*spec)
    if not isinstance(node.name, str) or not node.name or node.name == INPUT:
        raise ValueError(
            f"node names must be non-empty strings other than {INPUT!r}, got {node.name!r}"
        )
    inputs = (node.inputs,) if isinstance(node.inputs, str) else tuple(node.inputs)
    if not inputs or not all(isinstance(i, str) for i in inputs):
        raise ValueError(
            f"node {node.name!r}: inputs must be a node name or a sequence of them, got {node.inputs!r}"
        )
    if isinstance(node.op, _MERGES):
        if len(inputs) < 2:
            raise ValueError(
                f"node {node.name!r}: {type(node.op).__name__} needs at least two inputs, got {len(inputs)}"
            )
        if node.share is not None:
            raise ValueError(
                f"node {node.name!r}: {type(node.op).__name__} has no parameters to share"
            )
    elif not isinstance(node.op, Layer):
        raise TypeError(
            f"node {node.name!r}: op must be a layer, Add or Concat, got {type(node.op).__name__}"
        )
    elif len(inputs) != 1:
        raise ValueError(
            f"node {node.name!r} is a layer with {len(inputs)} inputs; "
            "merge them first with Add or Concat"
        )
    return Node(node.name, node.op, inputs, node.share)


def _topological_order(nodes):
    """Names in an order where every node comes after its inputs; a cycle raises ``ValueError``."""
    for node in nodes.values():
        for i in node.inputs:
            if i != INPUT and i not in nodes:
                raise ValueError(f"node {node.name!r} reads an unknown node {i!r}")
    order, state = [], {}

    def visit(name, path):
        if state.get(name) == "done":
            return
        if state.get(name) == "open":
            cycle = path[path.index(name) :] + [name]
            raise ValueError(f"node {name!r} is on a cycle: {' -> '.join(cycle)}")
        state[name] = "open"
        for i in nodes[name].inputs:
            if i != INPUT:
                visit(i, path + [name])
        state[name] = "done"
        order.append(name)

    for name in nodes:
        visit(name, [])
    return order


def _check_all_used(nodes, output):
    """Every node and the input must lie on a path to the output."""
    used, stack = set(), [output]
    while stack:
        name = stack.pop()
        if name in used:
            continue
        used.add(name)
        if name != INPUT:
            stack.extend(nodes[name].inputs)
    unused = [name for name in nodes if name not in used]
    if unused:
        raise ValueError(f"node {unused[0]!r} does not reach the output {output!r}")
    if INPUT not in used:
        raise ValueError(f"the input is not read by any node that reaches the output {output!r}")


def _param_shapes(layer):
    """The layout of ``layer``'s parameters: its ``unpack`` views with each array replaced by its shape."""
    return _layout(layer.unpack(np.zeros(layer.n_params)))


def _layout(views):
    """Nested dicts and lists of views (a Graph's, a Sequential's) with arrays replaced by shapes."""
    if isinstance(views, dict):
        return [(k, _layout(v)) for k, v in views.items()]
    if isinstance(views, (list, tuple)):
        return [_layout(v) for v in views]
    return None if views is None else np.shape(views)


class _Gradient:
    """A flat gradient filled slice by slice: a slice's first product is written in place,
    later ones (a shared slice) are added; slices never written are zeroed by :meth:`finish`."""

    def __init__(self, out, n, dtype):
        self.g = np.empty(n, dtype=dtype) if out is None else out
        self.done, self.pending = set(), None

    def target(self, s):
        """Where the product for slice ``s`` goes: the slice itself, or a scratch array to add."""
        self.pending = (
            None if (s.start, s.stop) not in self.done else np.empty(s.stop - s.start, self.g.dtype)
        )
        return self.g[s] if self.pending is None else self.pending

    def written(self, s):
        if self.pending is not None:
            self.g[s] += self.pending
        self.done.add((s.start, s.stop))

    def finish(self, slices):
        for s in slices:
            if (s.start, s.stop) not in self.done:
                self.g[s] = 0
        return self.g


def _accumulate(store, names, arrays):
    """store[name] += array, never in place on an array another node may still hold."""
    for name, a in zip(names, arrays):
        store[name] = a if store.get(name) is None else store[name] + a
