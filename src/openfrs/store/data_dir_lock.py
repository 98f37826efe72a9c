"""One server per embedded data dir, held by an OS lock that dies with the process.

The embedded store keeps each face set's vector index in the server's memory: a second server
on the same SQLite files would add faces the first one's index never sees (and the reverse). So
`openfrs serve` takes an exclusive `flock` on `<data dir>/openfrs.lock` and refuses to start while
another process holds it. (`openfrs import` does not: it is documented to run beside a server,
which is restarted afterwards.) The kernel drops the lock when the holder exits, even
on `kill -9`, so a crash never leaves a stale lock behind; the pid written into the file only
serves the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = "openfrs.lock"


class DataDirBusy(Exception):
    """Another live process holds the data dir."""


def hold_data_dir(data_dir: Path, purpose: str) -> None:
    """Take the lock for the rest of this process (the descriptor is never closed), or raise
    DataDirBusy naming the holder."""
    path = Path(data_dir) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
        os.close(fd)
        raise DataDirBusy(f"the data dir {path.parent.resolve()} is in use by {holder}") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"openfrs {purpose} (pid {os.getpid()})\n".encode())
