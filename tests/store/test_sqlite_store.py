"""What only the SQLite store promises: kill -9 durability of its file and per-field indexes.
The contract every store shares is in test_metadata_store.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from store_helpers import face, face_set

from openfrs.store.sqlite import SQLiteMetadataStore

WRITER = textwrap.dedent("""
    import sys, numpy as np
    from openfrs.store.records import FaceRecord, FaceSetRecord
    from openfrs.store.sqlite import SQLiteMetadataStore
    store = SQLiteMetadataStore(sys.argv[1])
    key = store.create_face_set(FaceSetRecord(0, "p1", "s", "abcdefgh", 10000, {}, "m1", "t")).key
    i = 0
    while True:
        v = np.full(128, 1 / np.sqrt(128), np.float32)
        store.add_faces(key, [FaceRecord(f"f{i}", f"img{i}", (0, 0, 1, 1), v)])
        print(f"f{i}", flush=True)  # acknowledged only after the commit returned
        i += 1
""")


def test_acknowledged_faces_survive_kill_9(tmp_path: Path):
    db = tmp_path / "meta.db"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True)
    acknowledged = []
    try:
        while len(acknowledged) < 200:
            line = proc.stdout.readline()
            assert line, "writer died early"
            acknowledged.append(line.strip())
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    store = SQLiteMetadataStore(db)
    key = store.get_face_set("p1", "s").key
    for face_id in acknowledged:
        assert store.get_face(key, face_id) is not None, face_id
    assert store.count_faces(key) >= len(acknowledged)
    store.close()


def test_declared_fields_are_indexed_so_filters_skip_the_json_scan(tmp_path):
    from openfrs.service.filters import parse_filter
    from openfrs.store.sql_filter import SQLITE, to_sql

    path = tmp_path / "meta.db"
    store = SQLiteMetadataStore(path)
    key = store.create_face_set(face_set()).key  # declares "age"
    store.add_faces(key, [face(i) for i in range(50)])
    expr = parse_filter("age:[10 TO 12]", {"age": "integer"})
    where, params = to_sql(expr, SQLITE)
    plan = " ".join(row[3] for row in store._reader().execute(
        f"EXPLAIN QUERY PLAN SELECT key FROM faces WHERE set_key = ? AND ({where})", (key, *params)))
    assert "faces_field_age" in plan
    assert store.keys_matching(key, expr).tolist() == [11, 12, 13]  # faces 10-12 have keys 11-13
    store._writer.execute('DROP INDEX "faces_field_age"')  # a store made before field indexes
    store.close()
    reopened = SQLiteMetadataStore(path)
    indexes = reopened._reader().execute("SELECT name FROM sqlite_master WHERE type = 'index'")
    names = {row[0] for row in indexes}
    assert "faces_field_age" in names
    reopened.close()
