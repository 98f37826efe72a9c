"""A throwaway Milvus 2.3.5 standalone server (``milvus-server`` from the ``milvus`` wheel), for the
tests and for `openfrs bench search --backend milvus` (which must not import tests/).

Why not ``milvus.MilvusServer``: it waits up to 180 s even when the server died at start (it never
notices), and its ``stop`` gives the server one second. Here the launcher runs in its own process
group on free ports (proxy, the internal components', and the embedded etcd's client and peer
ports through an etcd config file; the defaults would clash with any other Milvus on the machine),
readiness is polled with pymilvus, and a server that cannot start fails loudly with the tail of its log.

``process_tree_rss`` sums the resident memory of the server's process group, for the benchmark's
memory per face. The pytest session fixture stays in tests/store/milvus_server.py.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STOP_GRACE_S = 5.0  # the server ignores SIGTERM for a while; SIGKILL after this
# The launcher's options for the internal components' gRPC ports. Left to it, it probes from fixed
# defaults (53100, 13333, ...), bind-then-release, so two servers starting together clash
# ("bind: address already in use", seen with the tests and a benchmark on one machine).
COMPONENT_PORTS = ("--root-coord-port", "--data-coord-port", "--index-coord-port", "--query-coord-port",
                   "--query-node-port", "--data-node-port", "--index-node-port", "--proxy-internal-port")


@dataclass(frozen=True)
class MilvusServer:
    uri: str
    startup_s: float
    data_dir: Path
    pgid: int = 0  # the server's process group (launcher and milvus binary)


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
    for option in COMPONENT_PORTS:  # else two servers starting at once race for the defaults
        args += [option, str(_free_port())]
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
        yield MilvusServer(uri, time.monotonic() - started, data_dir, proc.pid)
    finally:
        _stop(proc)


def process_tree_rss(pgid: int) -> int:
    """Resident bytes of every process in group ``pgid`` now (Linux /proc)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # stat fields 5 (pgrp) and 24 (rss, pages)
                total += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
    return total
