"""A thread pool for blocking inference with a bounded queue, so the event loop keeps serving
requests and an overload is refused (FRS.0033, 429) instead of piling up decoded images."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from openfrs.errors import FRSError

T = TypeVar("T")


class InferencePool:
    """ONNX Runtime and numpy release the GIL, so threads give real parallelism here.

    At most `max_pending` jobs are running or waiting; one more is refused at once. Each
    waiting job holds its decoded image (up to ~48 MB), so an unbounded queue is a memory leak
    under load.
    """

    def __init__(self, workers: int, max_pending: int | None = None) -> None:
        workers = max(1, workers)
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="openfrs-infer")
        self.max_pending = max_pending or 16 * workers
        self._pending = 0

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        if self._pending >= self.max_pending:  # only the event loop thread touches the counter
            raise FRSError("FRS.0033", "the inference queue is full, retry shortly "
                                       "(OPENFRS_MAX_PENDING_INFERENCES sets its length)")
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, fn, *args)
        finally:
            self._pending -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
