"""Save and load models safely: a ``.npz`` of plain arrays plus JSON metadata, never pickle.

Three kinds of model round-trip through :func:`save` and :func:`load`:

- ``"parameters"``: a bare 1-D parameter vector ``theta`` (``load`` returns the array);
- ``"network"``: a pair ``(net, theta)`` of any network built from numnet's
  layers (a layer, a ``Sequential``, a ``Graph``, nested in any way) and its
  flat parameters (``load`` returns the pair, the network rebuilt);
- ``"estimator"``: a fitted numnet estimator (``load`` returns a fitted copy).

File layout: every array is one ``.npy`` member of an uncompressed ``.npz``;
the member ``__meta__`` is the UTF-8 JSON metadata as a ``uint8`` array: the
format name and version, the kind, the numnet version, each array's dtype,
shape and SHA-256, and the architecture (:func:`numnet.architecture.to_json`)
or the estimator's class, parameters and scalar fitted attributes. Format
version 2 added graphs and every layer type; version 1 files still load.

:func:`load` trusts nothing before it is checked and never runs code from a
file: :class:`numnet._archive.Archive` checks the archive's structure,
member names and sizes and each ``.npy`` header against the metadata (at
most :data:`MAX_META` bytes, nested at most :data:`MAX_JSON_DEPTH` deep)
before any array is read, so memory stays within the file's size; then come
the SHA-256 checksums, finite parameters, networks from whitelisted types
only (:func:`numnet.architecture.from_json`), and estimators from
whitelisted classes with their parameters and fitted attributes validated
(:mod:`numnet.estimators._schema`). :func:`save` refuses what :func:`load`
would refuse, so every file it writes loads. Writes are atomic
(:func:`numnet._files.atomic_path`, which also removes the temporaries
killed writers left behind).
"""

import hashlib
import json
import re
from pathlib import Path

import numpy as np

from ._archive import Archive
from ._archive import json_depth as _json_depth
from ._files import atomic_path
from ._validation import FLOAT_DTYPES
from ._version import __version__
from .architecture import from_json, to_json

__all__ = ["save", "load", "FORMAT", "FORMAT_VERSION", "KINDS", "MAX_META", "MAX_JSON_DEPTH"]

FORMAT = "numnet"
FORMAT_VERSION = 2
KINDS = ("parameters", "network", "estimator")
_META = "__meta__"
_OBJECT = "numnet"  # key of a parameter stored as numnet.architecture.to_json data
_ARRAY_KINDS = "biufU"  # bool, integers, floats, unicode strings: never object arrays
_DTYPE = re.compile(r"[<>|][biufU][1-9][0-9]{0,5}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MAX_NDIM = 32
MAX_META = 16 * 2**20
"""Largest metadata (UTF-8 JSON bytes) :func:`load` reads and :func:`save` writes."""
MAX_JSON_DEPTH = 200
"""Deepest nesting of JSON arrays and objects in the metadata (a network nested
:data:`numnet.architecture.MAX_DEPTH` containers deep needs about 100)."""
_READABLE_VERSIONS = (
    1,
    2,
)  # version 2 adds graphs and every layer type; version 1 files read unchanged
#: Estimator parameters that files of a version may lack (added later); they take their defaults.
_LATER_PARAMS = {1: {"augment"}, 2: set()}


# ------------------------------------------------------------------- save


def save(model, path):
    """Write ``model`` to ``path`` atomically as ``.npz`` + JSON metadata.

    Parameters
    ----------
    model : ndarray, (network, theta) tuple, or fitted estimator
        A 1-D float parameter vector; a pair of a network built from numnet's
        layers and its parameter vector; or a fitted numnet estimator (a
        class of :data:`numnet.estimators.ESTIMATORS`).
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
        If it cannot be stored faithfully, or :func:`load` would refuse the
        file: unfitted estimator, custom activation, parameter that is not
        JSON data, length mismatch, parameters holding NaN or inf (the
        message names ``model``, ``theta`` or ``theta_``), fitted attributes
        outside the estimator's schema (named), metadata larger than
        :data:`MAX_META` or nested deeper than :data:`MAX_JSON_DEPTH`.
        Nothing is written then.
    """
    meta, arrays = _encode(model)
    meta.update(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        numnet_version=__version__,
        arrays={k: _describe(a) for k, a in arrays.items()},
    )
    text = json.dumps(meta, sort_keys=True)
    _check_meta_text(text, f"cannot save {path}")
    blob = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    with atomic_path(path, suffix=".npz") as tmp:
        np.savez(tmp, allow_pickle=False, **{_META: blob}, **arrays)
    return Path(path)


def _describe(a):
    return {"dtype": a.dtype.str, "shape": list(a.shape), "sha256": _digest(a)}


def _digest(a):
    return hashlib.sha256(np.ascontiguousarray(a)).hexdigest()  # the array's buffer, not a copy


def _encode(model):
    if isinstance(model, np.ndarray):
        return {"kind": "parameters"}, {"theta": _check_vector(model, "model")}
    if isinstance(model, tuple) and len(model) == 2:
        net, theta = model
        theta = _check_vector(theta, "theta")
        if theta.shape[0] != net.n_params:
            raise ValueError(
                f"theta has {theta.shape[0]} entries but the network has {net.n_params} parameters"
            )
        spec = to_json(net)
        _decode_network(spec, theta, "model")  # what load will do with it
        return {"kind": "network", "architecture": spec}, {"theta": theta}
    if hasattr(model, "get_params") and hasattr(model, "fit"):
        return _encode_estimator(model)
    raise TypeError(
        "model must be a parameter vector, a (network, theta) pair or a fitted numnet "
        f"estimator, got {type(model).__name__}"
    )


def _check_vector(theta, name):
    """A 1-D float32/float64 vector with finite entries (save and load both insist)."""
    theta = np.asarray(theta)
    if theta.ndim != 1 or theta.dtype not in FLOAT_DTYPES:
        raise ValueError(
            f"{name} must be a 1-D float32 or float64 array, got shape {theta.shape} "
            f"and dtype {theta.dtype}"
        )
    if not np.isfinite(theta).all():
        raise ValueError(f"{name} contains NaN or inf; numnet files hold finite parameters only")
    return theta


def _encode_estimator(est):
    from .estimators import ESTIMATORS, check_restorable

    name = type(est).__name__
    if ESTIMATORS.get(name) is not type(est):
        raise TypeError(
            f"model must be one of the numnet estimators {sorted(ESTIMATORS)}, got {name}"
        )
    if "theta_" not in vars(est):
        raise ValueError(f"this {name} is not fitted; fit it before saving")
    try:
        check_restorable(est)  # the checks load runs: what fails them is not written
    except (TypeError, ValueError) as exc:
        raise ValueError(f"this {name} cannot be saved: {exc}") from exc
    arrays, attrs = {}, {}
    for key, value in vars(est).items():
        if key.endswith("_") and not key.startswith("_"):
            if isinstance(value, np.ndarray):
                arrays[key] = _plain_array(value, key)
            else:
                attrs[key] = _json_data(value, key)
    params = {k: _param_data(v, k) for k, v in est.get_params(deep=False).items()}
    return {
        "kind": "estimator",
        "estimator": {"class": name, "params": params, "attributes": attrs},
    }, arrays


def _plain_array(a, name):
    if a.dtype.kind == "O":
        try:
            a = a.astype(str)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"{name} holds objects that are not strings; it cannot be saved"
            ) from exc
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
            raise ValueError(
                f"an estimator parameter that is an object must be {{{_OBJECT!r}: ...}}"
            )
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
    raise ValueError(
        f"{name}={value!r} is not plain data (None, bool, int, float, str or a list "
        "of them) and cannot be saved; use an int random_state, for example"
    )


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
        If the file is not exactly one uncompressed ``.npz`` of ``.npy``
        members (truncated, corrupt, data appended or prepended, compressed,
        unknown or duplicated members), has another format version or
        malformed, oversized or too deeply nested metadata, or its arrays,
        architecture or estimator disagree with the metadata or do not
        validate (the message names the array, parameter or attribute).
    """
    path = Path(path)
    meta, arrays = _read(path)
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
    """Metadata and arrays; names, sizes and headers checked before any array is read."""
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    with Archive(path) as archive:
        if _META not in archive.keys:
            raise ValueError(f"{path} is not a numnet file (no {_META} member)")
        meta = _parse_meta(archive.read_bytes(_META, MAX_META), path)
        _expect(archive.keys - {_META}, set(meta["arrays"]), "arrays", path)
        specs = {key: _array_spec(key, spec, path) for key, spec in meta["arrays"].items()}
        for key, (dtype, shape, _) in specs.items():
            archive.check(key, dtype, shape)
        arrays = {key: archive.read(key, dtype, shape) for key, (dtype, shape, _) in specs.items()}
    for key, (_, _, sha256) in specs.items():
        if _digest(arrays[key]) != sha256:
            raise ValueError(f"{path}: array {key!r} fails its SHA-256 checksum (corrupt file)")
    return meta, arrays


def _parse_meta(raw, path):
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: the metadata is not valid UTF-8: {exc}") from exc
    _check_meta_text(text, path)
    try:
        meta = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: the metadata is not valid JSON: {exc}") from exc
    if not isinstance(meta, dict) or meta.pop("format", None) != FORMAT:
        raise ValueError(f"{path} is not a numnet file (no format tag)")
    version = meta.pop("format_version", None)
    if type(version) is not int or version not in _READABLE_VERSIONS:
        raise ValueError(
            f"{path} has format version {version!r}; this numnet reads versions {_READABLE_VERSIONS}"
        )
    meta.pop("numnet_version", None)
    meta["format_version"] = version
    if meta.get("kind") not in KINDS or not isinstance(meta.get("arrays"), dict):
        raise ValueError(f"{path}: metadata kind must be one of {KINDS}, got {meta.get('kind')!r}")
    return meta


def _check_meta_text(text, where):
    """Size and nesting limits of the metadata, checked before it is parsed (and before it is written)."""
    size = len(text.encode("utf-8"))
    if size > MAX_META:
        raise ValueError(f"{where}: the metadata has {size} bytes; at most {MAX_META} are allowed")
    depth = _json_depth(text)
    if depth > MAX_JSON_DEPTH:
        raise ValueError(
            f"{where}: the metadata is nested {depth} deep; at most {MAX_JSON_DEPTH} is allowed"
        )


def _expect(found, wanted, what, path):
    extra, missing = sorted(found - wanted), sorted(wanted - found)
    if extra or missing:
        raise ValueError(
            f"{path}: {what} do not match the format: unexpected {extra}, missing {missing}"
        )


def _array_spec(key, spec, path):
    """``(dtype, shape, sha256)`` of one array as the metadata declares it, each checked."""
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "sha256"}:
        raise ValueError(f"{path}: metadata for array {key!r} is malformed")
    dtype, shape, sha256 = spec["dtype"], spec["shape"], spec["sha256"]
    if not isinstance(dtype, str) or not _DTYPE.fullmatch(dtype) or _dtype_str(dtype) != dtype:
        raise ValueError(
            f"{path}: array {key!r} has dtype {dtype!r} in the metadata; numnet files hold "
            "bool, integer, float and string arrays only"
        )
    if (
        not isinstance(shape, list)
        or len(shape) > _MAX_NDIM
        or not all(type(n) is int and n >= 0 for n in shape)
    ):
        raise ValueError(
            f"{path}: array {key!r} has shape {shape!r} in the metadata; expected a list "
            f"of at most {_MAX_NDIM} non-negative ints"
        )
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValueError(f"{path}: array {key!r} has no valid SHA-256 in the metadata")
    return np.dtype(dtype), tuple(shape), sha256


def _dtype_str(text):
    try:
        return np.dtype(text).str
    except TypeError:
        return None


def _decode_vector(arrays, keys, path):
    _expect(set(arrays), keys, "arrays", path)
    return _check_vector(arrays["theta"], f"{path}: theta")


def _decode_network(spec, theta, path):
    try:
        net = from_json(spec)
    except (TypeError, ValueError, KeyError, RecursionError) as exc:
        raise ValueError(f"{path}: invalid architecture: {exc}") from exc
    if theta.shape[0] != net.n_params:
        raise ValueError(
            f"{path}: theta has {theta.shape[0]} entries, the architecture needs {net.n_params}"
        )
    return net, theta


def _decode_estimator(spec, arrays, path, version):
    from .estimators import check_restorable, fitted_attributes

    cls, params, attrs = _estimator_spec(spec, path)
    known = set(cls().get_params(deep=False))
    _expect(set(params) | (_LATER_PARAMS[version] & known), known, "estimator parameters", path)
    try:
        est = cls(**{k: _param_value(v) for k, v in params.items()})
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValueError(f"{path}: invalid estimator parameter: {exc}") from exc
    both = sorted(set(attrs) & set(arrays))
    if both:
        raise ValueError(f"{path}: fitted attributes {both} are both arrays and JSON attributes")
    fitted = {**attrs, **arrays}
    _expect(set(fitted) - set(fitted_attributes(cls)), set(), "fitted attributes", path)
    for key, value in fitted.items():
        setattr(est, key, value)
    try:
        check_restorable(est)
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
        raise ValueError(
            f"{path}: unknown estimator class {spec['class']!r}; known: {sorted(ESTIMATORS)}"
        )
    if not isinstance(spec["params"], dict) or not isinstance(spec["attributes"], dict):
        raise ValueError(f"{path}: estimator params and attributes must be JSON objects")
    return cls, spec["params"], spec["attributes"]
