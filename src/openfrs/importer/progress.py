"""One progress line on stderr: redrawn in place on a terminal (at most ~10 times a second),
a plain line every few seconds otherwise (logs, CI)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import TextIO

TTY_INTERVAL_S = 0.1
PLAIN_INTERVAL_S = 5.0


def _clock_text(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class Progress:
    def __init__(self, total: int, work: int, stream: TextIO | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """`total`: every item of the source; `work`: those that need reading and inference
        (the rate and the ETA are about them)."""
        self.total = total
        self.work = work
        self.stream = stream or sys.stderr
        self.clock = clock
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval = TTY_INTERVAL_S if self.tty else PLAIN_INTERVAL_S
        self.started = clock()
        self._last = self.started if not self.tty else float("-inf")
        self._width = 0

    def line(self, counts: Mapping[str, int], attempted: int) -> str:
        done = sum(counts.get(k, 0) for k in ("enrolled", "skipped", "duplicate", "refused"))
        elapsed = self.clock() - self.started
        rate = attempted / elapsed if elapsed > 0 else 0.0
        left = self.work - attempted
        eta = _clock_text(left / rate) if rate > 0 else "?"
        share = f"{100 * done // self.total:3d}%" if self.total else "100%"
        return (f"{done}/{self.total} {share}  {rate:.1f} img/s  ETA {eta}"
                f"  enrolled {counts.get('enrolled', 0)}  skipped {counts.get('skipped', 0)}"
                f"  dup {counts.get('duplicate', 0)}  refused {counts.get('refused', 0)}")

    def update(self, counts: Mapping[str, int], attempted: int) -> None:
        now = self.clock()
        if now - self._last >= self.interval:
            self._last = now
            self._write(self.line(counts, attempted))

    def close(self, counts: Mapping[str, int], attempted: int) -> None:
        self._write(self.line(counts, attempted))
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def note(self, text: str) -> None:
        """A message that must not be drawn over (e.g. "stopping after the images in flight")."""
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self._width = 0
        self.stream.write(text + "\n")
        self.stream.flush()

    def _write(self, text: str) -> None:
        if self.tty:
            pad = max(0, self._width - len(text))
            self.stream.write("\r" + text + " " * pad)
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
