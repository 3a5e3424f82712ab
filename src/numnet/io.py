"""Save and load models safely: a ``.npz`` of plain arrays plus JSON metadata, never pickle.

Three kinds of model round-trip through :func:`save` and :func:`load`:

- ``"parameters"``: a bare 1-D parameter vector ``theta`` (``load`` returns the array);
- ``"network"``: a pair ``(net, theta)`` of any network built from numnet's
  layers (a layer, a ``Sequential``, a ``Graph``, nested in any way) and its
  flat parameters (``load`` returns the pair, the network rebuilt);
- ``"estimator"``: a fitted numnet estimator (``load`` returns a fitted copy).

File layout: every array is one ``.npy`` member of the ``.npz``; the member
``__meta__`` is the UTF-8 JSON metadata as a ``uint8`` array, holding the
format name and version, the kind, the numnet version, each array's dtype,
shape and SHA-256, and the architecture (:func:`numnet.architecture.to_json`:
layer types and their constructor arguments) or the estimator's class,
parameters and scalar fitted attributes. Loading uses
``np.load(allow_pickle=False)`` and rebuilds networks only from the
whitelisted layer types and registered activation names
(:func:`numnet.architecture.from_json`), and estimators only from the
whitelisted classes: no code in a file is ever executed. Format version 2
added graphs and every layer type; version 1 files still load. Writes are atomic (temporary file, then ``os.replace``).
"""

import hashlib
import json
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ._files import atomic_path
from ._validation import FLOAT_DTYPES
from .architecture import from_json, to_json

__all__ = ["save", "load", "FORMAT", "FORMAT_VERSION", "KINDS"]

FORMAT = "numnet"
FORMAT_VERSION = 2
KINDS = ("parameters", "network", "estimator")
_META = "__meta__"
_OBJECT = "numnet"  # key of a parameter stored as numnet.architecture.to_json data
_ARRAY_KINDS = "biufU"  # bool, integers, floats, unicode strings: never object arrays
_READ_ERRORS = (OSError, EOFError, ValueError, KeyError, IndexError, struct.error, zlib.error,
                zipfile.BadZipFile, NotImplementedError, RuntimeError, UnicodeDecodeError)
_READABLE_VERSIONS = (1, 2)  # version 2 adds graphs and every layer type; version 1 files read unchanged
#: Estimator parameters that files of a version may lack (added later); they take their defaults.
_LATER_PARAMS = {1: {"augment"}, 2: set()}


# ------------------------------------------------------------------- save

def save(model, path):
    """Write ``model`` to ``path`` atomically as ``.npz`` + JSON metadata.

    Parameters
    ----------
    model : ndarray, (network, theta) tuple, or fitted estimator
        A 1-D float parameter vector; a pair of a network built from numnet's
        layers and its parameter vector; or a fitted
        ``MLPClassifier``, ``MLPRegressor``, ``ELMClassifier`` or ``ELMRegressor``.
    path : str or Path
        Target file (written as given; ``.npz`` is the customary suffix).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    TypeError
        If ``model`` is none of the above.
    ValueError
        If it cannot be stored faithfully (unfitted estimator, custom
        activation, parameter that is not JSON data, length mismatch).
    """
    meta, arrays = _encode(model)
    meta.update(format=FORMAT, format_version=FORMAT_VERSION, numnet_version=_version(),
                arrays={k: _describe(a) for k, a in arrays.items()})
    blob = np.frombuffer(json.dumps(meta, sort_keys=True).encode("utf-8"), dtype=np.uint8)
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, allow_pickle=False, **{_META: blob}, **arrays)
    return Path(path)


def _version():
    from . import __version__
    return __version__


def _describe(a):
    return {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": _digest(a)}


def _digest(a):
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()


def _encode(model):
    if isinstance(model, np.ndarray):
        return {"kind": "parameters"}, {"theta": _check_vector(model, "model")}
    if isinstance(model, tuple) and len(model) == 2:
        net, theta = model
        theta = _check_vector(theta, "theta")
        if theta.shape[0] != net.n_params:
            raise ValueError(f"theta has {theta.shape[0]} entries but the network has {net.n_params} parameters")
        return {"kind": "network", "architecture": to_json(net)}, {"theta": theta}
    if hasattr(model, "get_params") and hasattr(model, "fit"):
        return _encode_estimator(model)
    raise TypeError("model must be a parameter vector, a (network, theta) pair or a fitted numnet "
                    f"estimator, got {type(model).__name__}")


def _check_vector(theta, name):
    theta = np.asarray(theta)
    if theta.ndim != 1 or theta.dtype not in FLOAT_DTYPES:
        raise ValueError(f"{name} must be a 1-D float32 or float64 array, got shape {theta.shape} "
                         f"and dtype {theta.dtype}")
    return theta


def _encode_estimator(est):
    from .estimators import ESTIMATORS

    name = type(est).__name__
    if ESTIMATORS.get(name) is not type(est):
        raise TypeError(f"model must be one of the numnet estimators {sorted(ESTIMATORS)}, got {name}")
    if "theta_" not in vars(est):
        raise ValueError(f"this {name} is not fitted; fit it before saving")
    arrays, attrs = {}, {}
    for key, value in vars(est).items():
        if key.endswith("_") and not key.startswith("_"):
            if isinstance(value, np.ndarray):
                arrays[key] = _plain_array(value, key)
            else:
                attrs[key] = _json_data(value, key)
    params = {k: _param_data(v, k) for k, v in est.get_params(deep=False).items()}
    return {"kind": "estimator", "estimator": {"class": name, "params": params,
                                               "attributes": attrs}}, arrays


def _plain_array(a, name):
    if a.dtype.kind == "O":
        try:
            a = a.astype(str)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} holds objects that are not strings; it cannot be saved") from exc
        if a.dtype.kind != "U":
            raise ValueError(f"{name} holds objects that are not strings; it cannot be saved")
    if a.dtype.kind not in _ARRAY_KINDS:
        raise ValueError(f"{name} has dtype {a.dtype}, which numnet files do not store")
    return a


def _param_data(value, name):
    """An estimator parameter as JSON: plain data, or ``{"numnet": to_json(v)}`` for a network or Augment."""
    if hasattr(value, "get_config"):
        try:
            return {_OBJECT: to_json(value)}
        except TypeError as exc:
            raise ValueError(f"{name}={value!r} cannot be saved: {exc}") from exc
    return _json_data(value, name)


def _param_value(value):
    """Inverse of :func:`_param_data` (lists become tuples, as estimators take them)."""
    if isinstance(value, dict):
        if set(value) != {_OBJECT}:
            raise ValueError(f"an estimator parameter that is an object must be {{{_OBJECT!r}: ...}}")
        return from_json(value[_OBJECT])
    return tuple(value) if isinstance(value, list) else value


def _json_data(value, name):
    """Plain JSON data: None, bool, int, float, str, and lists (tuples) of them."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (list, tuple)):
        return [_json_data(v, name) for v in value]
    raise ValueError(f"{name}={value!r} is not plain data (None, bool, int, float, str or a list "
                     "of them) and cannot be saved; use an int random_state, for example")


# ------------------------------------------------------------------- load

def load(path):
    """Read a model written by :func:`save`.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ndarray, (network, theta) tuple, or fitted estimator
        The same kind of object that was saved; arrays are bit-for-bit equal.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is truncated or corrupt, has another format version, has
        extra or missing arrays or metadata keys, or arrays whose dtype,
        shape or checksum disagree with the metadata.
    """
    meta, arrays = _read(Path(path))
    version = meta.pop("format_version")
    kind = meta["kind"]
    if kind == "parameters":
        _expect(set(meta), {"kind", "arrays"}, "metadata", path)
        return _decode_vector(arrays, {"theta"}, path)
    if kind == "network":
        _expect(set(meta), {"kind", "arrays", "architecture"}, "metadata", path)
        return _decode_network(meta["architecture"], _decode_vector(arrays, {"theta"}, path), path)
    _expect(set(meta), {"kind", "arrays", "estimator"}, "metadata", path)
    return _decode_estimator(meta["estimator"], arrays, path, version)


def _read(path):
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    raw = _read_members(path)
    if _META not in raw:
        raise ValueError(f"{path} is not a numnet file (no {_META} member)")
    meta = _parse_meta(raw.pop(_META), path)
    _expect(set(raw), set(meta["arrays"]), "arrays", path)
    for k, a in raw.items():
        _check_array(k, a, meta["arrays"][k], path)
    return meta, raw


def _read_members(path):
    """All members of the .npz as arrays; any read failure becomes ValueError."""
    try:
        npz = np.load(path, allow_pickle=False)
        if not isinstance(npz, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not an .npz archive")
        with npz:
            return {k: npz[k] for k in npz.files}
    except _READ_ERRORS as exc:
        raise ValueError(f"{path} is not a readable numnet file (truncated or corrupt?): {exc}") from exc


def _parse_meta(blob, path):
    if blob.dtype != np.uint8 or blob.ndim != 1:
        raise ValueError(f"{path}: the {_META} member must be a 1-D uint8 array")
    try:
        meta = json.loads(blob.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: the metadata is not valid UTF-8 JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.pop("format", None) != FORMAT:
        raise ValueError(f"{path} is not a numnet file (no format tag)")
    version = meta.pop("format_version", None)
    if type(version) is not int or version not in _READABLE_VERSIONS:
        raise ValueError(f"{path} has format version {version!r}; this numnet reads versions {_READABLE_VERSIONS}")
    meta.pop("numnet_version", None)
    meta["format_version"] = version
    if meta.get("kind") not in KINDS or not isinstance(meta.get("arrays"), dict):
        raise ValueError(f"{path}: metadata kind must be one of {KINDS}, got {meta.get('kind')!r}")
    return meta


def _expect(found, wanted, what, path):
    extra, missing = sorted(found - wanted), sorted(wanted - found)
    if extra or missing:
        raise ValueError(f"{path}: {what} do not match the format: unexpected {extra}, missing {missing}")


def _check_array(key, a, spec, path):
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "sha256"}:
        raise ValueError(f"{path}: metadata for array {key!r} is malformed")
    if a.dtype.kind not in _ARRAY_KINDS or a.dtype.str != spec["dtype"]:
        raise ValueError(f"{path}: array {key!r} has dtype {a.dtype.str}, metadata says {spec['dtype']!r}")
    if list(a.shape) != spec["shape"]:
        raise ValueError(f"{path}: array {key!r} has shape {a.shape}, metadata says {spec['shape']}")
    if _digest(a) != spec["sha256"]:
        raise ValueError(f"{path}: array {key!r} fails its SHA-256 checksum (corrupt file)")


def _decode_vector(arrays, keys, path):
    _expect(set(arrays), keys, "arrays", path)
    return _check_vector(arrays["theta"], f"{path}: theta")


def _decode_network(spec, theta, path):
    try:
        net = from_json(spec)
    except (TypeError, ValueError, KeyError, RecursionError) as exc:
        raise ValueError(f"{path}: invalid architecture: {exc}") from exc
    if theta.shape[0] != net.n_params:
        raise ValueError(f"{path}: theta has {theta.shape[0]} entries, the architecture needs {net.n_params}")
    return net, theta


def _decode_estimator(spec, arrays, path, version):
    cls, params, attrs = _estimator_spec(spec, path)
    known = set(cls().get_params(deep=False))
    _expect(set(params) | (_LATER_PARAMS[version] & known), known, "estimator parameters", path)
    try:
        est = cls(**{k: _param_value(v) for k, v in params.items()})
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: invalid estimator parameter: {exc}") from exc
    fitted = {**attrs, **arrays}
    _expect(set(fitted) - set(cls._fitted_attributes), set(), "fitted attributes", path)
    for key, value in fitted.items():
        setattr(est, key, value)
    try:
        est._check_loaded()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: inconsistent {cls.__name__}: {exc}") from exc
    return est


def _estimator_spec(spec, path):
    """The whitelisted class, its params and its JSON fitted attributes from the metadata."""
    from .estimators import ESTIMATORS

    if not isinstance(spec, dict) or set(spec) != {"class", "params", "attributes"}:
        raise ValueError(f"{path}: estimator metadata must have the keys class, params, attributes")
    cls = ESTIMATORS.get(spec["class"]) if isinstance(spec["class"], str) else None
    if cls is None:
        raise ValueError(f"{path}: unknown estimator class {spec['class']!r}; known: {sorted(ESTIMATORS)}")
    if not isinstance(spec["params"], dict) or not isinstance(spec["attributes"], dict):
        raise ValueError(f"{path}: estimator params and attributes must be JSON objects")
    return cls, spec["params"], spec["attributes"]
