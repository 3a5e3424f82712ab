"""Atomic file writes: write to a temporary file beside the target, then rename.

The temporary file of a target ``<name>`` is ``.<name>.<pid>.<random>.tmp<suffix>``:
hidden, in the target's folder, carrying the writer's process id. A writer
that is killed (SIGKILL, power loss) leaves it behind; the next write to the
same target removes such leftovers (:func:`remove_stale`). The rule, chosen
so that a concurrent writer's file is never removed: a temporary of the same
target is stale when

- its writer's process is no longer running on this machine (``os.kill(pid, 0)``
  finds no such process; POSIX only, elsewhere nothing is removed by this rule),
  **and** it has not been modified for :data:`STALE_AFTER` seconds; or
- it has no pid (named by earlier numnet versions) and has not been
  modified for :data:`STALE_UNKNOWN` seconds.

A live writer's process exists, so its file stays, however slow it is. Pids
are local: on a folder shared between machines or containers, a live writer
elsewhere looks dead, and only the :data:`STALE_AFTER` seconds without a
write protect its file. A pid reused by a new process keeps a stale file
until that process ends (harmless: a later write removes it).
"""

import contextlib
import os
import re
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

__all__ = ["atomic_path", "remove_stale", "STALE_AFTER", "STALE_UNKNOWN"]

STALE_AFTER = 10.0
"""Seconds without modification after which a dead writer's temporary file is removed."""
STALE_UNKNOWN = 3600.0
"""Seconds without modification after which a temporary file without pid is removed."""


@contextmanager
def atomic_path(path, suffix=""):
    """Yield a temporary path in the target's folder; on success rename it onto ``path``.

    An interrupted write (exception, kill) leaves any previous file at ``path``
    intact: ``os.replace`` is atomic on POSIX and Windows. ``suffix`` lets
    writers that insist on an extension (``np.savez`` adds ".npz") keep it.
    Stale temporaries of ``path`` (see the module notes) are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=f".tmp{suffix}", dir=path.parent
    )
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def remove_stale(path, now=None):
    """Remove the stale temporary files of target ``path``; return their names.

    Best effort: a file that vanishes meanwhile or cannot be removed is skipped.
    """
    path = Path(path)
    pattern = re.compile(rf"\.{re.escape(path.name)}\.(?:(\d+)\.)?[a-z0-9_]{{8}}\.tmp(?:\.\w+)?")
    now = time.time() if now is None else now
    try:
        names = [e.name for e in os.scandir(path.parent) if e.name.startswith(f".{path.name}.")]
    except OSError:
        return []
    removed = []
    for name in names:
        match = pattern.fullmatch(name)
        with contextlib.suppress(OSError):  # vanished meanwhile, or not ours to remove
            if match and _stale(path.parent / name, match.group(1), now):
                os.unlink(path.parent / name)
                removed.append(name)
    return removed


def _stale(file, pid, now):
    age = now - os.lstat(file).st_mtime
    if pid is None:
        return age >= STALE_UNKNOWN
    return age >= STALE_AFTER and not process_running(int(pid))


def process_running(pid):
    """Whether process ``pid`` exists here (True when that cannot be told, and for this process)."""
    if os.name != "posix" or pid <= 0 or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask
