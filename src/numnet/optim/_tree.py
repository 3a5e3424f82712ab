"""The method state of a checkpoint as a JSON tree plus arrays packed one member per dtype.

:func:`encode` turns plain data (``None``, bool, int, float, str, NumPy
arrays and scalars, tuples, lists, dicts with string keys, NamedTuples) into
JSON: an array becomes ``{"@array": member, "at": offset, "shape": [...]}``
and its entries are appended to the member of its dtype in a :class:`Packer`
(``f8``, ``f4``, ``u4``, … : kind and item size); a NumPy scalar
``{"@scalar": dtype, "value": v}``, a tuple or list ``{"@tuple": [...]}``, a
dict ``{"@dict": {...}}``, a NamedTuple ``{"@namedtuple": "module:QualName",
"fields": {...}}`` (fields named in the class attribute ``DERIVED`` are
stored as ``None``). :func:`decode` inverts it and raises ``ValueError`` on
any node not written so: a slice past its member, an unknown tag, a dtype
that is not bool, integer or float, a NamedTuple class that is not already
imported with exactly those fields (nothing is imported or run on load).
"""

import re
import sys
from math import prod

import numpy as np

__all__ = ["Packer", "encode", "decode", "jsonable", "DTYPE"]

DTYPE = re.compile(r"[<|]([biuf])([1248])")
"""Dtypes of packed arrays and scalars (``dtype.str``): bool, integers and floats, little-endian."""


class Packer:
    """Arrays collected per dtype while a tree is encoded: ``{"@array": member, "at": offset, "shape": …}``."""

    def __init__(self):
        self.groups, self.seen = {}, {}

    def add(self, a):
        """The reference to ``a``'s entries, appended to its dtype's member (once per array object)."""
        if id(a) in self.seen:  # the same array twice (the best iterate is often the state's x)
            return self.seen[id(a)][1]
        a = a.astype(a.dtype.newbyteorder("<"), copy=False) if a.dtype.byteorder == ">" else a
        match = DTYPE.fullmatch(a.dtype.str)
        if match is None:
            raise TypeError(f"cannot checkpoint an array of dtype {a.dtype}")
        name = "".join(match.groups())
        parts, size = self.groups.setdefault(name, ([], [0]))
        parts.append(a)
        size[0] += a.size
        ref = {"@array": name, "at": size[0] - a.size, "shape": list(a.shape)}
        self.seen[id(a)] = (a, ref)  # keeps ``a`` alive, so its id is not reused while encoding
        return ref


def encode(value, packer, path):
    """The JSON tree of ``value``, its arrays added to ``packer``; ``path`` names a value that is not plain data."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.ndarray):
        return packer.add(value)
    if isinstance(value, np.generic):
        return {"@scalar": value.dtype.str, "value": value.item()}
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        derived = getattr(type(value), "DERIVED", ())
        return {
            "@namedtuple": f"{type(value).__module__}:{type(value).__qualname__}",
            "fields": {
                f: None if f in derived else encode(getattr(value, f), packer, f"{path}.{f}")
                for f in value._fields
            },
        }
    if isinstance(value, (tuple, list)):
        return {"@tuple": [encode(v, packer, f"{path}.{i}") for i, v in enumerate(value)]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"@dict": {k: encode(v, packer, f"{path}.{k}") for k, v in value.items()}}
    raise TypeError(
        f"cannot checkpoint a {type(value).__name__} at {path}: a method state holds plain data"
    )


def decode(tree, arrays):
    """The value of an encoded ``tree`` over the packed ``arrays``; ValueError on anything not encoded so."""
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    if not isinstance(tree, dict) or len(tree) > 3:
        raise ValueError(f"malformed state node {str(tree)[:60]!r}")
    if "@array" in tree:
        return _array(tree, arrays)
    if "@scalar" in tree:
        return _scalar(tree)
    if set(tree) == {"@tuple"} and isinstance(tree["@tuple"], list):
        return tuple(decode(v, arrays) for v in tree["@tuple"])
    if set(tree) == {"@dict"} and isinstance(tree["@dict"], dict):
        return {k: decode(v, arrays) for k, v in tree["@dict"].items()}
    if set(tree) == {"@namedtuple", "fields"} and isinstance(tree["fields"], dict):
        cls = _namedtuple_class(tree["@namedtuple"], tuple(tree["fields"]))
        return cls(**{k: decode(v, arrays) for k, v in tree["fields"].items()})
    raise ValueError(f"malformed state node {str(tree)[:60]!r}")


def _array(tree, arrays):
    """A copy of the slice ``tree`` names in its packed member, its bounds checked first."""
    member, at, shape = tree["@array"], tree.get("at"), tree.get("shape")
    if (
        set(tree) != {"@array", "at", "shape"}
        or member not in arrays
        or type(at) is not int
        or at < 0
        or not isinstance(shape, list)
        or not all(type(n) is int and n >= 0 for n in shape)
    ):
        raise ValueError(f"malformed array reference {str(tree)[:80]!r}")
    packed = arrays[member]
    if at + prod(shape) > packed.size:
        raise ValueError(
            f"array reference {str(tree)[:80]!r} reaches past member {member!r} "
            f"of {packed.size} entries"
        )
    return packed[at : at + prod(shape)].reshape(shape).copy()


def _scalar(tree):
    dtype, value = tree["@scalar"], tree.get("value")
    if (
        set(tree) != {"@scalar", "value"}
        or not isinstance(dtype, str)
        or not DTYPE.fullmatch(dtype)
        or isinstance(value, (str, list, dict))
        or value is None
    ):
        raise ValueError(f"malformed scalar {str(tree)[:60]!r}")
    return np.dtype(dtype).type(value)


def _namedtuple_class(name, fields):
    """The NamedTuple class ``module:QualName`` among imported modules, with exactly ``fields``."""
    module, _, qualname = str(name).partition(":")
    obj = sys.modules.get(module)
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if not (
        isinstance(obj, type) and issubclass(obj, tuple) and getattr(obj, "_fields", None) == fields
    ):
        raise ValueError(f"state type {name!r} with fields {fields} is not a loaded NamedTuple")
    return obj


def jsonable(value):
    """History entries a callback returned: NumPy scalars and arrays as numbers and lists, others as repr."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return repr(value)
