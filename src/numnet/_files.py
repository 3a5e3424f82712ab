"""Atomic file writes: write to a temporary file beside the target, then rename."""

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path"]


@contextmanager
def atomic_path(path, suffix=""):
    """Yield a temporary path in the target's folder; on success rename it onto ``path``.

    An interrupted write (exception, kill) leaves any previous file at ``path``
    intact: ``os.replace`` is atomic on POSIX and Windows. ``suffix`` lets
    writers that insist on an extension (``np.savez`` adds ".npz") keep it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
