"""Whole-API fuzzing: schemathesis sends every operation of the served /openapi.json (but the two
in UNFUZZED, which would break the cases after them) to a real
`openfrs serve` process, once with OPENFRS_AUTH=off and once with every request signed with an
AK/SK (openfrs.signing, as huaweicloudsdkfrs signs).

Each case fails the test when the server answers 5xx, takes more than 30 s, answers a status,
content type, header or body its operation does not document, or when a refused (4xx) request
changed stored data: every table of the metadata and accounts stores is compared before and
after it, read through the stores (so on either `--backend`: SQLite files or a PostgreSQL schema).
The one change a refusal may make is to count itself in usage: one more `throttled` (429) or
`errors` (another 4xx) on one row, nothing else.
The document's own examples go first (a real face, so the success answers are checked too), then
generated cases, schema-valid and schema-breaking. Most cases aim at the example face set
"employees" (made again before each case if a case deleted it) so the face operations get past
FRS.0302. OPENFRS_FUZZ_EXAMPLES sets the generated cases per operation and mode (default 25);
OPENFRS_FUZZ_REPORT names a JSON file for the run's figures (docs/api.md records one).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis.checks import not_a_server_error
from schemathesis.generation.hypothesis.builder import HypothesisTestConfig, HypothesisTestMode, create_test
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from openfrs.api.openapi.examples import REQUEST_EXAMPLES
from openfrs.api.openapi.operations import OPERATIONS
from openfrs.benchmark.http_load import free_port, start_server
from openfrs.migrate.accounts import TABLES
from openfrs.service.tenancy import Tenancy
from openfrs.store.accounts import Accounts
from openfrs.store.base import MetadataStore
from openfrs.store.factory import open_accounts, open_metadata_store
from tests.api.test_auth import accounts
from tests.conftest import server_env, stores_of_their_own
from tests.signed_http import AkSkAuth

pytestmark = pytest.mark.models

EXAMPLES = int(os.environ.get("OPENFRS_FUZZ_EXAMPLES", "25"))
# The document's examples first, then generated cases; OPENFRS_FUZZ_COVERAGE=1 adds schemathesis'
# boundary and schema-breaking values of every field (hundreds of cases an operation: deep runs).
MODES = [HypothesisTestMode.EXAMPLES, HypothesisTestMode.FUZZING,
         *([HypothesisTestMode.COVERAGE] if os.environ.get("OPENFRS_FUZZ_COVERAGE") == "1" else [])]
TIMEOUT_S = 30  # a request slower than this is a hang
SET = "employees"  # the document's example face set
SET_BODY = REQUEST_EXAMPLES["create_face_set"]["value"]
FACE_BODY = REQUEST_EXAMPLES["add_faces"]["value"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
# Documented but not fuzzed: a valid case would break every case after it (tests/api/test_manage.py
# covers them).
UNFUZZED = {
    ("PUT", "/v1/{project_id}/project"): "a generated qps (say 0.5) throttles every later call",
    ("PUT", "/v1/{project_id}/subscribe/{service}"): "enabled: false refuses every later call of it",
}
FUZZED = sorted(set(OPERATIONS) - set(UNFUZZED))
@dataclass
class Server:
    url: str
    stores: tuple[MetadataStore, Accounts]  # the server's, opened by the test (closed after)
    project_id: str
    auth: requests.auth.AuthBase | None
    face_id: str = ""
    cases: Counter = field(default_factory=Counter)
    statuses: dict = field(default_factory=lambda: defaultdict(Counter))

    def call(self, method: str, path: str, **kwargs) -> requests.Response:
        return requests.request(method, self.url + path, auth=self.auth, timeout=TIMEOUT_S, **kwargs)

    def ensure_example_set(self) -> None:
        """The example set, with at least one face (its id in `face_id`), whatever earlier cases did."""
        sets = f"/v2/{self.project_id}/face-sets"
        if self.call("GET", f"{sets}/{SET}").status_code != 200:
            response = self.call("POST", sets, json=SET_BODY)
            assert response.status_code == 200, response.text
        faces = self.call("GET", f"{sets}/{SET}/faces", params={"limit": 1}).json()["faces"]
        if not faces:
            response = self.call("POST", f"{sets}/{SET}/faces", json=FACE_BODY)
            assert response.status_code == 200, response.text
            faces = response.json()["faces"]
        self.face_id = faces[0]["face_id"]

    def snapshot(self) -> dict[str, str]:
        """A digest of every table of the server's stores (committed data), read through the
        stores: face sets (with their face counts) and faces, and every accounts table."""
        metadata, accounts = self.stores
        sets = [metadata.get_face_set(project_id, name) for project_id, name, _ in metadata.face_set_counts()]
        faces = [(replace(face, embedding=None), face.embedding.tobytes()) for record in sets if record
                 for face in metadata.list_faces(record.key, 0, 2**31 - 1)]
        tables = {"metadata:face_sets": sets, "metadata:faces": faces,
                  **{f"accounts:{table}": accounts._rows(f"SELECT * FROM {table}") for table in TABLES
                     if table != "usage"}}  # usage: usage_counts, compared count by count
        return {name: hashlib.sha256(repr(sorted(rows, key=repr)).encode()).hexdigest()
                for name, rows in tables.items()}

    def usage_counts(self) -> Counter:
        """Every usage counter, keyed (project, api, day, column)."""
        counts: Counter = Counter()
        for project_id, api, day, *values in self.stores[1].usage_rows():
            for column, value in zip(("calls", "throttled", "errors"), values, strict=True):
                counts[project_id, api, day, column] = value
        return counts


@pytest.fixture(scope="module", params=["off", "aksk"])
def server(request, settings, model_pack_dir, tmp_path_factory):
    mode = request.param
    if mode == "off" and not settings.embedded:
        pytest.skip("on PostgreSQL the fuzz runs signed only: the stores see the same calls with auth "
                    "off, and each face-set re-create (a Milvus collection) would double its time")
    with stores_of_their_own(settings, tmp_path_factory.mktemp(f"fuzz-{mode}")) as own:
        credential = accounts(own, _default_project)
        project_id, auth = "fuzz", None
        if mode == "aksk":
            project_id, auth = credential.project_id, AkSkAuth(credential.ak, credential.sk)
        port = free_port()
        proc = start_server(port, own.data_dir, settings.model_dir,
                            {"OPENFRS_AUTH": "on" if mode == "aksk" else "off",
                             "OPENFRS_QPS_DEFAULT": "10000", **server_env(own)})
        started = time.monotonic()
        stores = (open_metadata_store(own), open_accounts(own))
        try:
            server = Server(f"http://127.0.0.1:{port}", stores, project_id, auth)
            server.ensure_example_set()
            yield server
        finally:
            for store in stores:
                store.close()
            proc.terminate()
            proc.wait(timeout=20)
            _report(mode, server, time.monotonic() - started)


def _default_project(tenancy: Tenancy):
    credential = tenancy.ensure_default_project()
    tenancy.create_user("default", "alice", "alice-password")  # the token example's user
    return credential


def _report(mode: str, server: Server, seconds: float) -> None:
    path = os.environ.get("OPENFRS_FUZZ_REPORT")
    if not path:
        return
    report = json.loads(Path(path).read_text()) if Path(path).exists() else {}
    report[mode] = {"seconds": round(seconds, 1), "operations": len(server.cases),
                    "cases": sum(server.cases.values()), "generated_per_operation": EXAMPLES,
                    "statuses": {op: dict(counts) for op, counts in sorted(server.statuses.items())}}
    Path(path).write_text(json.dumps(report, indent=1))


@pytest.fixture(scope="module")
def api_schema(server):
    """The document the server itself serves: what a client generator or Swagger would read."""
    schema = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    schema.config.generation.update(with_security_parameters=False)
    return schema


def _often(value: object, one_in: int) -> bool:
    """A stable coin: the same generated value always gets the same answer."""
    return zlib.crc32(repr(value).encode()) % one_in != 0


def _aim(case, server: Server) -> None:
    """The credential's project; mostly the example set (a path segment, never '.' or '..') and,
    where a face_id is asked for, half the time the id of a face that exists."""
    params = case.path_parameters
    if "project_id" in params:
        params["project_id"] = server.project_id
    if "face_set_name" in params:
        name = str(params["face_set_name"])
        if name in (".", "..") or "/" in name or _often(name, 4):
            params["face_set_name"] = SET
    for fields in (case.body, case.query):
        if isinstance(fields, dict) and isinstance(fields.get("face_id"), str) and _often(fields, 2):
            fields["face_id"] = server.face_id


def _check(case, server: Server) -> None:
    _aim(case, server)
    server.ensure_example_set()
    before, counts_before = server.snapshot(), server.usage_counts()
    response = case.call(base_url=server.url, timeout=TIMEOUT_S, auth=server.auth)
    operation = f"{case.method.upper()} {case.path}"
    server.cases[operation] += 1
    server.statuses[operation][response.status_code] += 1
    case.validate_response(response, checks=CHECKS)
    if 400 <= response.status_code < 500:
        changed = [table for table, digest in server.snapshot().items() if before.get(table) != digest]
        assert not changed, f"refused ({response.status_code} {response.text[:200]}) yet changed {changed}"
        counts = server.usage_counts()
        grown, shrunk = counts - counts_before, counts_before - counts
        counted = "throttled" if response.status_code == 429 else "errors"
        itself = not grown or (list(grown.values()) == [1] and next(iter(grown))[3] == counted)
        assert not shrunk and itself, \
            f"refused ({response.status_code}) yet usage changed by {dict(grown)}, less {dict(shrunk)}"


# schemathesis' own pytest integration for a schema known only at run time (`from_fixture`) does
# not run under pytest 9, so each operation's Hypothesis test is built with its test builder.
@pytest.mark.parametrize(("method", "path"), FUZZED, ids=[OPERATIONS[key].operation_id for key in FUZZED])
def test_operation_keeps_its_contract(method, path, server, api_schema):
    operation = api_schema[path][method]
    config = HypothesisTestConfig(
        project=api_schema.config,
        modes=MODES,
        settings=hypothesis.settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                                     phases=[Phase.explicit, Phase.generate],
                                     suppress_health_check=list(HealthCheck)))
    create_test(operation=operation, test_func=lambda case: _check(case, server), config=config)()
