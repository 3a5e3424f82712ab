"""A numnet file as a zip archive, read with bounded memory, nothing trusted before it is checked.

:func:`numnet.io.save` writes an uncompressed ``.npz`` (``np.savez``): a zip
archive of ``.npy`` members. :class:`Archive` reads a file back only if it is
exactly that, checking in this order and stopping at the first failure:

1. **One zip, nothing else.** The end-of-central-directory record (and, past
   4 GiB, the zip64 end records) closes the file; the central directory ends
   where they begin; the members start at offset 0 and follow one another
   without a gap up to the central directory. So no bytes precede, follow or
   hide between them: a second archive appended to a file (which zip readers
   would open instead of the first) or prepended data is refused.
2. **Names and sizes, from the central directory.** At most
   :data:`MAX_MEMBERS` members, each named ``<key>.npy`` once, stored (not
   compressed: its size in the archive is its size in memory), unencrypted,
   without data descriptor, its local header agreeing with the directory.
3. **Headers before arrays.** :meth:`Archive.check` compares a member's size
   in the directory with the dtype and shape the caller expects (the size of
   the array plus at most :data:`MAX_HEADER` bytes of header), then reads
   that member's ``.npy`` header alone (``np.lib.format.read_magic`` and
   ``read_array_header_1_0``/``2_0``, the length checked before the header
   is read) and requires the same dtype and shape and a member of exactly
   header + array bytes. :meth:`Archive.read` reads the array only then.

Nothing is ever decompressed or unpickled, and loading allocates no more than
the file's size plus small constants. Every failure is a ``ValueError``
saying that the file is not a readable numnet file, and why. An archive held
in memory (bytes, e.g. an estimator's ``optimizer_state_``) is read the same
way from a binary file object. :func:`json_depth` measures the nesting of
JSON metadata before it is parsed, so no reader recurses deeper than it allows.
"""

import io
import re
import struct
import zipfile
import zlib
from contextlib import contextmanager
from math import prod

import numpy as np

__all__ = ["Archive", "json_depth", "MAX_HEADER", "MAX_MEMBERS"]

MAX_HEADER = 10_000
"""Longest ``.npy`` header text read (NumPy's own default limit)."""
MAX_MEMBERS = 64
"""Most members an archive may have (a numnet file has at most a dozen)."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}\.npy")
_END = struct.Struct(
    "<4s4H2LH"
)  # signature, disk, directory disk, entries here, entries, size, offset, comment
_END64_LOCATOR = struct.Struct("<4sLQL")  # signature, disk, offset of the zip64 end record, disks
_END64 = struct.Struct(
    "<4sQ2H2L4Q"
)  # signature, record size, versions, disks, entries ×2, size, offset
_LOCAL = struct.Struct(
    "<4s5H3L2H"
)  # signature, version, flags, method, time, date, crc, sizes, name, extra
_NPY_LENGTH = {(1, 0): "<H", (2, 0): "<I"}  # .npy version → format of its header length
_READERS = {
    (1, 0): np.lib.format.read_array_header_1_0,
    (2, 0): np.lib.format.read_array_header_2_0,
}
_UNSAFE_FLAGS = 0x1 | 0x8  # encrypted, sizes in a data descriptor after the data
_CHUNK = 1 << 24
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_ERRORS = (
    OSError,
    EOFError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    SyntaxError,
    RecursionError,
    OverflowError,
    struct.error,
    zlib.error,
    zipfile.BadZipFile,
    NotImplementedError,
    RuntimeError,
    UnicodeDecodeError,
)


class Archive:
    """The ``.npy`` members of one numnet file, its structure checked on opening; a context manager.

    Parameters
    ----------
    path : Path or binary file object
        The file, or a seekable binary file object (``io.BytesIO``) holding
        the archive, which is then closed with the archive.
    name : str, optional
        How errors name the archive (default: ``path``); every error is a
        ``ValueError`` naming it.

    Attributes
    ----------
    keys : set of str
        Member names without ``.npy``.
    """

    def __init__(self, path, name=None):
        self.path = path if name is None else name
        with self._corrupt():
            self._file = path if hasattr(path, "seek") else open(path, "rb")
        try:
            with self._corrupt():
                self._zip, self._members = _open(self._file)
        except BaseException:
            self._file.close()
            raise
        self.keys = {name[:-4] for name in self._members}

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self._zip.close()
        self._file.close()

    def read_bytes(self, key, limit):
        """The payload of the 1-D ``uint8`` member ``key``; refused unread if over ``limit`` bytes."""
        with self._corrupt():
            info = self._member(key)
            if info.file_size > limit + _prefix_limit():
                raise ValueError(
                    f"member {key!r} holds {info.file_size} bytes, more than the {limit} allowed"
                )
            with self._zip.open(info) as member:
                dtype, shape, _, header = _header(member, key)
                if dtype != np.uint8 or len(shape) != 1 or header + shape[0] != info.file_size:
                    raise ValueError(f"member {key!r} is not a 1-D uint8 array of its size")
                if shape[0] > limit:
                    raise ValueError(
                        f"member {key!r} holds {shape[0]} bytes, more than the {limit} allowed"
                    )
                return bytes(_read_exactly(member, shape[0], key))

    def check(self, key, dtype, shape):
        """Raise ``ValueError`` unless member ``key`` holds an array of ``dtype`` and ``shape``.

        Reads the central directory entry and the member's ``.npy`` header only.
        """
        with self._corrupt(), self._open(key, dtype, shape):
            pass

    def read(self, key, dtype, shape):
        """The array in member ``key``, after the checks of :meth:`check`."""
        with self._corrupt(), self._open(key, dtype, shape) as (member, fortran):
            buf = _read_exactly(member, dtype.itemsize * prod(shape), key)
        return np.frombuffer(buf, dtype=dtype).reshape(shape, order="F" if fortran else "C")

    @contextmanager
    def _open(self, key, dtype, shape):
        info, nbytes = self._member(key), dtype.itemsize * prod(shape)
        if not nbytes < info.file_size <= nbytes + _prefix_limit():
            raise ValueError(
                f"member {key!r} holds {info.file_size} bytes, but an array of dtype "
                f"{dtype.str} and shape {shape} takes {nbytes} bytes plus a header"
            )
        with self._zip.open(info) as member:
            found, found_shape, fortran, header = _header(member, key)
            if found.str != dtype.str or found_shape != shape or header + nbytes != info.file_size:
                raise ValueError(
                    f"member {key!r} declares dtype {found.str} and shape {found_shape} in "
                    f"{info.file_size} bytes; the metadata says {dtype.str} and {shape}"
                )
            yield member, fortran

    def _member(self, key):
        """The zip entry of member ``key`` (``ValueError`` when the file has none)."""
        try:
            return self._members[key + ".npy"]
        except KeyError:
            raise ValueError(f"no member {key!r}") from None

    @contextmanager
    def _corrupt(self):
        try:
            yield
        except _ERRORS as exc:
            raise ValueError(
                f"{self.path} is not a readable numnet file (truncated or corrupt?): {exc}"
            ) from exc


def _prefix_limit():
    """Most bytes before an array's data in a member: magic, version, header length, header."""
    return len(np.lib.format.MAGIC_PREFIX) + 2 + 4 + MAX_HEADER


def json_depth(text, chunk=2**20):
    """Deepest nesting of ``[`` and ``{`` outside JSON strings, without recursion and in bounded memory."""
    codes = np.frombuffer(_JSON_STRING.sub('""', text).encode("utf-8"), dtype=np.uint8)
    depth = deepest = 0
    for start in range(0, codes.size, chunk):
        part = codes[start : start + chunk]
        steps = ((part == 91) | (part == 123)).astype(np.int32) - ((part == 93) | (part == 125))
        levels = depth + np.cumsum(steps, dtype=np.int64)
        deepest, depth = max(deepest, int(levels.max())), int(levels[-1])
    return deepest


# ------------------------------------------------------------------- structure


def _open(f):
    """``(ZipFile, {name: ZipInfo})`` of a file that is exactly one archive of stored ``.npy`` members."""
    size = f.seek(0, io.SEEK_END)
    directory, count = _end_records(f, size)
    if count > MAX_MEMBERS:
        raise ValueError(f"it has {count} members; a numnet file has at most {MAX_MEMBERS}")
    zf = zipfile.ZipFile(f)
    try:
        infos = zf.infolist()
        if len(infos) != count or zf.start_dir != directory:
            raise ValueError(
                "its central directory is not where its end record says (data before the archive?)"
            )
        members = _check_members(infos)
        _check_layout(f, infos, directory)
    except BaseException:
        zf.close()
        raise
    return zf, members


def _end_records(f, size):
    """Offset of the central directory and number of members, from the end records that close the file."""
    if size < _END.size:
        raise ValueError(f"it has {size} bytes, fewer than a zip end record")
    f.seek(size - _END.size)
    sig, disk, disk_cd, count_here, count, cd_size, cd_offset, comment = _END.unpack(
        f.read(_END.size)
    )
    if sig != b"PK\x05\x06" or comment:
        raise ValueError("it does not end with a zip end-of-central-directory record")
    end = size - _END.size
    if end >= _END64_LOCATOR.size + _END64.size and _has_zip64_locator(f, end):
        cd_size, cd_offset, count, end = _zip64_end(f, end)
    elif disk or disk_cd or count_here != count:
        raise ValueError("it is a multi-volume zip archive")
    if cd_offset + cd_size != end:
        raise ValueError(
            "its central directory is not where its end record says "
            "(data prepended, or another archive appended?)"
        )
    return cd_offset, count


def _has_zip64_locator(f, end):
    f.seek(end - _END64_LOCATOR.size)
    return f.read(4) == b"PK\x06\x07"


def _zip64_end(f, end):
    """``(directory size, directory offset, members, start of the zip64 end record)``."""
    locator_at = end - _END64_LOCATOR.size
    f.seek(locator_at)
    _, disk, record_at, disks = _END64_LOCATOR.unpack(f.read(_END64_LOCATOR.size))
    if disk or disks != 1 or record_at != locator_at - _END64.size:
        raise ValueError("its zip64 end records are not where they belong")
    f.seek(record_at)
    sig, record_size, _, _, disk, disk_cd, count_here, count, cd_size, cd_offset = _END64.unpack(
        f.read(_END64.size)
    )
    if (
        sig != b"PK\x06\x06"
        or record_size != _END64.size - 12
        or disk
        or disk_cd
        or count_here != count
    ):
        raise ValueError("its zip64 end record is malformed")
    return cd_size, cd_offset, count, record_at


def _check_members(infos):
    members = {}
    for info in infos:
        name = info.orig_filename
        if not _NAME.fullmatch(name) or name != info.filename:
            raise ValueError(f"member {name!r} is not named like a numnet array (<key>.npy)")
        if name in members:
            raise ValueError(f"member {name!r} appears twice")
        if (
            info.flag_bits & _UNSAFE_FLAGS
            or info.compress_type != zipfile.ZIP_STORED
            or info.compress_size != info.file_size
        ):
            raise ValueError(
                f"member {name!r} is compressed or encrypted; numnet files store arrays as they are"
            )
        members[name] = info
    return members


def _check_layout(f, infos, directory):
    """Members from offset 0, back to back, up to the central directory."""
    at = 0
    for info in sorted(infos, key=lambda i: i.header_offset):
        if info.header_offset != at:
            raise ValueError(
                f"unexpected bytes at offset {at} (data before or between the members)"
            )
        at = _member_end(f, info)
    if at != directory:
        raise ValueError(
            f"unexpected bytes at offset {at} (data between the members and the directory)"
        )


def _member_end(f, info):
    """Offset just past the member's data, after checking its local header against the directory."""
    f.seek(info.header_offset)
    head = f.read(_LOCAL.size)
    if len(head) < _LOCAL.size:
        raise ValueError(f"the local header of {info.filename!r} is cut off")
    sig, _, flags, method, _, _, _, _, _, name_size, extra_size = _LOCAL.unpack(head)
    if (
        sig != b"PK\x03\x04"
        or flags & _UNSAFE_FLAGS
        or method != zipfile.ZIP_STORED
        or f.read(name_size) != info.filename.encode("ascii")
    ):
        raise ValueError(
            f"the local header of {info.filename!r} disagrees with the central directory"
        )
    return info.header_offset + _LOCAL.size + name_size + extra_size + info.compress_size


# ------------------------------------------------------------------- .npy members


def _header(member, key):
    """``(dtype, shape, fortran_order, header bytes)`` from the ``.npy`` header alone."""
    version = np.lib.format.read_magic(member)
    if version not in _NPY_LENGTH:
        raise ValueError(
            f"member {key!r} has .npy format version {version}; numnet reads 1.0 and 2.0"
        )
    length_bytes = member.read(struct.calcsize(_NPY_LENGTH[version]))
    (length,) = struct.unpack(_NPY_LENGTH[version], length_bytes)
    if length > MAX_HEADER:
        raise ValueError(
            f"member {key!r} declares a .npy header of {length} bytes; at most {MAX_HEADER} are read"
        )
    text = member.read(length)
    shape, fortran, dtype = _READERS[version](
        io.BytesIO(length_bytes + text), max_header_size=MAX_HEADER
    )
    if dtype.hasobject or not isinstance(shape, tuple):
        raise ValueError(
            f"member {key!r} holds Python objects (a pickle), which numnet never reads"
        )
    return (
        dtype,
        shape,
        fortran,
        len(np.lib.format.MAGIC_PREFIX) + 2 + len(length_bytes) + len(text),
    )


def _read_exactly(member, nbytes, key):
    """``nbytes`` from ``member`` into one writable buffer, in chunks; the member must end there."""
    buf = bytearray(nbytes)
    view, at = memoryview(buf), 0
    while at < nbytes:
        chunk = member.read(min(_CHUNK, nbytes - at))
        if not chunk:
            raise ValueError(f"member {key!r} ends after {at} of {nbytes} bytes")
        view[at : at + len(chunk)] = chunk
        at += len(chunk)
    if member.read(1):
        raise ValueError(f"member {key!r} holds more than its {nbytes} bytes")
    return buf
