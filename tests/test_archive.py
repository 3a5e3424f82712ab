"""numnet._archive: a numnet file read as exactly one zip of stored ``.npy`` members, checked before it is read.

:class:`~numnet._archive.Archive` reads back, bit for bit, what ``np.savez``
writes (from a path or from bytes in memory), and refuses with a
``ValueError`` naming the archive everything else: bytes before, after or
between the members, zip comments, members not named ``<key>.npy``,
duplicated, compressed or beyond :data:`MAX_MEMBERS`, local headers that
disagree with the directory, ``.npy`` headers of other versions, longer than
:data:`MAX_HEADER` or holding a pickle, and members whose dtype, shape or size
are not the ones asked for. :func:`~numnet._archive.json_depth` measures JSON
nesting without parsing. The files are built in memory with ``np.savez`` and
:mod:`zipfile`, a few members of a few bytes each.
"""

import io
import json
import re
import struct
import warnings
import zipfile

import numpy as np
import pytest

import numnet.io as nio
from numnet._archive import MAX_HEADER, MAX_MEMBERS, Archive, json_depth
from numnet.io import load, save


def _members(path):
    with np.load(path, allow_pickle=False) as z:
        members = {k: z[k] for k in z.files}
    return json.loads(members.pop("__meta__").tobytes()), members


def _savez(**arrays):
    """What ``numnet.save`` writes: ``np.savez``'s stored members."""
    buf = io.BytesIO()
    np.savez(buf, **(arrays or {"x": np.arange(3.0)}))
    return buf.getvalue()


def _npy(array, version=None, allow_pickle=False):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.asanyarray(array), version, allow_pickle)
    return buf.getvalue()


def _zip(parts, compression=zipfile.ZIP_STORED, comment=b""):
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name" when asked for one
        with zipfile.ZipFile(buf, "w", compression) as zf:
            for name, data in parts:
                zf.writestr(name, data)
            zf.comment = comment
    return buf.getvalue()


def _renamed_in_local_header(raw):
    """The first member's name changed in its local header only (it starts 30 bytes in)."""
    return raw[:30] + b"y" + raw[31:]


# ------------------------------------------------------------ reading


ARRAYS = {
    "f8": np.arange(12.0).reshape(3, 4),
    "f4_fortran": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
    "big_endian": np.arange(3, dtype=">i4"),
    "scalar": np.array(7, dtype=np.int64),
    "empty": np.zeros((0, 3)),
    "blob": np.frombuffer(b"numnet", dtype=np.uint8),
}


def test_every_member_reads_back_bit_for_bit(tmp_path):
    path = tmp_path / "a.npz"
    path.write_bytes(_savez(**ARRAYS))
    with Archive(path) as archive:
        assert archive.keys == set(ARRAYS)
        for key, array in ARRAYS.items():
            assert archive.check(key, array.dtype, array.shape) is None
            out = archive.read(key, array.dtype, array.shape)
            assert (out.dtype.str, out.shape) == (array.dtype.str, array.shape), key
            np.testing.assert_array_equal(out, array)
            assert out.flags.writeable
        assert archive.read("f4_fortran", np.dtype("<f4"), (2, 3)).flags.f_contiguous


def test_npy_format_2_members_are_read(tmp_path):
    path = tmp_path / "a.npz"
    path.write_bytes(_zip([("x.npy", _npy(np.arange(4.0), version=(2, 0)))]))
    with Archive(path) as archive:
        np.testing.assert_array_equal(archive.read("x", np.dtype("<f8"), (4,)), np.arange(4.0))


def test_the_most_members_allowed_are_read():
    parts = [(f"a{i}.npy", _npy(np.array([i], np.uint8))) for i in range(MAX_MEMBERS)]
    with Archive(io.BytesIO(_zip(parts))) as archive:
        assert len(archive.keys) == MAX_MEMBERS
        assert archive.read_bytes(f"a{MAX_MEMBERS - 1}", 1) == bytes([MAX_MEMBERS - 1])


def test_an_archive_in_memory_is_read_and_closed_with_the_archive():
    buf = io.BytesIO(_savez(x=np.arange(3.0)))
    with Archive(buf, name="optimizer_state_") as archive:
        np.testing.assert_array_equal(archive.read("x", np.dtype("<f8"), (3,)), np.arange(3.0))
        assert not buf.closed
    assert buf.closed


def test_read_bytes_returns_the_payload_of_a_1d_uint8_member():
    raw = _savez(
        meta=np.frombuffer(b'{"a": 1}', np.uint8),
        f8=np.arange(3.0),
        grid=np.zeros((2, 2), np.uint8),
    )
    with Archive(io.BytesIO(raw), name="m.npz") as archive:
        assert archive.read_bytes("meta", 8) == b'{"a": 1}'
        for key in ("f8", "grid"):
            with pytest.raises(ValueError, match=f"member '{key}' is not a 1-D uint8 array"):
                archive.read_bytes(key, 100)


def test_read_bytes_refuses_a_member_far_over_its_limit():
    with Archive(io.BytesIO(_savez(meta=np.zeros(20_000, np.uint8))), name="m.npz") as archive:
        with pytest.raises(
            ValueError,
            match=r"^m.npz is not .*member 'meta' holds \d+ bytes, more than the 100 allowed",
        ):
            archive.read_bytes("meta", 100)


def test_read_bytes_never_returns_more_than_its_limit():
    with Archive(io.BytesIO(_savez(meta=np.zeros(5_000, np.uint8))), name="m.npz") as archive:
        assert len(archive.read_bytes("meta", 5_000)) == 5_000
        with pytest.raises(ValueError, match="member 'meta' holds 5000 bytes, more than the 4999"):
            archive.read_bytes("meta", 4_999)


@pytest.mark.parametrize("call", ["read_bytes", "check", "read"])
def test_a_missing_member_is_a_value_error_naming_it(call):
    args = {"read_bytes": (10,), "check": (np.dtype("<f8"), (3,)), "read": (np.dtype("<f8"), (3,))}
    with Archive(io.BytesIO(_savez(a=np.arange(3.0))), name="m.npz") as archive:
        with pytest.raises(
            ValueError, match="^m.npz is not a readable numnet file .*: no member 'zz'$"
        ):
            getattr(archive, call)("zz", *args[call])


# ------------------------------------------------------------ what check and read refuse


@pytest.mark.parametrize(
    "stored, dtype, shape, match",
    [
        (
            (3, 4),
            "<i8",
            (3, 4),
            r"member 'x' declares dtype <f8 and shape \(3, 4\) in \d+ bytes; "
            r"the metadata says <i8 and \(3, 4\)",
        ),
        ((3, 4), ">f8", (3, 4), r"declares dtype <f8 .* says >f8"),
        ((3, 4), "<f8", (4, 3), r"declares dtype <f8 and shape \(3, 4\) .* says <f8 and \(4, 3\)"),
        ((3, 4), "<f4", (6, 4), r"declares dtype <f8 .* says <f4 and \(6, 4\)"),
        (
            (3, 4),
            "<f8",
            (1000,),
            r"member 'x' holds \d+ bytes, but an array of dtype <f8 and shape "
            r"\(1000,\) takes 8000 bytes plus a header",
        ),
        ((2000,), "<f8", (2,), r"member 'x' holds \d+ bytes, but .* takes 16 bytes plus a header"),
    ],
)
def test_check_and_read_refuse_another_dtype_shape_or_size(stored, dtype, shape, match):
    with Archive(io.BytesIO(_savez(x=np.zeros(stored))), name="model.npz") as archive:
        for method in (archive.check, archive.read):
            with pytest.raises(
                ValueError, match=r"^model.npz is not a readable numnet file"
            ) as info:
                method("x", np.dtype(dtype), shape)
            assert re.search(match, str(info.value)), str(info.value)


def _long_header(raw_length):
    """A .npy member of version 1.0 declaring a header of ``raw_length`` bytes, with a few of them."""
    return np.lib.format.MAGIC_PREFIX + b"\x01\x00" + struct.pack("<H", raw_length) + b" " * 100


@pytest.mark.parametrize(
    "member, match",
    [
        (
            _npy(np.array([{}, None], dtype=object), allow_pickle=True),
            r"Python objects \(a pickle\)",
        ),
        (_npy(np.arange(3.0), version=(3, 0)), r"\.npy format version \(3, 0\); numnet reads 1.0"),
        (_long_header(MAX_HEADER + 1), f"header of {MAX_HEADER + 1} bytes; at most {MAX_HEADER}"),
        (b"\x93NUMPX\x01\x00" + b" " * 100, "magic"),
    ],
    ids=["pickle", "version 3.0", "long header", "not npy"],
)
def test_npy_headers_are_checked_before_any_data_is_read(member, match):
    with Archive(io.BytesIO(_zip([("x.npy", member)])), name="model.npz") as archive:
        with pytest.raises(ValueError, match=f"^model.npz is not a readable numnet file.*{match}"):
            archive.read_bytes("x", 10**6)
        with pytest.raises(ValueError, match=match):
            archive.check("x", np.dtype("<f8"), (3,))


# ------------------------------------------------------------ what opening refuses


REFUSED = {
    "empty": (lambda: b"", "it has 0 bytes, fewer than a zip end record"),
    "a .npy file": (
        lambda: _npy(np.arange(3.0)),
        "does not end with a zip end-of-central-directory",
    ),
    "a zip comment": (lambda: _zip([("x.npy", _npy(1.0))], comment=b"hi"), "does not end with"),
    "bytes appended": (lambda: _savez() + b"\0" * 30, "does not end with"),
    "an archive appended": (lambda: _savez() + _savez(), "another archive appended"),
    "bytes prepended": (lambda: b"\0" * 10 + _savez(), "data prepended"),
    "a member not .npy": (
        lambda: _zip([("notes.txt", b"hi")]),
        r"member 'notes.txt' is not named like a numnet array \(<key>.npy\)",
    ),
    "a path as a name": (lambda: _zip([("../x.npy", _npy(1.0))]), "'../x.npy' is not named like"),
    "a duplicate name": (
        lambda: _zip([("x.npy", _npy(1.0)), ("x.npy", _npy(2.0))]),
        "member 'x.npy' appears twice",
    ),
    "a compressed member": (
        lambda: _zip([("x.npy", _npy(np.zeros(100)))], zipfile.ZIP_DEFLATED),
        "member 'x.npy' is compressed or encrypted",
    ),
    "too many members": (
        lambda: _zip([(f"a{i}.npy", _npy(1.0)) for i in range(MAX_MEMBERS + 1)]),
        f"it has {MAX_MEMBERS + 1} members; a numnet file has at most {MAX_MEMBERS}",
    ),
    "a local header renamed": (
        lambda: _renamed_in_local_header(_savez()),
        "the local header of 'x.npy' disagrees with the central directory",
    ),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_anything_but_one_archive_of_stored_npy_members_is_refused(tmp_path, name):
    craft, match = REFUSED[name]
    path = tmp_path / "model.npz"
    path.write_bytes(craft())
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))} is not a readable numnet file"):
        Archive(path)
    buf = io.BytesIO(craft())
    with pytest.raises(ValueError, match=f"^state is not a readable numnet file .*{match}"):
        Archive(buf, name="state")
    assert buf.closed


def test_a_missing_file_is_a_value_error_naming_it(tmp_path):
    with pytest.raises(ValueError, match="nothing.npz is not a readable numnet file"):
        Archive(tmp_path / "nothing.npz")


# ------------------------------------------------------------ json_depth


@pytest.mark.parametrize(
    "text, depth",
    [
        ("", 0),
        ("1.5", 0),
        ('"[{"', 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}], "c": {}}', 4),
        ('["\\\\", [[]]]', 3),  # an escaped backslash ends before the closing quote
        ('["\\"[", [1]]', 2),  # an escaped quote does not end the string
        ('{"é": "[[", "k": [[["ü"]]]}', 4),
    ],
)
def test_json_depth_counts_brackets_outside_strings(text, depth):
    assert json_depth(text) == depth


def test_json_depth_is_the_same_in_chunks_of_any_size():
    text = json.dumps({"a": [[1, {"b": [[[]]]}], "x[y"], "c": [{}] * 5})
    assert json_depth(text) == 7
    assert {json_depth(text, chunk=c) for c in (1, 2, 3, 7, len(text))} == {7}


def test_json_depth_of_text_too_deep_for_the_json_module():
    text = "[" * 100_000 + "]" * 100_000
    with pytest.raises(RecursionError):
        json.loads(text)
    assert json_depth(text) == 100_000


# ------------------------------------------------------------ through numnet.load (issue 18)


def test_appended_second_file_is_refused(tmp_path):
    first, second = (
        save(np.arange(3.0), tmp_path / "a.npz"),
        save(np.arange(5.0), tmp_path / "b.npz"),
    )
    both = tmp_path / "both.npz"
    both.write_bytes(first.read_bytes() + second.read_bytes())
    assert np.load(both)["theta"].shape == (5,)  # what a zip reader sees: the appended model
    with pytest.raises(ValueError, match="another archive appended"):
        load(both)
    both.write_bytes(b"\0" * 10 + first.read_bytes())
    with pytest.raises(ValueError, match="prepended"):
        load(both)


def test_compressed_archive_is_refused(tmp_path):
    path = save(np.arange(5.0), tmp_path / "a.npz")
    meta, members = _members(path)
    blob = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez_compressed(path, __meta__=blob, **members)
    with pytest.raises(ValueError, match="compressed"):
        load(path)


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert nio._json_depth('{"a": "[[[[{{{{\\"]]", "b": [[1], {"c": []}]}') == 4
