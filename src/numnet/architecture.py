"""Networks (and data augmentations) as plain JSON data and back, from a whitelist of numnet's own types.

:func:`to_json` describes any network built from numnet's layers (chains,
graphs, nested in any way) as ``{"type": <class name>, <constructor
arguments>}``; :func:`from_json` rebuilds it, accepting only the classes of
:mod:`numnet.layers` and the containers (``Sequential``, ``Graph`` and its
merges), and only the arguments their constructors name. Nothing in the data
is ever executed or imported. :mod:`numnet.io` stores networks this way, and
the :class:`~numnet.augment.Augment` an estimator trains with.
"""

import inspect

import numpy as np

from . import layers as _layers
from .augment import Augment
from .graph import Add, Concat, Graph, Node
from .network import Sequential

__all__ = ["to_json", "from_json", "layer_types", "MAX_DEPTH"]

#: The deepest nesting of containers :func:`from_json` accepts.
MAX_DEPTH = 32


def layer_types():
    """``{name: class}`` of every type :func:`from_json` may build."""
    found = {name: getattr(_layers, name) for name in _layers.__all__}
    found = {
        name: cls
        for name, cls in found.items()
        if inspect.isclass(cls)
        and hasattr(cls, "get_config")
        and hasattr(cls, "forward")
        and not getattr(cls, "_is_protocol", False)  # the Layer contract is no layer
    }
    return {
        **found,
        "Sequential": Sequential,
        "Graph": Graph,
        "Add": Add,
        "Concat": Concat,
        "Augment": Augment,
    }


def to_json(net):
    """The network as JSON data: ``{"type": ..., **constructor arguments}``, recursively.

    Raises
    ------
    TypeError
        If ``net`` (or a part of it) is not one of numnet's layer types.
    ValueError
        If an argument is not plain JSON data (a custom activation, say).
    """
    name = type(net).__name__
    if layer_types().get(name) is not type(net):
        raise TypeError(
            f"net must be built from numnet's layers {sorted(layer_types())}, got {name}"
        )
    return {"type": name, **{k: _encode(v, f"{name}.{k}") for k, v in net.get_config().items()}}


def _encode(value, where):
    if hasattr(value, "get_config"):
        return to_json(value)
    if isinstance(value, dict):
        return {k: _encode(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v, where) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if hasattr(value, "name") and getattr(value, "f", None) is not None:  # an Activation
        from .activations import ACTIVATIONS

        if ACTIVATIONS.get(value.name) is value:
            return value.name
        raise ValueError(
            f"activation {value.name!r} is not in numnet.ACTIVATIONS and cannot be saved"
        )
    raise ValueError(f"{where}={value!r} is not plain data and cannot be saved")


def from_json(spec, depth=0):
    """Rebuild a network from :func:`to_json` data.

    Raises
    ------
    ValueError
        If the data name an unknown type or argument, miss a required
        argument, nest deeper than :data:`MAX_DEPTH`, or the constructor
        refuses the values (its message is kept).
    """
    if not isinstance(spec, dict) or depth > MAX_DEPTH:
        raise ValueError(
            f"architecture entries must be JSON objects nested at most {MAX_DEPTH} deep"
        )
    cls = layer_types().get(spec.get("type")) if isinstance(spec.get("type"), str) else None
    if cls is None:
        raise ValueError(f"unknown layer type {spec.get('type')!r}; known: {sorted(layer_types())}")
    kwargs = {k: v for k, v in spec.items() if k != "type"}
    _check_arguments(cls, kwargs)
    if cls is Sequential:
        kwargs["layers"] = [
            from_json(s, depth + 1) for s in _list(kwargs["layers"], "Sequential.layers")
        ]
    elif cls is Graph:
        kwargs["nodes"] = [_node(n, depth) for n in _list(kwargs["nodes"], "Graph.nodes")]
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"invalid {cls.__name__}: {exc}") from exc


def _check_arguments(cls, kwargs):
    params = inspect.signature(cls.__init__).parameters
    names = {n for n in params if n != "self"}
    required = {
        n
        for n in names
        if params[n].default is inspect.Parameter.empty
        and params[n].kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    }
    unknown, missing = sorted(set(kwargs) - names), sorted(required - set(kwargs))
    if unknown or missing:
        raise ValueError(
            f"malformed {cls.__name__}: unknown arguments {unknown}, missing {missing}"
        )


def _list(value, where):
    if not isinstance(value, list):
        raise ValueError(f"{where} must be a list")
    return value


def _node(spec, depth):
    if not isinstance(spec, dict) or set(spec) != {"name", "op", "inputs", "share"}:
        raise ValueError("a Graph node has exactly the keys name, op, inputs, share")
    return Node(spec["name"], from_json(spec["op"], depth + 1), spec["inputs"], spec["share"])
