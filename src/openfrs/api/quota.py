"""Per-project, per-API QPS limits (FRS answers 429 / FRS.0033 over the limit), as token buckets.

A bucket holds up to `burst` tokens and refills at `rate` tokens per second; each request takes one
token, and a request that finds less than one is refused and told how long until one is there. So a
client may burst, yet its long-run rate is bounded by `rate`. An absent bucket counts as full, which
lets idle buckets be dropped (from memory, or by Redis expiry) without changing any answer.

One process keeps its buckets in memory (`LocalRateLimiter`). Several replicas share theirs in Redis
(`RedisRateLimiter`): one Lua script refills and takes atomically, and it reads the clock with Redis's
own TIME, so every replica measures elapsed time on the same clock and skew between hosts cannot
mint or destroy tokens.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

IDLE_EVICT_S = 600.0  # buckets untouched this long are dropped from memory
KEY_PREFIX = "openfrs:qps:"


class QuotaBackendError(Exception):
    """The shared quota store is unreachable: the caller answers with an error, not an unlimited pass."""


class RateLimiter(Protocol):
    async def acquire(self, key: str, rate: float, burst: float) -> float:
        """0.0 when the request may go ahead (a token was taken); otherwise the seconds until a token
        will be available (nothing taken). rate <= 0 means no limit."""

    async def close(self) -> None: ...


class LocalRateLimiter:
    """Buckets in this process only: right for a single server; a lock keeps it safe across threads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float, float]] = {}  # key -> (tokens, last use, evict after)
        self._last_sweep = clock()

    async def acquire(self, key: str, rate: float, burst: float) -> float:
        if rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            if now - self._last_sweep >= 60.0:
                self._sweep(now)
            tokens, stamp, _ = self._buckets.get(key, (burst, now, 0.0))
            tokens = min(burst, tokens + max(0.0, now - stamp) * rate)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / rate
            if not wait:
                tokens -= 1.0
            # Never evict before the bucket is full again (burst / rate), or dropping it would grant tokens.
            self._buckets[key] = (tokens, now, max(IDLE_EVICT_S, burst / rate))
            return wait

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        for key in [k for k, (_, stamp, idle) in self._buckets.items() if now - stamp > idle]:
            del self._buckets[key]

    async def close(self) -> None:
        self._buckets.clear()


# KEYS[1] bucket hash; ARGV rate, burst. Returns the wait in seconds as a string ("0" = admitted):
# a Lua number would come back truncated to an integer.
_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(b[1]) or burst
local ts = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = (1 - tokens) / rate end
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'ts', string.format('%.17g', now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return string.format('%.17g', wait)
"""


class RedisRateLimiter:
    """Buckets in Redis, shared by every replica pointed at the same server."""

    def __init__(self, url: str, timeout_s: float = 0.5) -> None:
        # Short timeouts and one immediate retry (a pooled connection may be stale after a Redis
        # restart): a dead quota store must fail a request fast, not hang it.
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                           retry=Retry(NoBackoff(), 1))
        self._take = self._redis.register_script(_TAKE)

    async def acquire(self, key: str, rate: float, burst: float) -> float:
        if rate <= 0:
            return 0.0
        try:
            wait = await self._take(keys=[KEY_PREFIX + key], args=[repr(float(rate)), repr(float(burst))])
        except (RedisError, OSError) as error:
            raise QuotaBackendError(f"quota store unavailable: {error}") from error
        return float(wait)

    async def close(self) -> None:
        await self._redis.aclose()


def make_limiter(redis_url: str | None) -> RateLimiter:
    """Redis when configured (several replicas share one limit), else this process's memory."""
    return RedisRateLimiter(redis_url) if redis_url else LocalRateLimiter()
