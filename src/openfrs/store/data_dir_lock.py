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


class DataDirLock:
    """Held from `acquire()` until `release()` or the process ends."""

    def __init__(self, data_dir: Path, purpose: str) -> None:
        self.path = Path(data_dir) / LOCK_FILE
        self.purpose = purpose
        self._fd: int | None = None

    def acquire(self) -> DataDirLock:
        """Take the lock or raise DataDirBusy naming the holder and the way out."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise DataDirBusy(f"the data dir {self.path.parent.resolve()} is in use by {holder}") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"openfrs {self.purpose} (pid {os.getpid()})\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None

    def __enter__(self) -> DataDirLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
