"""The import's progress line (importer/progress.py), counting faces copied instead of images."""

from __future__ import annotations

from collections.abc import Mapping

from openfrs.importer.progress import Progress, _clock_text


class CopyProgress(Progress):
    """`counts`: {"copied": n, "present": n}; `attempted`: faces read from the source so far."""

    def line(self, counts: Mapping[str, int], attempted: int) -> str:
        elapsed = self.clock() - self.started
        rate = attempted / elapsed if elapsed > 0 else 0.0
        eta = _clock_text((self.work - attempted) / rate) if rate > 0 else "?"
        share = f"{100 * attempted // self.total:3d}%" if self.total else "100%"
        return (f"faces {attempted}/{self.total} {share}  {rate:.0f} faces/s  ETA {eta}"
                f"  copied {counts.get('copied', 0)}  already there {counts.get('present', 0)}")
