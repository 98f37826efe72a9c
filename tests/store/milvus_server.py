"""A throwaway Milvus 2.3.5 standalone server (``milvus-server`` from the ``milvus`` wheel) for tests.

Why not ``milvus.MilvusServer``: it waits up to 180 s even when the server died at start (it never
notices), and its ``stop`` gives the server one second. Here the launcher runs in its own process
group on free ports (proxy, and the embedded etcd's client and peer ports through an etcd config
file; its default 2379/2380 would clash with any other Milvus on the machine), readiness is polled
with pymilvus, and a server that cannot start fails loudly with the tail of its log.

``session_server`` gives every test module that needs Milvus one server per pytest session.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

STOP_GRACE_S = 5.0  # the server ignores SIGTERM for a while; SIGKILL after this


@dataclass(frozen=True)
class MilvusServer:
    uri: str
    startup_s: float
    data_dir: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _log_tail(data_dir: Path, launcher_log: Path, lines: int = 15) -> str:
    text = []
    for log in (launcher_log, data_dir / "logs" / "milvus-stdout.log"):
        if log.exists():
            found = log.read_text(errors="replace").splitlines()
            wanted = found if log == launcher_log else [ln for ln in found if "ERROR" in ln]
            text.append(f"--- {log}\n" + "\n".join(ln[:400] for ln in wanted[-lines:]))
    return "\n".join(text)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM to the whole group (launcher and server), SIGKILL after the grace period."""
    pgid = proc.pid  # start_new_session: the launcher leads its own group
    for sig, wait_s in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, 10.0)):
        if not _group_alive(pgid):
            break
        os.killpg(pgid, sig)
        deadline = time.monotonic() + wait_s
        while _group_alive(pgid) and time.monotonic() < deadline:
            proc.poll()  # reap the launcher so it does not keep the group alive as a zombie
            time.sleep(0.1)
    proc.wait(timeout=10)


def _wait_ready(uri: str, proc: subprocess.Popen, timeout_s: float) -> None:
    from pymilvus import MilvusClient, MilvusException

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"milvus-server exited with status {proc.returncode}")
        try:
            client = MilvusClient(uri=uri, timeout=2)
            client.list_collections()
            client.close()
            return
        except MilvusException:
            time.sleep(0.5)
    raise TimeoutError(f"Milvus at {uri} not ready after {timeout_s:.0f} s")


@contextmanager
def milvus_server(data_dir: Path, timeout_s: float = 120.0, **config: str | int) -> Iterator[MilvusServer]:
    """Run a Milvus server with its data in ``data_dir`` for the duration of the block.

    ``config`` entries become ``--extra-config key=value`` (e.g. ``proxy.timeTickInterval=50``)."""
    launcher = Path(sys.executable).with_name("milvus-server")
    if not launcher.exists():
        raise RuntimeError(f"{launcher} missing: install requirements.lock (the `milvus` wheel)")
    proxy, etcd_client, etcd_peer = _free_port(), _free_port(), _free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    etcd_config = data_dir / "etcd.yaml"
    etcd_config.write_text(
        f"name: default\nlisten-client-urls: http://127.0.0.1:{etcd_client}\n"
        f"advertise-client-urls: http://127.0.0.1:{etcd_client}\n"
        f"listen-peer-urls: http://127.0.0.1:{etcd_peer}\n"
        f"initial-advertise-peer-urls: http://127.0.0.1:{etcd_peer}\n"
        f"initial-cluster: default=http://127.0.0.1:{etcd_peer}\n")
    args = [str(launcher), "--data", str(data_dir), "--proxy-port", str(proxy),
            "--etcd-port", str(etcd_client)]
    for key, value in config.items():
        args += ["--extra-config", f"{key}={value}"]
    launcher_log = data_dir / "launcher.log"
    env = {**os.environ, "ETCD_CONFIG_PATH": str(etcd_config)}  # Milvus reads config keys from env too
    uri = f"http://127.0.0.1:{proxy}"
    started = time.monotonic()
    with open(launcher_log, "wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        try:
            _wait_ready(uri, proc, timeout_s)
        except Exception as exc:
            log_tail = _log_tail(data_dir, launcher_log)
            raise RuntimeError(f"Milvus server did not start: {exc}\n{log_tail}") from exc
        yield MilvusServer(uri, time.monotonic() - started, data_dir)
    finally:
        _stop(proc)


# Strong consistency waits for the server's time tick (default 200 ms, see milvus.py); a 50 ms tick
# keeps the tests fast without changing what a search is guaranteed to see.
TEST_CONFIG = {"proxy.timeTickInterval": 50}
_session: list[MilvusServer] = []


def session_server(request: pytest.FixtureRequest) -> MilvusServer:
    """The session's server, started by the first module that asks (a start takes tens of seconds)
    and stopped at the end of the session; call it from a session-scoped fixture."""
    if not _session:
        stack = ExitStack()
        data_dir = request.getfixturevalue("tmp_path_factory").mktemp("milvus")
        _session.append(stack.enter_context(milvus_server(data_dir, **TEST_CONFIG)))
        request.session.addfinalizer(lambda: (stack.close(), _session.clear()))
        sys.stderr.write(f"\nMilvus server ready in {_session[0].startup_s:.1f} s at {_session[0].uri}\n")
    return _session[0]
