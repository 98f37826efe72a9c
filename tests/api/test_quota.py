"""Token-bucket QPS limits: the in-process limiter on a fake clock, and the Redis limiter on a real server.

The Redis tests need a Redis server at 127.0.0.1:6379 and FAIL (they do not skip) when it is unreachable:
a silently skipped test would hide that the shared limit was never checked.
"""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis

from openfrs.api.quota import (
    KEY_PREFIX,
    LocalRateLimiter,
    QuotaBackendError,
    RedisRateLimiter,
    make_limiter,
)

REDIS_URL = "redis://127.0.0.1:6379/0"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def _count(limiter, key: str, n: int, rate: float = 10, burst: float = 10) -> list[float]:
    return [await limiter.acquire(key, rate, burst) for _ in range(n)]


def test_local_burst_then_refill() -> None:
    clock = FakeClock()
    limiter = LocalRateLimiter(clock=clock)

    async def scenario() -> None:
        assert await _count(limiter, "p:api", 10) == [0.0] * 10
        assert await limiter.acquire("p:api", 10, 10) == pytest.approx(0.1)
        assert await limiter.acquire("p:api", 10, 10) == pytest.approx(0.1)  # a refusal took nothing
        clock.now += 0.35
        waits = await _count(limiter, "p:api", 4)
        assert waits[:3] == [0.0] * 3
        assert waits[3] == pytest.approx(0.05)  # half a token left: half the 0.1 s interval to wait
        clock.now += 100
        waits = await _count(limiter, "p:api", 11)
        assert waits[:10] == [0.0] * 10
        assert waits[10] == pytest.approx(0.1)  # refills to burst, not beyond

    asyncio.run(scenario())


def test_local_keys_are_separate_and_rate_zero_is_unlimited() -> None:
    limiter = LocalRateLimiter(clock=FakeClock())

    async def scenario() -> None:
        assert all(w == 0.0 for w in await _count(limiter, "a", 10))
        assert await limiter.acquire("a", 10, 10) > 0
        assert await _count(limiter, "b", 10) == [0.0] * 10  # "a" being empty does not drain "b"
        assert await _count(limiter, "c", 1000, rate=0) == [0.0] * 1000
        assert await limiter.acquire("c", -1, 10) == 0.0
        assert "c" not in limiter._buckets  # no limit touches nothing

    asyncio.run(scenario())


def test_local_evicts_idle_buckets() -> None:
    clock = FakeClock()
    limiter = LocalRateLimiter(clock=clock)

    async def scenario() -> None:
        for i in range(50):
            await limiter.acquire(f"k{i}", 10, 10)
        await limiter.acquire("slow", 0.001, 10)  # takes 10 000 s to refill: must outlive the 10 min
        clock.now += 11 * 60
        await limiter.acquire("fresh", 10, 10)
        assert set(limiter._buckets) == {"slow", "fresh"}
        clock.now += 10_000
        await limiter.acquire("fresh", 10, 10)
        assert set(limiter._buckets) == {"fresh"}

    asyncio.run(scenario())


def _require_redis() -> None:
    try:
        with redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1) as client:
            client.ping()
    except redis.RedisError as error:
        raise AssertionError(f"these tests need Redis at {REDIS_URL}: {error}") from error


def test_redis_concurrent_burst() -> None:
    _require_redis()
    key = f"test:{uuid.uuid4().hex}"

    async def scenario() -> None:
        limiter = make_limiter(REDIS_URL)
        assert isinstance(limiter, RedisRateLimiter)
        try:
            waits = await asyncio.gather(*(limiter.acquire(key, 10, 10) for _ in range(100)))
            admitted = [w for w in waits if w == 0.0]
            assert 10 <= len(admitted) <= 11, waits
            assert all(0 < w <= 0.1 + 1e-9 for w in waits if w != 0.0), waits  # under a token: < 1/rate
            ttl = await limiter._redis.pttl(KEY_PREFIX + key)
            assert 0 < ttl <= 2000  # full again after burst / rate = 1 s, so it may vanish soon after
            assert await limiter.acquire(key, 0, 10) == 0.0  # rate 0: unlimited even on an empty bucket
            await limiter._redis.delete(KEY_PREFIX + key)
        finally:
            await limiter.close()

    asyncio.run(scenario())


def test_redis_two_processes_share_one_bucket() -> None:
    _require_redis()
    key = f"test:{uuid.uuid4().hex}"

    async def scenario() -> None:
        first, second = RedisRateLimiter(REDIS_URL), RedisRateLimiter(REDIS_URL)
        try:
            pair = (first, second)
            waits = [await pair[i % 2].acquire(key, 10, 10) for i in range(20)]
            assert 10 <= waits.count(0.0) <= 11, waits  # one bucket, not 10 each
            assert waits[:10] == [0.0] * 10  # and the burst is honoured on both sides
            started = time.monotonic()
            await asyncio.sleep(0.5)
            waits = [await pair[i % 2].acquire(key, 10, 10) for i in range(10)]
            refilled = 10 * (time.monotonic() - started)
            assert int(refilled) - 1 <= waits.count(0.0) <= int(refilled) + 1, (refilled, waits)
            assert 4 <= waits.count(0.0) <= 7, waits
            await first._redis.delete(KEY_PREFIX + key)
        finally:
            await first.close()
            await second.close()

    asyncio.run(scenario())


def test_redis_refill_stops_at_burst() -> None:
    _require_redis()
    key = f"test:{uuid.uuid4().hex}"

    async def scenario() -> None:
        limiter = RedisRateLimiter(REDIS_URL)
        try:
            assert (await _count(limiter, key, 6, rate=100, burst=5)).count(0.0) == 5
            await asyncio.sleep(0.2)  # 20 tokens' worth of time, but the bucket holds 5
            assert 5 <= (await _count(limiter, key, 10, rate=100, burst=5)).count(0.0) <= 6
            await limiter._redis.delete(KEY_PREFIX + key)
        finally:
            await limiter.close()

    asyncio.run(scenario())


def test_redis_unreachable_raises_quota_backend_error() -> None:
    async def scenario() -> None:
        limiter = RedisRateLimiter("redis://127.0.0.1:1/0")  # nothing listens on port 1
        try:
            started = time.monotonic()
            with pytest.raises(QuotaBackendError):
                await limiter.acquire("x", 10, 10)
            assert time.monotonic() - started < 3
            assert await limiter.acquire("x", 0, 10) == 0.0  # no limit needs no store
        finally:
            await limiter.close()

    asyncio.run(scenario())


def test_make_limiter_without_url_is_local() -> None:
    assert isinstance(make_limiter(None), LocalRateLimiter)
    assert isinstance(make_limiter(""), LocalRateLimiter)
