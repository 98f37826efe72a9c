"""The accounts-store contract, on SQLite and on PostgreSQL (fixtures in conftest.py): projects,
sub-services, users, credentials and their rotation, tokens, usage counts and the audit log; and
two stores on one database (two replicas, or the server and the admin CLI) seeing each other."""

from __future__ import annotations

import inspect
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from psycopg import sql

from openfrs.service.tenancy import Tenancy
from openfrs.store.accounts import (
    Accounts,
    AccountSQL,
    AccountStore,
    AlreadyExists,
    Credential,
    Project,
    User,
)
from openfrs.store.accounts_pg import MIGRATIONS as ACCOUNTS_MIGRATIONS
from openfrs.store.accounts_pg import PostgresAccountStore
from openfrs.store.postgres import MIGRATIONS as METADATA_MIGRATIONS
from openfrs.store.postgres import PostgresMetadataStore
from openfrs.store.secret_box import SecretBox

T0 = "2026-11-21 10:00:00"


def project(project_id: str = "p1", name: str | None = None, created_at: str = T0) -> Project:
    return Project(project_id, name or f"name-{project_id}", created_at, False, None)


def credential(ak: str, project_id: str = "p1", created_at: str = T0) -> Credential:
    return Credential(ak, project_id, b"\x00\xffsealed-" + ak.encode(), created_at, False)


@pytest.fixture
def p1(accounts: Accounts) -> Accounts:
    """The store with project p1 (detect on, search off)."""
    accounts.create_project(project("p1"), {"detect": True, "search": False})
    return accounts


def test_the_protocol_names_every_method():
    def public(cls: type) -> set[str]:
        return {name for name, _ in inspect.getmembers(cls, inspect.isfunction) if not name.startswith("_")}

    assert public(Accounts) - {"close"} == public(AccountSQL)


def test_projects_by_id_or_name_with_unique_names(p1):
    assert p1.project("p1") == p1.project("name-p1") == project("p1")
    assert p1.project("nobody") is None
    with pytest.raises(AlreadyExists):
        p1.create_project(project("p2", name="name-p1"), {})
    with pytest.raises(AlreadyExists):
        p1.create_project(project("p1", name="other"), {})
    assert p1.projects() == [project("p1")]  # the failed creates left nothing, services included
    assert p1.services("p1") == {"detect": (True, T0), "search": (False, T0)}


def test_projects_sort_by_creation_then_name_byte_wise(accounts):
    for project_id, name, created_at in (("c", "b", "2026-01-02"), ("b", "a", "2026-01-01"),
                                         ("a", "B", "2026-01-01")):
        accounts.create_project(project(project_id, name, created_at), {})
    assert [p.name for p in accounts.projects()] == ["B", "a", "b"]


def test_set_project_freezes_and_sets_the_qps(p1):
    assert p1.set_project("p1", disabled=True, qps=2.5)
    assert (p1.project("p1").disabled, p1.project("p1").qps) == (True, 2.5)
    assert p1.set_project("p1", disabled=False, qps=0)  # 0: back to the server's default
    assert (p1.project("p1").disabled, p1.project("p1").qps) == (False, None)
    assert not p1.set_project("nobody", disabled=True)
    assert not p1.set_project("p1")


def test_set_service_adds_or_switches(p1):
    p1.set_service("p1", "search", True, "2026-12-01 00:00:00")
    p1.set_service("p1", "live_detect", False, "2026-12-01 00:00:00")
    assert p1.services("p1") == {"detect": (True, T0), "search": (True, T0),
                                 "live_detect": (False, "2026-12-01 00:00:00")}


def test_delete_project_keeps_only_its_history(p1):
    p1.create_project(project("p2"), {"detect": True})
    for project_id in ("p1", "p2"):
        p1.create_user(User(project_id, "ann", "hash", T0, False))
        p1.create_credential(credential(f"AK{project_id}", project_id))
        p1.add_token(f"tok{project_id}", project_id, "ann", 2e9)
        p1.count_call(project_id, "detect", "2026-11-21")
        p1.append_audit(T0, project_id, "admin", "createUser", "user/ann", {}, "")
    assert p1.delete_project("p1")
    assert not p1.delete_project("p1")
    assert (p1.project("p1"), p1.services("p1"), p1.users("p1"), p1.credentials("p1"),
            p1.token("tokp1")) == (None, {}, [], [], None)
    assert p1.usage("p1") == [("2026-11-21", "detect", 1, 0, 0)]
    assert [e.project_id for e in p1.audit()] == ["p1", "p2"]
    assert (len(p1.users()), len(p1.credentials()), p1.token("tokp2")) == (1, 1, ("p2", "ann", 2e9))


def test_users(p1):
    ann = User("p1", "ann", "scrypt$1$2", T0, False)
    p1.create_user(ann)
    with pytest.raises(AlreadyExists):
        p1.create_user(ann)
    with pytest.raises(AlreadyExists):  # no such project: refused as well
        p1.create_user(User("nobody", "ann", "h", T0, False))
    p1.create_project(project("p0"), {})
    p1.create_user(User("p0", "zed", "h", T0, False))
    assert p1.user("p1", "ann") == ann
    assert [(u.project_id, u.name) for u in p1.users()] == [("p0", "zed"), ("p1", "ann")]
    assert p1.users("p1") == [ann]
    assert p1.set_user_disabled("p1", "ann", True) and p1.user("p1", "ann").disabled
    assert not p1.set_user_disabled("p1", "bob", True)


def test_a_new_password_or_a_deleted_user_ends_its_tokens(p1):
    for name in ("ann", "bob"):
        p1.create_user(User("p1", name, "h", T0, False))
        p1.add_token(f"{name}1", "p1", name, 2e9)
        p1.add_token(f"{name}2", "p1", name, 2e9)
    assert p1.set_password("p1", "ann", "h2")
    assert p1.user("p1", "ann").password_hash == "h2"
    assert (p1.token("ann1"), p1.token("ann2"), p1.token("bob1")) == (None, None, ("p1", "bob", 2e9))
    assert not p1.set_password("p1", "nobody", "h2")
    assert p1.delete_user("p1", "bob")
    assert (p1.token("bob2"), p1.user("p1", "bob")) == (None, None)
    assert not p1.delete_user("p1", "bob")


def test_add_token_drops_those_two_days_past_their_end(p1):
    p1.add_token("old", "p1", "ann", 1000.0)
    p1.add_token("recent", "p1", "ann", 100_000.0)
    p1.add_token("new", "p1", "ann", 1000.0 + 86400 * 2 + 1)
    assert (p1.token("old"), p1.token("recent")) == (None, ("p1", "ann", 100_000.0))


def test_credentials(p1):
    p1.create_credential(credential("AK2", created_at="2026-11-22 00:00:00"))
    p1.create_credential(credential("AK1"))
    with pytest.raises(AlreadyExists):
        p1.create_credential(credential("AK1"))
    with pytest.raises(AlreadyExists):
        p1.create_credential(credential("AK9", "nobody"))
    assert p1.credential("AK1") == credential("AK1")  # sealed bytes back as they went in
    assert [c.ak for c in p1.credentials()] == [c.ak for c in p1.credentials("p1")] == ["AK1", "AK2"]
    assert p1.credentials("p2") == []
    assert p1.set_credential_disabled("AK1", True) and p1.credential("AK1").disabled
    assert not p1.set_credential_disabled("AK9", True)
    assert p1.delete_credential("AK1") and p1.credential("AK1") is None
    assert not p1.delete_credential("AK1")


def test_a_credential_rotates_once(p1):
    p1.create_credential(credential("OLD"))
    assert p1.rotate_credential("OLD", credential("NEW"), 1234.5)
    assert (p1.credential("OLD").expires_at, p1.credential("NEW")) == (1234.5, credential("NEW"))
    assert not p1.rotate_credential("OLD", credential("NEWER"), 9999.0)
    assert not p1.rotate_credential("GONE", credential("NEWER"), 9999.0)
    p1.set_credential_disabled("NEW", True)
    assert not p1.rotate_credential("NEW", credential("NEWER"), 9999.0)
    assert (p1.credential("NEWER"), p1.credential("OLD").expires_at) == (None, 1234.5)


def test_usage_counts_calls_throttled_and_failed_calls_per_day_and_api(p1):
    for day, api, throttled in (("2026-11-21", "detect", False), ("2026-11-21", "detect", True),
                                ("2026-11-21", "detect", False), ("2026-11-21", "Search", False),
                                ("2026-11-20", "search", True), ("2026-11-23", "detect", False)):
        p1.count_call("p1", api, day, throttled)
    p1.count_call("p1", "detect", "2026-11-21", error=True)
    p1.count_call("p1", "detect", "2026-11-22", error=True)
    p1.count_call("p2", "detect", "2026-11-21")
    assert p1.usage("p1") == [("2026-11-20", "search", 0, 1, 0), ("2026-11-21", "Search", 1, 0, 0),
                              ("2026-11-21", "detect", 2, 1, 1), ("2026-11-22", "detect", 0, 0, 1),
                              ("2026-11-23", "detect", 1, 0, 0)]
    assert [row[0] for row in p1.usage("p1", "2026-11-21", "2026-11-21")] == ["2026-11-21"] * 2
    assert p1.usage("p1", "2026-11-24", "2026-11-24") == []


def test_audit_pages_by_seq_with_filters(p1):
    for index, (project_id, action) in enumerate((("p1", "createUser"), ("p2", "createUser"),
                                                   ("p1", "deleteUser"), ("p1", "createuser"))):
        p1.append_audit(T0, project_id, "admin", action, f"user/{index}", {"n": index, "z": [1]}, f"r{index}")
    events = p1.audit()
    assert [e.detail for e in events] == [{"n": n, "z": [1]} for n in range(4)]
    assert [e.seq for e in events] == sorted(e.seq for e in events)
    seqs = [e.seq for e in events]
    assert [e.seq for e in p1.audit("p1")] == [seqs[0], seqs[2], seqs[3]]
    assert [e.seq for e in p1.audit(action="CREATEUSER")] == [seqs[0], seqs[1], seqs[3]]
    assert [e.seq for e in p1.audit("p1", "createUser", after_seq=seqs[0])] == [seqs[3]]
    assert [e.seq for e in p1.audit(after_seq=seqs[0], limit=2)] == seqs[1:3]
    assert p1.audit("p3") == []
    assert events[1].request_id == "r1" and events[1].resource == "user/1" and events[1].at == T0


def test_the_audit_log_is_append_only(p1):
    p1.append_audit(T0, "p1", "admin", "createUser", "user/ann", {}, "")
    for statement in ("UPDATE audit SET actor = 'mallory'", "DELETE FROM audit"):
        with pytest.raises(Exception, match="append-only"), p1._transaction() as db:
            db.execute(statement)
    assert [e.actor for e in p1.audit()] == ["admin"]


# -- two stores on one database -----------------------------------------------------------------


def test_two_stores_see_each_others_writes_at_once(open_accounts: Callable[[], Accounts]):
    box = SecretBox(bytes(32))
    a, b = Tenancy(open_accounts(), box), Tenancy(open_accounts(), box)
    a.create_project("shop")
    issued = a.create_credential("shop")
    assert b.secret_key(issued.ak) == (issued.project_id, issued.sk)
    b.set_credential_disabled(issued.ak, True)
    assert a.secret_key(issued.ak) is None
    b.create_user("shop", "ann", "password1")
    token, _, _ = b.issue_token("shop", "ann", "password1")
    assert a.token_owner(token) == (issued.project_id, "ann")
    a.reset_password("shop", "ann", "password2")
    assert b.token_owner(token) is None
    assert [e.action for e in b.audit_events(issued.project_id)] == [
        "createProject", "createCredential", "disableCredential", "createUser", "resetPassword"]


def test_a_database_made_before_error_counts_gains_them(tmp_path):
    """An accounts file whose usage table predates the errors column keeps its counts and
    counts errors from then on (AccountStore._migrate adds the column on open)."""
    path = tmp_path / "accounts.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE usage (project_id TEXT NOT NULL, api TEXT NOT NULL, day TEXT NOT NULL,"
                   " calls INTEGER NOT NULL, throttled INTEGER NOT NULL DEFAULT 0,"
                   " PRIMARY KEY (project_id, api, day))")
        db.execute("INSERT INTO usage VALUES ('p1', 'detect', '2026-11-21', 3, 1)")
    db.close()
    store = AccountStore(path)
    try:
        assert store.usage("p1") == [("2026-11-21", "detect", 3, 1, 0)]
        store.count_call("p1", "detect", "2026-11-21", error=True)
        assert store.usage("p1") == [("2026-11-21", "detect", 3, 1, 1)]
    finally:
        store.close()


def test_concurrent_counts_from_two_stores_add_up(open_accounts: Callable[[], Accounts]):
    stores = [open_accounts(), open_accounts()]
    threads_per_store, calls = 4, 25

    def count(store: Accounts, worker: int) -> None:
        for index in range(calls):
            store.count_call("p1", "detect", "2026-11-21", throttled=(worker + index) % 5 == 0)

    threads = [threading.Thread(target=count, args=(store, worker))
               for store in stores for worker in range(threads_per_store)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    throttled = sum((worker + index) % 5 == 0 for worker in range(threads_per_store)
                    for index in range(calls)) * len(stores)
    total = len(stores) * threads_per_store * calls
    assert stores[1].usage("p1") == [("2026-11-21", "detect", total - throttled, throttled, 0)]


def test_audit_seqs_become_visible_in_order(open_accounts: Callable[[], Accounts]):
    """An append waits for one in flight, so a reader paging by seq never skips an event that
    commits after a later-numbered one."""
    first, second = open_accounts(), open_accounts()
    with first._transaction() as db:
        db.execute("INSERT INTO audit (at, project_id, actor, action, resource, detail, request_id)"
                   " VALUES (?, 'p1', 'admin', 'first', 'r', '{}', '')", (T0,))
        late = threading.Thread(target=second.append_audit,
                                args=(T0, "p1", "admin", "second", "r", {}, ""))
        late.start()
        late.join(0.3)
        assert late.is_alive()
        assert second.audit() == []
    late.join(10)
    assert [e.action for e in second.audit()] == ["first", "second"]


def test_both_stores_share_a_schema_each_migrated_once(pg_url, pg_schema):
    """Replicas of the accounts and the metadata store starting together on one schema."""
    kinds = [PostgresAccountStore, PostgresMetadataStore] * 3
    with ThreadPoolExecutor(len(kinds)) as pool:
        stores = list(pool.map(lambda kind: kind(pg_url, pg_schema, max_connections=1), kinds))
    try:
        stores[0].create_project(project("p1"), {})
        assert stores[2].project("p1") == project("p1")
        assert stores[1].list_face_sets("p1") == []
    finally:
        for store in stores:
            store.close()
    with psycopg.connect(pg_url) as conn:
        versions = conn.execute(sql.SQL("SELECT component, version FROM {}.schema_version ORDER BY 1, 2")
                                .format(sql.Identifier(pg_schema))).fetchall()
    assert versions == [*(("accounts", v) for v in range(1, len(ACCOUNTS_MIGRATIONS) + 1)),
                        *(("metadata", v) for v in range(1, len(METADATA_MIGRATIONS) + 1))]
