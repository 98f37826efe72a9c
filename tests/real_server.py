"""A real `openfrs serve` subprocess for tests that need whole servers (scale-out, replicas)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from openfrs.benchmark.http_load import free_port


def serve(data_dir: Path, model_dir: Path, log: Path) -> tuple[subprocess.Popen, str]:
    """A real `openfrs serve`, auth on, with the environment's database; (process, URL) once healthy."""
    port = free_port()
    with log.open("ab") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "openfrs.cli", "--model-dir", str(model_dir), "serve", "--port",
             str(port), "--data-dir", str(data_dir)],
            env={**os.environ, "OPENFRS_AUTH": "on"}, stdout=subprocess.DEVNULL, stderr=stderr)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(proc, url, log, "the server")
    return proc, url


def wait_healthy(proc: subprocess.Popen, url: str, log: Path, what: str, timeout_s: float = 90) -> None:
    """Until `url`/health answers 200; a process that exits or stays unhealthy fails the test
    with the tail of its log."""
    deadline = time.monotonic() + timeout_s
    while proc.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"{what} did not come up:\n{log.read_text(errors='replace')[-3000:]}")


def first_credential(log: Path) -> dict[str, str]:
    lines = [line for line in log.read_text().splitlines() if line.strip().startswith('{"project_id"')]
    assert len(lines) == 1, log.read_text()[-3000:]
    return json.loads(lines[0])
