"""The tests' Milvus server: the launcher lives in openfrs/benchmark/milvus_server.py (the benchmark
starts one too); here only the tests' settings and the pytest-session server.

``session_server`` gives every test module that needs Milvus one server per pytest session.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack

import pytest

from openfrs.benchmark.milvus_server import STOP_GRACE_S, MilvusServer, milvus_server

__all__ = ["STOP_GRACE_S", "TEST_CONFIG", "MilvusServer", "milvus_server", "session_server"]

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
