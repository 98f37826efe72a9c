"""The inference pool runs jobs off the loop and refuses work beyond its queue bound."""

from __future__ import annotations

import asyncio
import threading

import pytest

from openfrs.errors import FRSError
from openfrs.service.workers import InferencePool


def test_jobs_run_on_worker_threads():
    pool = InferencePool(2)
    try:
        name = asyncio.run(pool.run(lambda: threading.current_thread().name))
        assert name.startswith("openfrs-infer")
    finally:
        pool.shutdown()


def test_full_queue_is_refused_with_frs_0033_and_recovers():
    pool = InferencePool(1, max_pending=2)
    release = threading.Event()

    async def main():
        first = asyncio.create_task(pool.run(release.wait, 5))
        second = asyncio.create_task(pool.run(release.wait, 5))
        await asyncio.sleep(0.05)
        with pytest.raises(FRSError) as caught:
            await pool.run(lambda: 1)
        assert caught.value.code == "FRS.0033" and caught.value.status == 429
        release.set()
        await asyncio.gather(first, second)
        assert await pool.run(lambda: 7) == 7

    try:
        asyncio.run(asyncio.wait_for(main(), 10))
    finally:
        pool.shutdown()
