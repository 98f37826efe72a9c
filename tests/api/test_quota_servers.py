"""QPS limits on real `openfrs serve` processes: a burst of 100 signed calls at QPS 10.

Needs the Redis on 127.0.0.1:6379 (this machine's kind runs one; CI runs on the same machine):
the two-process test fails, not skips, when it is missing. What it proves: one project's limit
holds across two replicas sharing Redis (token bucket in one Lua script on Redis time), over the
limit answers are 429 FRS.0033 with Retry-After, and nothing answers 5xx.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
from contextlib import closing

import httpx
import pytest
import redis

from openfrs import signing
from openfrs.benchmark.http_load import free_port, start_server
from openfrs.service.tenancy import ACCOUNTS_FILE
from tests.api.test_auth import projects_with_credentials
from tests.conftest import server_env

pytestmark = pytest.mark.models
QPS = 10
REDIS_URL = "redis://127.0.0.1:6379/0"


async def _burst(endpoints: list[str], credential, total: int = 100) -> tuple[list[httpx.Response], float]:
    path = f"/v2/{credential.project_id}/face-sets"

    async def one(http: httpx.AsyncClient, endpoint: str) -> httpx.Response:
        host = endpoint.removeprefix("http://")
        headers = signing.sign("GET", host, path, [], {}, b"", credential.ak, credential.sk)
        return await http.get(endpoint + path, headers=headers)

    async with httpx.AsyncClient(timeout=30) as http:
        started = time.monotonic()
        answers = await asyncio.gather(*(one(http, endpoints[i % len(endpoints)]) for i in range(total)))
        return list(answers), time.monotonic() - started


def _check(answers: list[httpx.Response], seconds: float) -> None:
    passed = [a for a in answers if a.status_code == 200]
    limited = [a for a in answers if a.status_code == 429]
    assert len(passed) + len(limited) == len(answers), {a.status_code for a in answers}  # never a 5xx
    # the bucket starts full (burst = QPS) and refills QPS tokens a second, continuously: separate
    # buckets per replica would let at least twice that through
    assert QPS <= len(passed) <= QPS + QPS * seconds + 1, (len(passed), seconds)
    assert all(a.json()["error_code"] == "FRS.0033" and int(a.headers["Retry-After"]) >= 1 for a in limited)


@pytest.fixture()
def project(own_stores):
    """The stores of the test's own, with project "burst" and its credential."""
    return own_stores, projects_with_credentials(own_stores, "burst")[0]


def _servers(own, count: int, env: dict) -> list:
    """`count` servers knowing the same accounts. On PostgreSQL they share them (each replica
    with a data dir of its own); an embedded data dir takes one server, so each further one gets
    its own copy of the accounts (and of the key sealing their secrets)."""
    data_dir, started = own.data_dir, []
    try:
        for number in range(count):
            port = free_port()
            own_dir = data_dir if number == 0 else data_dir.parent / f"{data_dir.name}-replica{number}"
            if number:
                own_dir.mkdir()
            if number and own.embedded:
                shutil.copy(data_dir / "secret.key", own_dir / "secret.key")
                with closing(sqlite3.connect(data_dir / ACCOUNTS_FILE)) as source, \
                        closing(sqlite3.connect(own_dir / ACCOUNTS_FILE)) as copy:
                    source.backup(copy)  # the WAL's pages too
            started.append((f"http://127.0.0.1:{port}", start_server(
                port, own_dir, own.model_dir,
                extra_env={"OPENFRS_AUTH": "on", "OPENFRS_QPS_DEFAULT": str(QPS), **server_env(own), **env})))
    except BaseException:
        for _, proc in started:
            proc.kill()
        raise
    return started


def test_one_server_limits_a_burst(model_pack_dir, project):
    own, credential = project
    servers = _servers(own, 1, {})
    try:
        _check(*asyncio.run(_burst([url for url, _ in servers], credential)))
    finally:
        for _, proc in servers:
            proc.terminate()
            proc.wait(timeout=20)


def test_two_servers_share_one_limit_through_redis(model_pack_dir, project):
    redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()  # fails loudly when Redis is missing
    own, credential = project
    servers = _servers(own, 2, {"OPENFRS_REDIS_URL": REDIS_URL})
    try:
        answers, seconds = asyncio.run(_burst([url for url, _ in servers], credential))
        _check(answers, seconds)
        # both replicas answered and both refused, yet together they let through one bucket's worth
        by_server = {url: [a.status_code for a in answers if str(a.url).startswith(url)]
                     for url, _ in servers}
        assert all(len(codes) == 50 and 429 in codes for codes in by_server.values()), by_server
    finally:
        for _, proc in servers:
            proc.terminate()
            proc.wait(timeout=20)
