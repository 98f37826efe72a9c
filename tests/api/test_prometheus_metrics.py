"""The Cloud Eye style metrics, read back through a parser of the 0.0.4 text format, not a fixed text."""

from __future__ import annotations

import re

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from openfrs.api.metrics import Metrics, MetricsMiddleware

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')
_UNESCAPE = {"\\\\": "\\", '\\"': '"', "\\n": "\n"}


def parse(text: str) -> tuple[dict[tuple[str, frozenset], float], dict[str, str]]:
    """Samples keyed by (name, labels) and metric types; fails on any line that is not well formed."""
    samples: dict[tuple[str, frozenset], float] = {}
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        if line.startswith("# HELP "):
            continue
        m = _SAMPLE.match(line)
        assert m, f"bad sample line {line!r}"
        name, raw, value = m.groups()
        labels = {}
        if raw:
            pairs = _LABEL.findall(raw)
            assert "".join(f'{k}="{v}",' for k, v in pairs)[:-1] == raw, f"bad labels {raw!r}"
            labels = {k: re.sub(r"\\.", lambda e: _UNESCAPE[e.group()], v) for k, v in pairs}
        key = (name, frozenset(labels.items()))
        assert key not in samples, f"duplicate sample {line!r}"
        samples[key] = float(value)
    return samples, types


def make_client(face_sets=lambda: ()) -> tuple[TestClient, Metrics]:
    metrics = Metrics()
    app = FastAPI()

    def label(request: Request, project: str = "p1", outcome: str = "ok") -> str:
        request.state.project_id = project
        request.state.api = "detect"
        if outcome == "4xx":
            raise HTTPException(400, "bad request")
        if outcome == "5xx":
            raise RuntimeError("boom")
        return outcome

    @app.post("/detect")
    def detect(outcome: str = Depends(label)) -> dict:
        return {"outcome": outcome}

    @app.get("/health")
    def health() -> dict:
        return {"ok": True}

    @app.get("/metrics")
    def expose() -> PlainTextResponse:
        return PlainTextResponse(metrics.render(face_sets), media_type="text/plain; version=0.0.4")

    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return TestClient(app, raise_server_exceptions=False), metrics


def scrape(client: TestClient) -> tuple[dict[tuple[str, frozenset], float], dict[str, str]]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


def key(name: str, **labels: str) -> tuple[str, frozenset]:
    return name, frozenset(labels.items())


def test_counts_histogram_and_average_per_project_and_api() -> None:
    client, _ = make_client()
    for outcome, status in [("ok", 200)] * 3 + [("4xx", 400)] * 2 + [("5xx", 500)]:
        assert client.post("/detect", params={"outcome": outcome}).status_code == status
    assert client.post("/detect", params={"project": "p2"}).status_code == 200
    samples, types = scrape(client)

    assert types == {"api_calls": "counter", "error_4xx": "counter", "error_5xx": "counter",
                     "request_latency_seconds": "histogram", "average_latency": "gauge",
                     "face_number": "gauge"}
    p1, p2 = {"project": "p1", "api": "detect"}, {"project": "p2", "api": "detect"}
    assert samples[key("api_calls", **p1)] == 3 and samples[key("api_calls", **p2)] == 1
    assert samples[key("error_4xx", **p1)] == 2 and samples[key("error_5xx", **p1)] == 1
    assert samples[key("error_4xx", **p2)] == 0 and samples[key("error_5xx", **p2)] == 0

    count = samples[key("request_latency_seconds_count", **p1)]
    total = samples[key("request_latency_seconds_sum", **p1)]
    assert count == 6 and total > 0
    buckets = sorted((float(dict(labels)["le"]), v) for (name, labels), v in samples.items()
                     if name == "request_latency_seconds_bucket" and dict(labels)["project"] == "p1")
    assert [le for le, _ in buckets][-1] == float("inf") and len(buckets) == 12
    values = [v for _, v in buckets]
    assert values == sorted(values) and values[-1] == count
    assert abs(samples[key("average_latency", **p1)] - 1000 * total / count) < 1e-6
    assert samples[key("request_latency_seconds_count", **p2)] == 1
    assert not any(name == "face_number" for name, _ in samples)


def test_unlabelled_requests_are_not_api_calls() -> None:
    client, _ = make_client()
    client.post("/detect")
    before, _ = scrape(client)
    assert client.get("/health").status_code == 200
    assert client.get("/nowhere").status_code == 404
    after, _ = scrape(client)
    assert after == before and len(after) == 3 + 12 + 2 + 1


def test_face_number_comes_from_the_callback() -> None:
    client, _ = make_client(lambda: [("p1", "staff", 12), ("p2", "visitors", 0)])
    samples, _ = scrape(client)
    assert samples[key("face_number", project="p1", face_set="staff")] == 12
    assert samples[key("face_number", project="p2", face_set="visitors")] == 0


def test_label_values_are_escaped() -> None:
    metrics = Metrics()
    odd = 'a "quoted" \\ back\nslash'
    metrics.observe(odd, "detect", 200, 0.01)
    text = metrics.render(lambda: [("p1", odd, 1)])
    assert 'project="a \\"quoted\\" \\\\ back\\nslash"' in text
    samples, _ = parse(text)
    assert samples[key("api_calls", project=odd, api="detect")] == 1
    assert samples[key("face_number", project="p1", face_set=odd)] == 1
