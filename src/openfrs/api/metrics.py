"""Prometheus metrics named after FRS Cloud Eye's (api_calls, error_4xx, ...), per project and API.

Written by hand in text exposition format 0.0.4 so the service needs no metrics dependency.
"""

from __future__ import annotations

import math
import threading
import time
from bisect import bisect_left
from collections.abc import Callable, Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openfrs.api.auth import call_labels, call_status

BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

_HELP = {
    "api_calls": ("counter", "Successful API calls (HTTP status below 400)."),
    "error_4xx": ("counter", "API calls answered with a 4xx status."),
    "error_5xx": ("counter", "API calls answered with a 5xx status or failing unhandled."),
    "request_latency_seconds": ("histogram", "API call latency in seconds, every status."),
    "average_latency": ("gauge", "Mean API call latency in milliseconds since start."),
    "face_number": ("gauge", "Faces stored in each face set."),
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items()) + "}"


def _num(value: float) -> str:
    return "+Inf" if value == math.inf else repr(float(value))


class _Series:
    """Everything kept for one (project, api) pair; buckets are per-bucket, made cumulative on render."""

    __slots__ = ("calls", "e4xx", "e5xx", "buckets", "total", "count")

    def __init__(self) -> None:
        self.calls = self.e4xx = self.e5xx = self.count = 0
        self.buckets = [0] * (len(BUCKETS) + 1)  # the last one is +Inf
        self.total = 0.0


class Metrics:
    """Process-wide counters; observe() is called from the event loop and worker threads alike."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str], _Series] = {}

    def observe(self, project: str, api: str, status: int, seconds: float) -> None:
        with self._lock:
            s = self._series.get((project, api))
            if s is None:
                s = self._series[(project, api)] = _Series()
            if status < 400:
                s.calls += 1
            elif status < 500:
                s.e4xx += 1
            else:
                s.e5xx += 1
            s.buckets[bisect_left(BUCKETS, seconds)] += 1  # le is inclusive: seconds == bound counts in it
            s.total += seconds
            s.count += 1

    def render(self, face_sets: Callable[[], Iterable[tuple[str, str, int]]] = lambda: ()) -> str:
        with self._lock:  # snapshot, so the face-set callback (store I/O) runs without the lock
            snap = sorted(
                (key, (s.calls, s.e4xx, s.e5xx, list(s.buckets), s.total, s.count))
                for key, s in self._series.items()
            )
        out: dict[str, list[str]] = {name: [] for name in _HELP}
        for (project, api), (calls, e4xx, e5xx, buckets, total, count) in snap:
            lab = _labels(project=project, api=api)
            out["api_calls"].append(f"api_calls{lab} {calls}")
            out["error_4xx"].append(f"error_4xx{lab} {e4xx}")
            out["error_5xx"].append(f"error_5xx{lab} {e5xx}")
            hist = out["request_latency_seconds"]
            running = 0
            for bound, n in zip((*BUCKETS, math.inf), buckets, strict=True):
                running += n
                le = _labels(project=project, api=api, le=_num(bound))
                hist.append(f"request_latency_seconds_bucket{le} {running}")
            hist.append(f"request_latency_seconds_sum{lab} {_num(total)}")
            hist.append(f"request_latency_seconds_count{lab} {count}")
            out["average_latency"].append(f"average_latency{lab} {_num(1000.0 * total / count)}")
        for project, face_set, number in sorted(face_sets()):
            lab = _labels(project=project, face_set=face_set)
            out["face_number"].append(f"face_number{lab} {int(number)}")
        lines: list[str] = []
        for name, (kind, help_text) in _HELP.items():
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", *out[name]]
        return "\n".join(lines) + "\n"


class MetricsMiddleware:
    """Pure ASGI so streaming responses and errors are timed too; labels come from the auth dependency,
    the status from the response or the surface's outcome (api/auth.call_status)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})  # request.state writes land in this very dict
        started = time.perf_counter()
        status, observed = 500, False

        async def send_timed(message: Message) -> None:
            nonlocal status, observed
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and not message.get("more_body", False):
                # Observed before the last byte goes out: a client that scrapes right after its
                # answer always finds its call counted.
                self._observe(state, status, time.perf_counter() - started)
                observed = True
            await send(message)

        try:
            await self.app(scope, receive, send_timed)
        except Exception:
            if not observed:
                self._observe(state, 500, time.perf_counter() - started)
            raise
        # A cancelled request (client gone) raises CancelledError, a BaseException: not counted.
        if not observed:
            self._observe(state, status, time.perf_counter() - started)

    def _observe(self, state: dict, status: int, seconds: float) -> None:
        labels = call_labels(state)
        if labels is not None:  # unlabelled: health, /metrics, 404s
            self.metrics.observe(*labels, call_status(state, status), seconds)
