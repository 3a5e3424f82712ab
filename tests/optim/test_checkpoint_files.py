"""Hostile checkpoint files: read with the guarantees of model files (issue 18, items 1, 3 and 6).

A checkpoint is read through :class:`numnet._archive.Archive`, as
``numnet.load`` reads a model: crafted files (a header declaring 2³⁷
floats, a second checkpoint appended, deeply nested JSON, a pickled member,
references past a member, …), truncations and seeded bit flips are a
``ValueError`` and nothing else, and the crafted ones are also read in a
child whose address space is capped, so that an allocation driven by a
declared size fails the test. A flip that the reader does not refuse
(in a zip field nothing depends on) yields the very record that was saved.
"""

import io
import json
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import numnet
from numnet.optim import minimize
from numnet.optim.checkpoint import read_checkpoint, write_checkpoint

from test_resume import STOCHASTIC, network

MIB = 2**20


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """An Adam checkpoint after 3 epochs: bytes and the record."""
    path = tmp_path_factory.mktemp("ck") / "run.npz"
    obj, theta0 = network()
    minimize(obj, theta0, "adam", gtol=0.0, max_iter=3, checkpoint=path, **STOCHASTIC)
    return path.read_bytes(), read_checkpoint(path)


def members(raw):
    with zipfile.ZipFile(io.BytesIO(raw)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def archive(parts, compression=zipfile.ZIP_STORED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return buf.getvalue()


def npy(array, allow_pickle=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(array), allow_pickle=allow_pickle)
    return buf.getvalue()


def meta_of(parts):
    return json.loads(np.load(io.BytesIO(parts["__meta__.npy"])).tobytes())


def with_meta(parts, meta):
    text = meta if isinstance(meta, str) else json.dumps(meta)
    return {**parts, "__meta__.npy": npy(np.frombuffer(text.encode(), np.uint8))}


def huge_header(raw):
    """The f8 member and the metadata both declare 2**37 floats (1 TiB); the data stay as they were."""
    parts = members(raw)
    meta = meta_of(parts)
    body = parts["f8.npy"][len(parts["f8.npy"]) - 8 * meta["arrays"]["f8"]["size"] :]
    meta["arrays"]["f8"]["size"] = 2**37
    head = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        head, {"descr": "<f8", "fortran_order": False, "shape": (2**37,)}
    )
    return archive(with_meta({**parts, "f8.npy": head.getvalue() + body}, meta))


def nested(raw, depth=100_000):
    parts = members(raw)
    text = json.dumps(meta_of(parts))
    return archive(with_meta(parts, text[:-1] + ', "deep": ' + "[" * depth + "]" * depth + "}"))


def edit(raw, change):
    parts = members(raw)
    meta = meta_of(parts)
    change(meta)
    return archive(with_meta(parts, meta))


def first_array(meta):
    return meta["state"]["fields"]["x"]


CRAFTED = {
    "huge header": huge_header,
    "appended checkpoint": lambda raw: raw + raw,
    "appended bytes": lambda raw: raw + b"\0" * 64,
    "prepended bytes": lambda raw: b"PK\3\4" + raw,
    "truncated": lambda raw: raw[: len(raw) // 2],
    "empty": lambda raw: b"",
    "deeply nested json": nested,
    "json not utf-8": lambda raw: archive(
        {**members(raw), "__meta__.npy": npy(np.frombuffer(b"\xff{", np.uint8))}
    ),
    "json malformed": lambda raw: archive(with_meta(members(raw), '{"format": ')),
    "other version": lambda raw: edit(raw, lambda m: m.update(version=1)),
    "version true": lambda raw: edit(raw, lambda m: m.update(version=True)),
    "extra member": lambda raw: archive({**members(raw), "evil.npy": npy(np.zeros(3))}),
    "missing member": lambda raw: archive({k: v for k, v in members(raw).items() if k != "f8.npy"}),
    "pickled member": lambda raw: archive(
        {**members(raw), "f8.npy": npy(np.array([{}], dtype=object), True)}
    ),
    "compressed": lambda raw: archive(members(raw), zipfile.ZIP_DEFLATED),
    "wrong checksum": lambda raw: edit(raw, lambda m: m["arrays"]["f8"].update(sha256="0" * 64)),
    "array past its member": lambda raw: edit(raw, lambda m: first_array(m).update(at=10**9)),
    "array of huge shape": lambda raw: edit(
        raw, lambda m: first_array(m).update(shape=[2**40, 2**40])
    ),
    "unknown state type": lambda raw: edit(
        raw, lambda m: m["state"].update({"@namedtuple": "os:system"})
    ),
    "scalar of object dtype": lambda raw: edit(
        raw, lambda m: m["state"]["fields"].update(f={"@scalar": "|O", "value": 1})
    ),
    "nit beyond history": lambda raw: edit(raw, lambda m: m.update(nit=4)),
    "negative counts": lambda raw: edit(raw, lambda m: m.update(counts=[-1, 0, 0])),
    "missing field": lambda raw: edit(raw, lambda m: m.pop("last")),
    "best of another size": lambda raw: edit(raw, lambda m: m["best"]["x"].update(shape=[3])),
}


@pytest.mark.parametrize("name", sorted(CRAFTED))
def test_crafted_checkpoint_is_a_value_error(saved, tmp_path, name):
    path = tmp_path / "c.npz"
    path.write_bytes(CRAFTED[name](saved[0]))
    with pytest.raises(ValueError, match="c.npz"):
        read_checkpoint(path)
    obj, theta0 = network()
    with pytest.raises(ValueError, match="resume="):
        minimize(obj, theta0, "adam", resume=path, **STOCHASTIC)


def fingerprint(record):
    """The record without its clock readings (elapsed time, the history's times)."""
    history = [{k: v for k, v in h.items() if k != "time"} for h in record["history"]]
    return pickle.dumps({**{k: v for k, v in record.items() if k != "elapsed"}, "history": history})


@pytest.mark.parametrize("seed", range(4))
def test_bit_flips_and_truncations_are_refused_or_harmless(saved, seed):
    """100 single-bit flips and 25 truncations per seed: ValueError, or (a flip in a zip field nothing
    reads, such as a timestamp) exactly the saved record."""
    raw, record = saved
    rng = np.random.default_rng(seed)
    outcomes = {"refused": 0, "same": 0}
    for i in range(125):
        data = bytearray(raw)
        if i < 100:
            at = int(rng.integers(len(raw)))
            data[at] ^= 1 << int(rng.integers(8))
        else:
            del data[int(rng.integers(len(raw))) :]
        try:
            back = read_checkpoint(bytes(data), name="flipped")
        except ValueError:
            outcomes["refused"] += 1
            continue
        assert fingerprint(back) == fingerprint(record)
        outcomes["same"] += 1
    assert outcomes["refused"] >= 100


def test_in_memory_records_round_trip_and_resume(saved):
    """``checkpoint=`` a callable gets each record; ``resume=`` a record continues bitwise; bytes read back."""
    raw, record = saved
    obj, theta0 = network()
    got = []
    minimize(
        obj,
        theta0,
        "adam",
        gtol=0.0,
        max_iter=3,
        checkpoint=got.append,
        checkpoint_every=1,
        **STOCHASTIC,
    )
    assert [r["nit"] for r in got] == [1, 2, 3]
    buf = io.BytesIO()
    write_checkpoint(buf, got[-1])
    assert fingerprint(read_checkpoint(buf.getvalue(), name="bytes")) == fingerprint(record)
    assert fingerprint(read_checkpoint(np.frombuffer(raw, np.uint8), name="array")) == fingerprint(
        record
    )
    straight = minimize(obj, theta0, "adam", gtol=0.0, max_iter=6, **STOCHASTIC)
    rest = minimize(obj, theta0, "adam", gtol=0.0, max_iter=6, resume=got[-1], **STOCHASTIC)
    np.testing.assert_array_equal(straight.x, rest.x)
    assert [h["fun"] for h in straight.history] == [h["fun"] for h in rest.history]
    assert (
        got[-1]["nit"] == 3 and len(got[-1]["history"]) == 3
    )  # the record given to resume is not changed


def test_a_record_with_an_object_in_its_state_is_not_written():
    obj, theta0 = network()
    got = []
    minimize(obj, theta0, "adam", gtol=0.0, max_iter=1, checkpoint=got.append, **STOCHASTIC)
    with pytest.raises(TypeError, match="state"):
        write_checkpoint(io.BytesIO(), {**got[0], "state": object()})
    with pytest.raises(ValueError, match="nested"):
        deep = []
        for _ in range(70):
            deep = [deep]
        write_checkpoint(io.BytesIO(), {**got[0], "extra": {"deep": deep}})


CHILD = textwrap.dedent("""
    import json, resource, sys
    sys.path.insert(0, {src!r})
    from numnet.optim.checkpoint import read_checkpoint

    with open("/proc/self/status") as f:
        size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
    resource.setrlimit(resource.RLIMIT_AS, (size + {cap}, resource.getrlimit(resource.RLIMIT_AS)[1]))
    try:
        bytearray({cap} + 2**30)
        capped = False
    except MemoryError:
        capped = True
    out = {{}}
    for path in {paths!r}:
        try:
            read_checkpoint(path)
            out[path] = "read"
        except ValueError:
            out[path] = "ValueError"
        except BaseException as exc:
            out[path] = type(exc).__name__
    print(json.dumps({{"capped": capped, "outcomes": out}}))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs RLIMIT_AS and /proc")
def test_crafted_checkpoints_are_refused_in_bounded_memory(saved, tmp_path):
    """Every crafted file read by a child allowed 256 MiB more than its imports: ValueError, no MemoryError."""
    paths = []
    for name, craft in CRAFTED.items():
        paths.append(str(tmp_path / f"{name.replace(' ', '_')}.npz"))
        with open(paths[-1], "wb") as f:
            f.write(craft(saved[0]))
    code = CHILD.format(
        src=os.path.dirname(os.path.dirname(numnet.__file__)), cap=256 * MIB, paths=paths
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["capped"]
    assert set(result["outcomes"].values()) == {"ValueError"}, result["outcomes"]


def test_a_signal_during_a_write_takes_effect_when_the_file_is_complete(tmp_path, monkeypatch):
    """SIGINT sent to this process while the first member is written: the write finishes, the file reads
    back, then KeyboardInterrupt is raised (before, a half-closed zip raised a masking ValueError)."""
    import signal

    import numnet.optim.checkpoint as ck

    obj, theta0 = network()
    got = []
    minimize(obj, theta0, "adam", gtol=0.0, max_iter=1, checkpoint=got.append, **STOCHASTIC)
    real, sent = ck._write_member, []

    def write_member(zf, name, dtype, parts, size):
        if not sent:
            sent.append(os.kill(os.getpid(), signal.SIGINT))
        return real(zf, name, dtype, parts, size)

    whole = io.BytesIO()
    write_checkpoint(whole, got[0])
    monkeypatch.setattr(ck, "_write_member", write_member)
    with pytest.raises(KeyboardInterrupt):
        write_checkpoint(tmp_path / "c.npz", got[0])
    assert sent and (tmp_path / "c.npz").read_bytes() == whole.getvalue()
