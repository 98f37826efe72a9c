"""End-to-end compare requests/s: a real `openfrs serve` subprocess and a concurrent client."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, data_dir: Path, model_dir: Path,
                 extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    env = {**os.environ, "OPENFRS_AUTH": "off", **(extra_env or {})}
    cmd = [sys.executable, "-m", "openfrs.cli", "--model-dir", str(model_dir), "serve",
           "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
    # The log goes to a file, not a pipe: nobody reads a pipe once the server is up, and a
    # full one would block the server. The child keeps its own handle after ours is closed.
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError("server exited: " + log.read().decode(errors="replace")[-2000:])
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                    return proc
            except httpx.HTTPError:
                time.sleep(0.2)
        proc.kill()
    raise RuntimeError("server did not become healthy in 60 s")


async def _load(url: str, body: dict, total: int, concurrency: int) -> tuple[float, int]:
    done = 0
    failures = 0

    async with httpx.AsyncClient(timeout=60) as client:
        async def worker() -> None:
            nonlocal done, failures
            while done < total:
                done += 1
                response = await client.post(url, json=body)
                failures += response.status_code != 200

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - start, failures


def compare_rps(image1: bytes, image2: bytes, model_dir: Path, data_dir: Path,
                total: int = 60, concurrency: int = 4,
                extra_env: dict[str, str] | None = None) -> dict[str, float]:
    port = free_port()
    proc = start_server(port, data_dir, model_dir, extra_env)
    try:
        url = f"http://127.0.0.1:{port}/v2/bench/face-compare"
        body = {"image1_base64": base64.b64encode(image1).decode(),
                "image2_base64": base64.b64encode(image2).decode()}
        asyncio.run(_load(url, body, 4, 2))  # warm-up
        seconds, failures = asyncio.run(_load(url, body, total, concurrency))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {"compare_rps": total / seconds, "compare_failures": failures,
            "concurrency": concurrency, "requests": total}
