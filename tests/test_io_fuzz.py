"""Hostile model files: crafted archives and a seeded fuzz of ``numnet.load``, in a memory-capped child.

Every hostile file is loaded in a child process whose address space is
capped (``resource.setrlimit(RLIMIT_AS)``: its size after the imports plus
:data:`CAP`), so an allocation that a file's declared sizes drive, a
``MemoryError`` or a ``RecursionError`` fails the test instead of passing
unnoticed. Only ``ValueError`` may escape ``load``. A file corrupted byte by
byte either fails or loads the very model that was saved; a file rebuilt
with other, valid metadata may load another model, but only one that
validates. Run as a script (``python tests/test_io_fuzz.py FOLDER``), this
module is that child.
"""

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import time
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from numnet import load, save
from numnet.architecture import to_json

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="needs RLIMIT_AS and /proc"
)

CAP = 512 * 2**20
"""Address space the child may add to what it has after its imports."""
MIB, GIB = 2**20, 2**30
N_MUTATIONS = 1500


# ------------------------------------------------------------------- the child


def _child(folder):
    """Load every listed file under the cap; write ``results.json`` (outcome and seconds per file)."""
    cases = json.loads((folder / "cases.json").read_text())
    import numnet.estimators  # noqa: F401 (scikit-learn, imported before the cap)

    bases = {name: _outcome(name) for name in cases["bases"]}  # also warms every code path up
    _cap_address_space(CAP)
    results = {"capped": _cap_holds(), "bases": bases, "files": {}}
    for name in cases["files"]:
        start = time.perf_counter()
        results["files"][name] = [_outcome(name), time.perf_counter() - start]
    (folder / "results.json").write_text(json.dumps(results))


def _cap_address_space(extra):
    import resource

    with open("/proc/self/status") as f:
        size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    resource.setrlimit(
        resource.RLIMIT_AS, (size + extra, resource.getrlimit(resource.RLIMIT_AS)[1])
    )


def _cap_holds():
    try:
        bytearray(CAP + GIB)
    except MemoryError:
        return True
    return False


def _outcome(path):
    try:
        return "loaded " + _fingerprint(load(path))
    except ValueError as exc:
        return f"ValueError: {str(exc)[:300]}"
    except BaseException as exc:  # noqa: BLE001 (what escapes is the finding)
        return f"{type(exc).__name__}: {str(exc)[:300]}"


def _fingerprint(model):
    """SHA-256 of all a loaded model is: arrays bit for bit, architecture, parameters, fitted attributes."""
    h = hashlib.sha256()
    if isinstance(model, tuple):
        parts = list(model)
    elif isinstance(model, np.ndarray):
        parts = [model]
    else:
        parts = [
            type(model).__name__,
            *sorted(model.get_params(deep=False).items()),
            *sorted(vars(model).items()),
        ]
    for part in parts:
        for value in part if isinstance(part, tuple) else (part,):
            if isinstance(value, np.ndarray):
                h.update(
                    f"{value.dtype.str}{value.shape}".encode()
                    + np.ascontiguousarray(value).tobytes()
                )
            else:
                h.update(
                    json.dumps(to_json(value), sort_keys=True).encode()
                    if hasattr(value, "get_config")
                    else repr(value).encode()
                )
    return h.hexdigest()


def _load_all(folder, files, bases):
    """Run the child on ``files``; its results."""
    (folder / "cases.json").write_text(
        json.dumps({"files": [str(f) for f in files], "bases": [str(b) for b in bases]})
    )
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, __file__, str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = json.loads((folder / "results.json").read_text())
    assert results["capped"], "the address-space cap did not hold in the child"
    return results


# ------------------------------------------------------------------- files


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    """A saved file of each kind: a parameter vector, a network, a Graph, every estimator class."""
    import numnet
    from sklearn.exceptions import ConvergenceWarning

    folder = tmp_path_factory.mktemp("bases")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 4))
    labels, Y = np.array(["a", "b", "c"])[rng.integers(0, 3, 40)], X[:, :2] ** 2
    graph = numnet.Graph(
        4,
        [
            ("a", numnet.Dense(4, 3, "tanh")),
            ("b", numnet.Dense(4, 2, "sin")),
            ("c", numnet.Concat(), ["a", "b"]),
            ("o", numnet.Dense(5, 2), "c"),
        ],
    )
    net = numnet.Sequential(
        [numnet.Dense(4, 5, "tanh"), numnet.Residual(5, "sin"), numnet.Dense(5, 2)]
    )
    models = {
        "vector": rng.standard_normal(30),
        "network": (net, net.init(1)),
        "graph": (graph, graph.init(2)),
    }
    estimators = {
        "mlp_classifier": (numnet.MLPClassifier((5,), max_iter=15, random_state=0), labels),
        "mlp_regressor": (
            numnet.MLPRegressor((5,), early_stopping=True, max_iter=15, random_state=0),
            Y,
        ),
        "network_classifier": (
            numnet.NetworkClassifier("dense:6,tanh", max_iter=15, random_state=0),
            labels,
        ),
        "network_regressor": (numnet.NetworkRegressor(graph, max_iter=15, random_state=0), Y),
        "elm_classifier": (
            numnet.ELMClassifier(n_hidden=8, loss="cross_entropy", random_state=0),
            labels,
        ),
        "elm_regressor": (numnet.ELMRegressor(n_hidden=8, random_state=0), Y),
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        models.update({name: est.fit(X, y) for name, (est, y) in estimators.items()})
    return {name: save(model, folder / f"{name}.npz") for name, model in models.items()}


def _members(path_or_bytes):
    source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    with zipfile.ZipFile(source) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _zip(members, compression=zipfile.ZIP_STORED):
    """Archive bytes of ``members`` (a dict, or (name, bytes) pairs for duplicate names)."""
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", compression) as zf:
        warnings.simplefilter("ignore", UserWarning)  # duplicate names, on purpose
        for name, data in members.items() if isinstance(members, dict) else members:
            zf.writestr(name, data)
    return buf.getvalue()


def _npy(array, allow_pickle=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(array), allow_pickle=allow_pickle)
    return buf.getvalue()


def _npy_header(shape, descr="<f8", version=(1, 0)):
    buf = io.BytesIO()
    write = (
        np.lib.format.write_array_header_1_0
        if version == (1, 0)
        else np.lib.format.write_array_header_2_0
    )
    write(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    return buf.getvalue()


def _meta(members):
    return json.loads(np.load(io.BytesIO(members["__meta__.npy"])).tobytes())


def _with_meta(members, meta_or_text):
    text = meta_or_text if isinstance(meta_or_text, str) else json.dumps(meta_or_text)
    return {**members, "__meta__.npy": _npy(np.frombuffer(text.encode(), np.uint8))}


class Evil:
    """Unpickling this creates ``marker``: a file that exists only if some reader unpickled."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


# ------------------------------------------------------------------- crafted files: raw zip with deflated zeros


def _deflated_zeros(head, n_mib):
    """Raw-deflate chunks of ``head`` then ``n_mib`` MiB of zeros, compressing one MiB only: a block
    ended by a full flush refers to nothing before it, so repeating its bytes repeats the data."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    yield c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(bytes(MIB)) + c.flush(zlib.Z_FULL_FLUSH)
    for _ in range(n_mib):
        yield block
    yield c.flush()


def _write_raw_zip(path, members):
    """A zip64 archive written byte by byte; ``members``: (name, method, crc, size, chunks) each.

    The deflated members of zeros carry CRC 0: a reader that trusts the
    declared sizes allocates long before it could check the CRC at the end.
    """
    central = []
    with open(path, "wb") as f:
        for name, method, crc, size, chunks in members:
            at, raw = f.tell(), name.encode()
            f.write(
                struct.pack(
                    "<4s5H3L2H",
                    b"PK\x03\x04",
                    45,
                    0,
                    method,
                    0,
                    33,
                    crc,
                    2**32 - 1,
                    2**32 - 1,
                    len(raw),
                    20,
                )
                + raw
                + struct.pack("<HHQQ", 1, 16, size, 0)
            )
            start = f.tell()
            for chunk in chunks:
                f.write(chunk)
            stored = f.tell() - start
            f.seek(start - 8)
            f.write(struct.pack("<Q", stored))
            f.seek(0, io.SEEK_END)
            central.append(
                struct.pack(
                    "<4s6H3L5H2L",
                    b"PK\x01\x02",
                    45,
                    45,
                    0,
                    method,
                    0,
                    33,
                    crc,
                    2**32 - 1,
                    2**32 - 1,
                    len(raw),
                    28,
                    0,
                    0,
                    0,
                    0,
                    2**32 - 1,
                )
                + raw
                + struct.pack("<HHQQQ", 1, 24, size, stored, at)
            )
        directory = f.tell()
        f.write(b"".join(central))
        end64 = f.tell()
        n = len(members)
        f.write(
            struct.pack(
                "<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, n, n, end64 - directory, directory
            )
        )
        f.write(struct.pack("<4sLQL", b"PK\x06\x07", 0, end64, 1))
        f.write(
            struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 2**32 - 1, 2**32 - 1, 0)
        )
    return path


def _stored(members):
    return [
        (name, zipfile.ZIP_STORED, zlib.crc32(data), len(data), [data])
        for name, data in members.items()
    ]


def _zeros_member(name, n_floats):
    head = _npy_header((n_floats,))
    return (
        name,
        zipfile.ZIP_DEFLATED,
        0,
        len(head) + 8 * n_floats,
        _deflated_zeros(head, 8 * n_floats // MIB),
    )


@pytest.fixture(scope="module")
def crafted(bases, tmp_path_factory):
    """The hostile files of issue 18 (items 1 and 3), loaded once in the capped child."""
    folder = tmp_path_factory.mktemp("crafted")
    vector = _members(bases["vector"])
    meta = _meta(vector)
    huge = {**meta, "arrays": {"theta": {**meta["arrays"]["theta"], "shape": [2**37]}}}
    files = {
        "header_declares_2e37_floats": _zip(
            {**vector, "theta.npy": _npy_header((2**37,)) + vector["theta.npy"][128:]}
        ),
        "header_and_meta_declare_2e37_floats": _zip(
            _with_meta(
                {**vector, "theta.npy": _npy_header((2**37,)) + vector["theta.npy"][128:]}, huge
            )
        ),
        "appended_second_numnet_file": bases["vector"].read_bytes() + bases["network"].read_bytes(),
        "prepended_numnet_file": bases["network"].read_bytes() + bases["vector"].read_bytes(),
        "nested_json_1e5": _zip(
            _with_meta(vector, json.dumps(meta)[:-1] + ', "x": ' + "[" * 10**5 + "]" * 10**5 + "}")
        ),
    }
    paths = {name: folder / f"{name}.npz" for name in files}
    for name, raw in files.items():
        paths[name].write_bytes(raw)
    network = _members(bases["network"])
    paths["extra_gib_deflated_member"] = _write_raw_zip(
        folder / "extra.npz", _stored(network) + [_zeros_member("payload.npy", GIB // 8)]
    )
    named = {**_meta(network)}
    named["arrays"] = {
        **named["arrays"],
        "payload": {"dtype": "<f8", "shape": [GIB // 8], "sha256": "0" * 64},
    }
    paths["extra_gib_member_named_in_meta"] = _write_raw_zip(
        folder / "named.npz",
        _stored(_with_meta(network, named)) + [_zeros_member("payload.npy", GIB // 8)],
    )
    big = {
        **meta,
        "arrays": {"theta": {"dtype": "<f8", "shape": [4 * GIB // 8], "sha256": "0" * 64}},
    }
    paths["member_of_4_gib"] = _write_raw_zip(
        folder / "four.npz",
        _stored({"__meta__.npy": _with_meta(vector, big)["__meta__.npy"]})
        + [_zeros_member("theta.npy", 4 * GIB // 8)],
    )
    results = _load_all(folder, list(paths.values()), [])
    return paths, {name: results["files"][str(path)] for name, path in paths.items()}


@pytest.mark.parametrize(
    "name",
    [
        "header_declares_2e37_floats",
        "header_and_meta_declare_2e37_floats",
        "extra_gib_deflated_member",
        "extra_gib_member_named_in_meta",
        "member_of_4_gib",
        "appended_second_numnet_file",
        "prepended_numnet_file",
        "nested_json_1e5",
    ],
)
def test_crafted_file_is_a_quick_value_error_in_bounded_memory(crafted, name):
    _, results = crafted
    outcome, seconds = results[name]
    assert outcome.startswith("ValueError"), outcome
    assert seconds < 1.0


def test_crafted_files_are_what_they_claim(crafted):
    """The crafted archives are valid zips whose directories declare what the issue describes."""
    paths, _ = crafted
    assert paths["header_declares_2e37_floats"].stat().st_size < 2000
    for name, member, declared in (
        ("extra_gib_deflated_member", "payload.npy", GIB),
        ("member_of_4_gib", "theta.npy", 4 * GIB),
    ):
        assert paths[name].stat().st_size < 5 * MIB
        with zipfile.ZipFile(paths[name]) as zf:
            info = zf.getinfo(member)
            assert info.file_size == declared + 128 and info.compress_type == zipfile.ZIP_DEFLATED
            with zf.open(info) as f:
                assert np.lib.format.read_magic(f) == (1, 0)
                assert np.lib.format.read_array_header_1_0(f)[0] == (declared // 8,)
                assert f.read(MIB) == bytes(MIB)


def test_deflated_zero_blocks_decode_to_zeros():
    data = b"".join(_deflated_zeros(b"head", 3))
    assert zlib.decompress(data, -15) == b"head" + bytes(3 * MIB)


def test_zip64_end_records_are_read(bases, tmp_path):
    """A numnet file written with zip64 end records (as zipfile writes past 4 GiB) loads unchanged."""
    for name in ("vector", "mlp_classifier"):
        path = _write_raw_zip(tmp_path / f"{name}.npz", _stored(_members(bases[name])))
        assert _fingerprint(load(path)) == _fingerprint(load(bases[name]))


def test_appended_file_is_refused_not_loaded_as_the_other_model(crafted, bases):
    paths, results = crafted
    assert (
        np.load(paths["appended_second_numnet_file"])["theta"].shape != load(bases["vector"]).shape
    )
    assert "appended" in results["appended_second_numnet_file"][0]


# ------------------------------------------------------------------- fuzz

_JSON_VALUES = [
    None,
    True,
    False,
    0,
    1,
    -1,
    7,
    2**63,
    10**30,
    0.5,
    -0.0,
    1e308,
    float("inf"),
    float("-inf"),
    float("nan"),
    "",
    "x",
    "tanh",
    "lbfgs",
    [],
    [1],
    [[2]],
    {},
    {"type": "Dense"},
    "A" * 1000,
]


def _flip_bits(raw, rng, other, lo=0, hi=None):
    out = bytearray(raw)
    for _ in range(int(rng.integers(1, 9))):
        out[int(rng.integers(lo, hi or len(raw)))] ^= 1 << int(rng.integers(8))
    return bytes(out)


def _flip_in_structure(raw, rng, other):
    """Bit flips among the zip headers and directory (the first and the last bytes)."""
    if rng.random() < 0.5:
        return _flip_bits(raw, rng, other, 0, 200)
    return _flip_bits(raw, rng, other, len(raw) - 400, len(raw))


def _set_byte(raw, rng, other):
    at = int(rng.integers(len(raw)))
    return raw[:at] + bytes([int(rng.choice([0, 255, int(rng.integers(256))]))]) + raw[at + 1 :]


def _truncate(raw, rng, other):
    return raw[: int(rng.integers(len(raw)))]


def _append_bytes(raw, rng, other):
    return raw + rng.bytes(int(rng.integers(1, 100)))


def _prepend_bytes(raw, rng, other):
    return rng.bytes(int(rng.integers(1, 100))) + raw


def _splice(raw, rng, other):
    """A random span deleted or duplicated (every later offset shifts)."""
    a = int(rng.integers(len(raw)))
    b = min(len(raw), a + int(rng.integers(1, 64)))
    return raw[:a] + raw[b:] if rng.random() < 0.5 else raw[:b] + raw[a:b] + raw[b:]


def _append_file(raw, rng, other):
    return raw + other if rng.random() < 0.5 else other + raw


def _extra_member(raw, rng, other):
    name = str(
        rng.choice(
            ["payload.npy", "theta_extra.npy", "x.npy", "../evil.npy", "a/b.npy", "notes.txt"]
        )
    )
    return _zip({**_members(raw), name: _npy(rng.standard_normal(int(rng.integers(1, 9))))})


def _duplicate_member(raw, rng, other):
    members = list(_members(raw).items())
    return _zip(members + [members[int(rng.integers(len(members)))]])


def _replace_member(raw, rng, other):
    members = _members(raw)
    name = str(rng.choice(sorted(k for k in members if k != "__meta__.npy")))
    kind = rng.choice(["<f8", "<f4", "<i8", "|b1", "<U3"])
    value = rng.standard_normal(int(rng.integers(0, 50))) * 10
    return _zip({**members, name: _npy(value.astype(kind))})


def _pickle_member(raw, rng, other, marker=None):
    members = _members(raw)
    name = str(rng.choice(sorted(members)))
    return _zip(
        {**members, name: _npy(np.array([Evil(marker), 1], dtype=object), allow_pickle=True)}
    )


def _npy_header_mutation(raw, rng, other):
    """A member's .npy header replaced by an oversized, huge, negative or foreign one (same data after it)."""
    members = _members(raw)
    name = str(rng.choice(sorted(members)))
    body = members[name][128:]
    choice = int(rng.integers(7))
    if choice == 0:  # version 2 header claiming 2 GiB of header text
        header = np.lib.format.magic(2, 0) + struct.pack("<I", 2**31) + b"{"
    elif choice == 1:
        header = _npy_header((2**37,), "<f8" if name != "__meta__.npy" else "|u1")
    elif choice == 2:
        header = _npy_header((-5,))
    elif choice == 3:
        header = _npy_header((3,), "|O")
    elif choice == 4:
        header = _npy_header((2, 3), "<c16")
    elif choice == 5:  # header text beyond the limit, padded with spaces
        header = _npy_header((3,), "<f8", version=(2, 0))[:-1] + b" " * 20_000 + b"\n"
        header = header[:8] + struct.pack("<I", len(header) - 12) + header[12:]
    else:
        header = np.lib.format.magic(3, 0) + struct.pack("<I", 60) + b"{'descr': '<f8'}".ljust(60)
    return _zip({**members, name: header + body})


def _compress(raw, rng, other):
    return _zip(_members(raw), zipfile.ZIP_DEFLATED)


def _meta_sizes(raw, rng, other):
    """The metadata declares an array of another size or a dtype numnet never stores."""
    members = _members(raw)
    meta = _meta(members)
    spec = meta["arrays"][str(rng.choice(sorted(meta["arrays"])))]
    field, value = [
        ("shape", [2**37]),
        ("shape", [2**62, 2**62]),
        ("shape", [-1]),
        ("dtype", "|O"),
        ("dtype", "<c16"),
        ("dtype", ">f8"),
        ("dtype", "<V8"),
        ("shape", [1] * 40),
        ("sha256", "0" * 64),
    ][int(rng.integers(9))]
    spec[field] = value
    return _zip(_with_meta(members, meta))


def _paths(node, path=()):
    yield path
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        yield from _paths(child, path + (key,))


def _pick(meta, rng):
    paths = [p for p in _paths(meta) if p]
    path = paths[int(rng.integers(len(paths)))]
    parent = meta
    for key in path[:-1]:
        parent = parent[key]
    return parent, path[-1]


def _json_value(raw, rng, other):
    members = _members(raw)
    meta = _meta(members)
    parent, key = _pick(meta, rng)
    parent[key] = _JSON_VALUES[int(rng.integers(len(_JSON_VALUES)))]
    return _zip(_with_meta(members, meta))


def _json_key(raw, rng, other):
    """A key deleted from, or added to, a random object of the metadata."""
    members = _members(raw)
    meta = _meta(members)
    objects = [p for p in _paths(meta) if isinstance(_at(meta, p), dict) and _at(meta, p)]
    target = _at(meta, objects[int(rng.integers(len(objects)))])
    if rng.random() < 0.5:
        del target[str(rng.choice(sorted(target)))]
    else:
        target["hook"] = _JSON_VALUES[int(rng.integers(len(_JSON_VALUES)))]
    return _zip(_with_meta(members, meta))


def _at(node, path):
    for key in path:
        node = node[key]
    return node


def _json_text(raw, rng, other):
    """Characters of the JSON text deleted, inserted or replaced (malformed, mostly)."""
    members = _members(raw)
    text = json.dumps(_meta(members))
    for _ in range(int(rng.integers(1, 4))):
        at = int(rng.integers(len(text)))
        piece = str(rng.choice(["", "{", "]", '"', ",", "\\", "\x00", "é"]))
        text = text[:at] + piece + text[at + int(rng.integers(0, 3)) :]
    return _zip(_with_meta(members, text))


def _deep_json(raw, rng, other):
    members = _members(raw)
    meta = _meta(members)
    parent, key = _pick(meta, rng)
    parent[key] = "@"
    depth = int(rng.choice([201, 1000, 10**4, 10**5]))
    opener, closer = ("[", "]") if rng.random() < 0.5 else ('{"a":', "}")
    return _zip(
        _with_meta(
            members, json.dumps(meta).replace('"@"', opener * depth + "0" + closer * depth, 1)
        )
    )


#: name → (what may happen, mutation): "same" means a ValueError or the saved model bit for bit;
#: "refused" a ValueError; "valid" a ValueError or a model that validates.
MUTATIONS = {
    "flip_bits": ("same", _flip_bits),
    "flip_in_structure": ("same", _flip_in_structure),
    "set_byte": ("same", _set_byte),
    "truncate": ("same", _truncate),
    "append_bytes": ("same", _append_bytes),
    "prepend_bytes": ("same", _prepend_bytes),
    "splice": ("same", _splice),
    "append_or_prepend_file": ("refused", _append_file),
    "extra_member": ("refused", _extra_member),
    "duplicate_member": ("refused", _duplicate_member),
    "replace_member": ("refused", _replace_member),
    "pickled_member": ("refused", _pickle_member),
    "npy_header": ("refused", _npy_header_mutation),
    "compressed": ("refused", _compress),
    "meta_sizes": ("refused", _meta_sizes),
    "deep_json": ("refused", _deep_json),
    "json_text": ("valid", _json_text),
    "json_value": ("valid", _json_value),
    "json_key": ("valid", _json_key),
}


def test_fuzzed_files_raise_only_value_error_in_bounded_memory(bases, tmp_path):
    """1,500 seeded mutations of real files (every kind of model): only ValueError escapes, memory capped."""
    start = time.perf_counter()
    rng = np.random.default_rng(18)
    names, marker = sorted(bases), tmp_path / "unpickled"
    raws = {name: bases[name].read_bytes() for name in names}
    files, plan = [], {}
    for i in range(N_MUTATIONS):
        kind = sorted(MUTATIONS)[i % len(MUTATIONS)]
        base = names[(i // len(MUTATIONS)) % len(names)]
        mutate = MUTATIONS[kind][1]
        other = raws[names[(names.index(base) + 1) % len(names)]]
        raw = (
            mutate(raws[base], rng, other, marker=marker)
            if kind == "pickled_member"
            else mutate(raws[base], rng, other)
        )
        path = tmp_path / f"{i:04d}_{kind}_{base}.npz"
        path.write_bytes(raw)
        files.append(path)
        plan[str(path)] = (kind, str(bases[base]))
    results = _load_all(tmp_path, files, [bases[name] for name in names])
    _check_fuzz(results, plan)
    assert not marker.exists()
    assert time.perf_counter() - start < 90


def _check_fuzz(results, plan):
    refused, same, other = dict.fromkeys(MUTATIONS, 0), 0, 0
    for path, (outcome, seconds) in results["files"].items():
        kind, base = plan[path]
        allowed, _ = MUTATIONS[kind]
        assert outcome.startswith(("ValueError", "loaded ")), f"{path}: {outcome}"
        assert seconds < 2.0, f"{path} took {seconds:.2f} s"
        if outcome.startswith("ValueError"):
            refused[kind] += 1
        elif allowed == "refused":
            raise AssertionError(f"{path} ({kind}) loaded; it must be refused")
        elif outcome == results["bases"][base]:
            same += 1
        else:
            assert allowed == "valid", f"{path} ({kind}) loaded a different model"
            other += 1
    assert len(results["files"]) >= 1000
    assert all(n > 0 for n in refused.values()), refused
    assert all(outcome.startswith("loaded ") for outcome in results["bases"].values())
    slowest = max(seconds for _, seconds in results["files"].values())
    print(
        f"\n{len(results['files'])} mutations: {sum(refused.values())} ValueError, {same} loaded the saved "
        f"model bit for bit, {other} loaded another valid model (rewritten metadata); slowest load {slowest:.3f} s"
    )


if __name__ == "__main__":
    _child(Path(sys.argv[1]))
