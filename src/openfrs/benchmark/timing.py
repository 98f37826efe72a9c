"""Tiny timing helpers: warm up, repeat, report the median (machines here are noisy)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def median_ms(fn: Callable[[], object], repeat: int = 15, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(samples)


def interleaved_medians_ms(fns: dict[str, Callable[[], object]], repeat: int = 15,
                           warmup: int = 2) -> dict[str, float]:
    """Median ms of each function, timed in alternating rounds so that a slow spell of the
    machine hits all of them alike (what a ratio between them needs)."""
    for fn in fns.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append((time.perf_counter() - start) * 1000.0)
    return {name: statistics.median(values) for name, values in samples.items()}


def percentiles_ms(seconds: list[float]) -> dict[str, float]:
    """p50 / p99 (and the count) of durations given in seconds, in milliseconds."""
    ms = [s * 1000.0 for s in seconds]
    p50, p99 = statistics.quantiles(ms, n=100, method="inclusive")[49::49] if len(ms) > 1 else ms * 2
    return {"p50": p50, "p99": p99, "n": len(ms)}
