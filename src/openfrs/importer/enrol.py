"""The enrolment loop: N images in flight, each read (and its header checked) in a thread, then
added through SetFaceService.add (the one place the add-face rules live: model version, field
values, capacity, the largest face), which decodes it as the API's requests are decoded (a big
JPEG reduced first: media/picture.py) and runs its inference in the service's bounded pool."""

from __future__ import annotations

import asyncio
import errno
import logging
import signal
import stat
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from openfrs.errors import FRSError
from openfrs.importer.outcomes import DUPLICATE, ENROLLED, NOT_ATTEMPTED, REFUSED, SKIPPED, Outcome
from openfrs.importer.progress import Progress
from openfrs.importer.sources import UNREADABLE, SourceItem
from openfrs.media import ImageLimits
from openfrs.media.picture import EncodedPicture
from openfrs.service.setfaces import AddResult, NewFaces, SetFaceService

log = logging.getLogger("openfrs.import")
RETRY_FIRST_S = 0.02  # FRS.0033 (the inference queue is full): wait, then again, up to ...
RETRY_MAX_S = 1.0
# Refusals about the set, not the image (it is full, of another model, gone): once one is met,
# the images after it are refused with it unread.
SET_REFUSALS = frozenset({"FRS.0408", "FRS.0306", "FRS.0302"})


class Enroller:
    def __init__(self, set_faces: SetFaceService, project_id: str, set_name: str, *,
                 limits: ImageLimits, max_bytes: int, workers: int,
                 progress_stream: TextIO | None = None) -> None:
        self.set_faces = set_faces
        self.project_id = project_id
        self.set_name = set_name
        self.limits = limits
        self.max_bytes = max_bytes
        self.workers = max(1, workers)
        self.progress_stream = progress_stream
        self.counts: Counter[str] = Counter()
        self.attempted = 0
        self.stop_reason: str | None = None
        self.on_outcome: Callable[[Enroller, Outcome], None] | None = None  # e.g. a test's stop
        self._blocked: FRSError | None = None  # a SET_REFUSALS error: the rest is refused unread
        self._progress: Progress | None = None

    def request_stop(self) -> None:
        """Take no new image; the ones in flight finish (what the store acknowledged stays)."""
        self.stop_reason = "interrupted"

    # -- planning: what needs no reading -------------------------------------------------

    @staticmethod
    def plan(items: list[SourceItem], present: set[str],
             limit: int | None) -> tuple[list[Outcome | None], list[int]]:
        """Outcomes known before reading (duplicates, already present, refused at scan time,
        beyond --limit) and the indexes of the items to enrol, in source order."""
        outcomes: list[Outcome | None] = [None] * len(items)
        todo: list[int] = []
        seen: set[str] = set()
        for index, item in enumerate(items):
            if item.image_id is not None and item.image_id in seen:
                outcomes[index] = _outcome(item, DUPLICATE, message="an earlier item has this id")
                continue
            if item.image_id is not None:
                seen.add(item.image_id)
            if item.problem is not None:
                outcomes[index] = _outcome(item, REFUSED, *item.problem)
            elif item.image_id in present:
                outcomes[index] = _outcome(item, SKIPPED)
            else:
                todo.append(index)
        if limit is not None:
            for index in todo[limit:]:
                outcomes[index] = _outcome(item=items[index], status=NOT_ATTEMPTED, message="--limit")
            todo = todo[:limit]
        return outcomes, todo

    # -- running ---------------------------------------------------------------------------

    def run_blocking(self, items: list[SourceItem], present: set[str],
                     limit: int | None = None) -> list[Outcome]:
        """The loop in its own event loop; the first Ctrl-C stops cleanly, a second aborts."""
        async def main() -> list[Outcome]:
            loop = asyncio.get_running_loop()
            watching = _watch_sigint(loop, self._on_sigint)
            try:
                return await self.run(items, present, limit)
            finally:
                if watching:
                    loop.remove_signal_handler(signal.SIGINT)

        return asyncio.run(main())

    def _on_sigint(self) -> None:
        self.request_stop()
        asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)  # the next one aborts
        if self._progress is not None:
            self._progress.note("stopping after the images in flight (Ctrl-C again to abort)")

    async def run(self, items: list[SourceItem], present: set[str],
                  limit: int | None = None) -> list[Outcome]:
        outcomes, todo = self.plan(items, present, limit)
        if any(o is not None and o.status == NOT_ATTEMPTED for o in outcomes):
            self.stop_reason = self.stop_reason or "limit"
        self.counts.update(o.status for o in outcomes if o is not None)
        progress = self._progress = Progress(len(items), len(todo), self.progress_stream)
        queue = iter(todo)
        reader = ThreadPoolExecutor(self.workers, thread_name_prefix="openfrs-import-read")
        try:
            await asyncio.gather(*(self._worker(queue, items, outcomes, reader)
                                   for _ in range(min(self.workers, len(todo)))))
        finally:
            reader.shutdown(wait=True, cancel_futures=True)
            progress.close(self.counts, self.attempted)
        return [o or _outcome(items[i], NOT_ATTEMPTED, message=self.stop_reason or "")
                for i, o in enumerate(outcomes)]

    async def _worker(self, queue: Iterator[int], items: list[SourceItem],
                      outcomes: list[Outcome | None], reader: ThreadPoolExecutor) -> None:
        for index in queue:  # one iterator shared by every worker: each item is taken once
            if self.stop_reason == "interrupted":
                return
            outcome = await self._enrol(items[index], reader)
            outcomes[index] = outcome
            self.counts[outcome.status] += 1
            self.attempted += 1
            assert self._progress is not None
            self._progress.update(self.counts, self.attempted)
            if self.on_outcome is not None:
                self.on_outcome(self, outcome)

    async def _enrol(self, item: SourceItem, reader: ThreadPoolExecutor) -> Outcome:
        if self._blocked is not None:
            return _outcome(item, REFUSED, self._blocked.code, self._blocked.message)
        assert item.path is not None
        try:
            image = await asyncio.get_running_loop().run_in_executor(reader, self._read, item.path)
            added = await self._add(image, item)
        except FRSError as exc:
            if exc.code in SET_REFUSALS:
                self._blocked = exc
            return _outcome(item, REFUSED, exc.code, exc.message)
        except OSError as exc:
            return _outcome(item, REFUSED, UNREADABLE, exc.strerror or str(exc))
        except Exception as exc:  # noqa: BLE001 - one image never stops the run; it is reported
            log.debug("import of %s failed", item.label, exc_info=True)
            return _outcome(item, REFUSED, "error", f"{type(exc).__name__}: {exc}")
        if not added.faces:  # only with a quality filter, which the import does not set
            reasons = sorted({r for _, why in added.refused for r in why})
            return _outcome(item, REFUSED, "quality", ", ".join(reasons))
        return _outcome(item, ENROLLED, face_id=added.faces[0].face_id)

    def _read(self, path: Path) -> EncodedPicture:
        status = path.stat()
        if not stat.S_ISREG(status.st_mode):  # a FIFO named x.jpg would block the read for ever
            raise OSError(errno.EINVAL, "not a regular file")
        size = status.st_size
        if size > self.max_bytes:  # the API's body limit (a multipart upload carries raw bytes)
            raise FRSError("FRS.0017", f"{self.max_bytes} bytes (the file has {size})")
        return EncodedPicture(path.read_bytes(), self.limits)

    async def _add(self, image: EncodedPicture, item: SourceItem) -> AddResult:
        request = NewFaces(external_image_id=item.image_id or None, values=item.fields or {}, single=True)
        wait = RETRY_FIRST_S
        while True:
            try:
                return await self.set_faces.add(self.project_id, self.set_name, image, request)
            except FRSError as exc:
                if exc.code != "FRS.0033":
                    raise
            await asyncio.sleep(wait)
            wait = min(2 * wait, RETRY_MAX_S)


def _outcome(item: SourceItem, status: str, code: str = "", message: str = "",
             face_id: str = "") -> Outcome:
    return Outcome(item.label, status, item.image_id, code, message, face_id, item.row, item.person)


def _watch_sigint(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> bool:
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        loop.add_signal_handler(signal.SIGINT, callback)
    except (NotImplementedError, RuntimeError, ValueError):  # not on this platform / thread
        return False
    return True
