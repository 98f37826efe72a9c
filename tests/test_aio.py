"""gather_or_cancel: results in order, and a failure cancels the siblings."""

from __future__ import annotations

import asyncio

import pytest

from openfrs.aio import gather_or_cancel


def test_results_keep_their_order():
    async def value(v, delay):
        await asyncio.sleep(delay)
        return v

    assert asyncio.run(gather_or_cancel(value(1, 0.02), value(2, 0))) == [1, 2]


def test_first_failure_cancels_the_rest_and_is_raised_as_itself():
    cancelled = asyncio.Event()

    async def slow():
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async def fail():
        await asyncio.sleep(0.01)
        raise ValueError("bad image")

    async def main():
        with pytest.raises(ValueError, match="bad image"):
            await gather_or_cancel(slow(), fail())
        assert cancelled.is_set()

    asyncio.run(asyncio.wait_for(main(), 5))
