"""`openfrs admin` and the first start of `openfrs serve`, on real accounts databases.

The admin commands run through `openfrs.cli.main`, as a shell would call them, and print JSON;
what they change is checked through the tenancy store the server reads. What is about the process
itself (no terminal, a closed pipe, `eval` in a shell) runs `python -m openfrs.cli` as a subprocess.
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from openfrs import cli
from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.service.tenancy import ACCOUNTS_FILE, Tenancy
from openfrs.store.accounts import AccountStore

REPO = Path(__file__).resolve().parents[1]


def admin(capsys, data_dir, *argv: str) -> object:
    code = cli.main(["admin", "--data-dir", str(data_dir), *argv])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def admin_fails(capsys, data_dir, *argv: str) -> tuple[int, str]:
    """(exit code, stderr) of a command that must fail, whether argparse or the command refuses."""
    try:
        code = cli.main(["admin", "--data-dir", str(data_dir), *argv])
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    assert code != 0 and captured.out == "", captured.out
    return code, captured.err


def openfrs(*argv: str, **kwargs) -> subprocess.CompletedProcess:
    """`openfrs ...` as a separate process, as a shell runs it."""
    return subprocess.run([sys.executable, "-m", "openfrs.cli", *argv], capture_output=True, text=True,
                          timeout=60, cwd=REPO, **kwargs)


@pytest.fixture()
def data_dir(tmp_path) -> Path:
    """A data dir the way the server leaves it: an accounts store with the project `default`."""
    tenancy = Tenancy.open(tmp_path)
    tenancy.ensure_default_project()
    tenancy.close()
    return tmp_path


def test_projects_credentials_users_and_services(capsys, tmp_path, monkeypatch):
    project = admin(capsys, tmp_path, "create-project", "shop", "--init")
    assert re.fullmatch(r"[0-9a-f]{32}", project["project_id"]) and project["services"] == {
        "compare": True, "detect": True, "live_detect": True, "search": True}
    credential = admin(capsys, tmp_path, "create-credential", "--project", "shop")
    assert set(credential) == {"project_id", "ak", "sk"} and credential["project_id"] == project["project_id"]
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    admin(capsys, tmp_path, "create-user", "--project", "shop", "bob", "--password-stdin")
    listed = admin(capsys, tmp_path, "list-credentials", "--project", "shop")
    assert [c["ak"] for c in listed] == [credential["ak"]] and "sk" not in listed[0]
    assert listed[0]["expires_at"] is None

    tenancy = Tenancy.open(tmp_path)
    try:
        assert tenancy.secret_key(credential["ak"]) == (project["project_id"], credential["sk"])
        admin(capsys, tmp_path, "disable-credential", credential["ak"])
        assert tenancy.secret_key(credential["ak"]) is None  # the server's next lookup fails
        admin(capsys, tmp_path, "disable-service", "--project", "shop", "detect")
        assert tenancy.store.services(project["project_id"])["detect"][0] is False
        assert admin(capsys, tmp_path, "set-qps", "--project", "shop", "25")["qps"] == 25
        assert admin(capsys, tmp_path, "disable-project", "shop")["disabled"] is True
        assert tenancy.token_owner(tenancy.issue_token("shop", "bob", "a-long-password")[0]) == (
            project["project_id"], "bob")
    finally:
        tenancy.close()
    actions = [e["action"] for e in admin(capsys, tmp_path, "audit", "--project", "shop")]
    assert actions == ["createProject", "createCredential", "createUser", "disableCredential",
                       "disableService", "updateProject", "updateProject"]
    code, err = admin_fails(capsys, tmp_path, "create-project", "shop")
    assert code == 1 and "error: " in err and "a project named 'shop' exists" in err


def test_first_start_makes_a_default_project_once(capsys, tmp_path):
    settings = Settings(data_dir=tmp_path)
    cli._first_start(settings)
    shown = json.loads(re.search(r"\{\"project_id\".*\}", capsys.readouterr().err).group(0))
    tenancy = Tenancy.open(tmp_path)
    try:
        assert tenancy.project("default").project_id == shown["project_id"]
        assert tenancy.secret_key(shown["ak"]) == (shown["project_id"], shown["sk"])
    finally:
        tenancy.close()
    cli._first_start(settings)
    assert capsys.readouterr().err == ""  # the secret key is shown on the first start only


@pytest.mark.parametrize("argv", [["create-credential", "--project", "nope"], ["disable-credential", "NOPE"],
                                  ["delete-credential", "NOPE"], ["rotate-credential", "NOPE"],
                                  ["delete-user", "--project", "default", "nobody"],
                                  ["delete-project", "nope"]])
def test_unknown_names_fail_with_a_message(capsys, data_dir, argv):
    code, err = admin_fails(capsys, data_dir, *argv)
    assert code == 1 and re.search(r"^error: .*no (project|credential|user) '", err, re.MULTILINE), err


# -- options where a user puts them ----------------------------------------------------------------

def test_data_dir_and_init_before_or_after_the_sub_command(capsys, tmp_path, monkeypatch):
    assert cli.main(["admin", "create-project", "shop", "--data-dir", str(tmp_path), "--init"]) == 0
    capsys.readouterr()
    for argv in (["admin", "--data-dir", str(tmp_path), "list-projects"],
                 ["admin", "list-projects", "--data-dir", str(tmp_path)]):
        assert cli.main(argv) == 0
        assert [p["name"] for p in json.loads(capsys.readouterr().out)] == ["shop"]
    monkeypatch.setenv("OPENFRS_DATA_DIR", str(tmp_path))  # no --data-dir at all: the settings' one
    assert cli.main(["admin", "list-projects"]) == 0
    captured = capsys.readouterr()
    assert [p["name"] for p in json.loads(captured.out)] == ["shop"]
    assert captured.err == f"openfrs admin: data dir {tmp_path.resolve()}\n"


def test_a_folder_without_openfrs_data_is_refused_unless_init(capsys, tmp_path):
    typo = tmp_path / "dta"
    for folder in (typo, tmp_path):  # a missing folder, an existing one without accounts.db
        code, err = admin_fails(capsys, folder, "create-project", "shop")
        assert code == 2 and str(folder) in err and "--init" in err and "--data-dir" in err
    assert not typo.exists() and list(tmp_path.iterdir()) == []  # nothing was created
    assert admin(capsys, typo, "--init", "list-projects") == []
    assert (typo / ACCOUNTS_FILE).is_file()
    assert admin(capsys, typo, "list-projects") == []  # from now on without --init


# -- input checks -----------------------------------------------------------------------------------

def test_passwords_without_a_terminal_point_at_password_stdin(data_dir):
    for command in ("create-user", "reset-password"):
        run = openfrs("admin", "--data-dir", str(data_dir), command, "--project", "default", "bob",
                      stdin=subprocess.DEVNULL)
        assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
        assert "no terminal" in run.stderr and "--password-stdin" in run.stderr
    run = openfrs("admin", "--data-dir", str(data_dir), "create-user", "--project", "default", "bob",
                  "--password-stdin", input="a-long-password\n")
    assert run.returncode == 0 and json.loads(run.stdout)["name"] == "bob"


def test_set_qps_refuses_negative_numbers(capsys, data_dir):
    for bad in ("-5", "nan", "inf", "fast"):
        code, err = admin_fails(capsys, data_dir, "set-qps", "--project", "default", bad)
        assert code == 2 and "0: the server's default" in err
    assert admin(capsys, data_dir, "set-qps", "--project", "default", "0")["qps"] is None
    tenancy = Tenancy.open(data_dir)
    try:
        with pytest.raises(FRSError, match=">= 0"):
            tenancy.set_project("default", qps=-1)
    finally:
        tenancy.close()


def test_usage_dates_are_real_days_in_order(capsys, data_dir):
    for argv in (["--start", "12/01/2026"], ["--end", "2026-02-30"], ["--start", "2026-1-01"]):
        code, err = admin_fails(capsys, data_dir, "usage", "--project", "default", *argv)
        assert code == 2 and ("YYYY-MM-DD" in err or "not a calendar date" in err), err
    code, err = admin_fails(capsys, data_dir, "usage", "--project", "default",
                            "--start", "2026-12-05", "--end", "2026-12-01")
    assert code == 2 and "is after" in err
    assert admin(capsys, data_dir, "usage", "--project", "default", "--start", "2026-12-01",
                 "--end", "2026-12-01") == []
    tenancy = Tenancy.open(data_dir)
    try:  # the API's /usage goes through the same check
        with pytest.raises(FRSError, match="is after") as refused:
            tenancy.usage(tenancy.project("default").project_id, "2026-12-05", "2026-12-01")
        assert refused.value.code == "FRS.0117"
    finally:
        tenancy.close()


def test_audit_uses_the_api_names_matches_any_case_and_says_when_more_are_left(capsys, data_dir):
    for name in ("p1", "p2", "p3"):
        admin(capsys, data_dir, "create-project", name)
    assert cli.main(["admin", "--data-dir", str(data_dir), "audit", "--action", "CREATEPROJECT",
                     "--limit", "2"]) == 0
    captured = capsys.readouterr()
    page = json.loads(captured.out)
    assert [e["resource"] for e in page] == ["project/default", "project/p1"]
    assert set(page[0]) == {"seq", "time", "actor", "action", "resource", "detail", "request_id",
                            "project_id"}  # the API's names (`time`, not `at`) plus the project
    assert f"--after {page[-1]['seq']}" in captured.err
    assert cli.main(["admin", "--data-dir", str(data_dir), "audit", "--action", "createproject",
                     "--limit", "2", "--after", str(page[-1]["seq"])]) == 0
    captured = capsys.readouterr()
    assert [e["resource"] for e in json.loads(captured.out)] == ["project/p2", "project/p3"]
    assert "more events" not in captured.err  # exactly the last two: no next page


def test_a_closed_stdout_exits_141_without_a_traceback(data_dir):
    """`openfrs admin list-projects | head -1`: the reader closes the pipe before the write."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the process writes anything
    process = subprocess.Popen([sys.executable, "-m", "openfrs.cli", "admin", "--data-dir", str(data_dir),
                                "list-projects"], stdout=write_end,
                               stderr=subprocess.PIPE, text=True, cwd=REPO)
    os.close(write_end)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 141, err
    assert "Traceback" not in err and "BrokenPipe" not in err


# -- delete, rotate, reset ----------------------------------------------------------------------------

def test_create_credential_prints_shell_exports_for_eval(data_dir):
    script = 'eval "$("$@")" && printf "%s\\n" "$OPENFRS_PROJECT_ID" "$OPENFRS_AK" "$OPENFRS_SK"'
    run = subprocess.run(["bash", "-c", script, "bash", sys.executable, "-m", "openfrs.cli", "admin",
                          "--data-dir", str(data_dir), "create-credential", "--project", "default",
                          "--format", "env"], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert run.returncode == 0, run.stderr
    project_id, ak, sk = run.stdout.split()
    tenancy = Tenancy.open(data_dir)
    try:
        assert tenancy.secret_key(ak) == (project_id, sk) == (tenancy.project("default").project_id, sk)
    finally:
        tenancy.close()
    assert "data dir" in run.stderr  # stderr, so stdout stays evaluable


def test_rotate_then_delete_a_credential(capsys, data_dir, monkeypatch):
    old = admin(capsys, data_dir, "create-credential", "--project", "default")
    rotated = admin(capsys, data_dir, "rotate-credential", old["ak"], "--grace-s", "3600")
    assert rotated["replaces"] == old["ak"] and rotated["ak"] != old["ak"]
    assert rotated["project_id"] == old["project_id"] and len(rotated["sk"]) == 40
    listed = {c["ak"]: c for c in admin(capsys, data_dir, "list-credentials", "--project", "default")}
    assert listed[old["ak"]]["expires_at"] == rotated["old_valid_until"]
    assert listed[rotated["ak"]]["expires_at"] is None
    tenancy = Tenancy.open(data_dir)
    try:
        assert tenancy.secret_key(old["ak"]) == (old["project_id"], old["sk"])  # in its grace period
        assert tenancy.secret_key(rotated["ak"]) == (old["project_id"], rotated["sk"])
        code, err = admin_fails(capsys, data_dir, "rotate-credential", old["ak"])
        assert code == 1 and "rotated before" in err
        admin(capsys, data_dir, "rotate-credential", rotated["ak"], "--grace-s", "0")
        assert tenancy.secret_key(rotated["ak"]) is None  # no grace: stops at once
        assert admin(capsys, data_dir, "delete-credential", old["ak"]) == {"ak": old["ak"], "deleted": True}
        assert tenancy.secret_key(old["ak"]) is None and tenancy.store.credential(old["ak"]) is None
    finally:
        tenancy.close()
    events = admin(capsys, data_dir, "audit", "--action", "rotateCredential")
    assert [e["resource"] for e in events] == [f"credential/{old['ak']}", f"credential/{rotated['ak']}"]
    assert events[0]["detail"]["new_ak"] == rotated["ak"] and events[0]["actor"] == "admin"
    assert admin(capsys, data_dir, "audit", "--action", "deleteCredential")[0]["resource"] == (
        f"credential/{old['ak']}")


def test_reset_password_and_delete_user_end_their_tokens(capsys, data_dir, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("first-password\n"))
    admin(capsys, data_dir, "create-user", "--project", "default", "bob", "--password-stdin")
    tenancy = Tenancy.open(data_dir)
    try:
        token = tenancy.issue_token("default", "bob", "first-password")[0]
        monkeypatch.setattr("sys.stdin", io.StringIO("second-password\n"))
        admin(capsys, data_dir, "reset-password", "--project", "default", "bob", "--password-stdin")
        assert tenancy.token_owner(token) is None
        with pytest.raises(FRSError):
            tenancy.issue_token("default", "bob", "first-password")
        token = tenancy.issue_token("default", "bob", "second-password")[0]
        assert tenancy.token_owner(token) is not None
        admin(capsys, data_dir, "delete-user", "--project", "default", "bob")
        assert tenancy.token_owner(token) is None
        tenancy.create_user("default", "bob", "third-password")  # the same name again
        assert tenancy.token_owner(token) is None  # inherits nothing of the deleted user
    finally:
        tenancy.close()
    actions = [e["action"] for e in admin(capsys, data_dir, "audit", "--project", "default")]
    assert actions[-4:] == ["createUser", "resetPassword", "deleteUser", "createUser"]


def test_delete_project_is_refused_while_it_owns_face_sets(capsys, data_dir):
    from openfrs.store.records import FaceSetRecord
    from openfrs.store.sqlite import METADATA_FILE, SQLiteMetadataStore

    project = admin(capsys, data_dir, "create-project", "shop")
    credential = admin(capsys, data_dir, "create-credential", "--project", "shop")
    store = SQLiteMetadataStore(data_dir / METADATA_FILE)
    try:
        store.create_face_set(FaceSetRecord(0, project["project_id"], "staff", "abcdefgh", 10, {}, "m",
                                            "2026-01-01 00:00:00"))
        code, err = admin_fails(capsys, data_dir, "delete-project", "shop")
        assert code == 1 and "still has 1 face set(s): staff" in err
        shop = admin(capsys, data_dir, "list-projects")[1]
        assert shop["name"] == "shop" and shop["disabled"] is False  # left as it was
        store.delete_face_set(project["project_id"], "staff")
    finally:
        store.close()
    assert admin(capsys, data_dir, "delete-project", "shop") == {
        "project_id": project["project_id"], "name": "shop", "deleted": True}
    assert [p["name"] for p in admin(capsys, data_dir, "list-projects")] == ["default"]
    tenancy = Tenancy.open(data_dir)
    try:
        assert tenancy.secret_key(credential["ak"]) is None
    finally:
        tenancy.close()
    events = admin(capsys, data_dir, "audit", "--project", project["project_id"])  # outlives it
    assert events[-1]["action"] == "deleteProject"


def test_an_accounts_store_from_before_rotation_opens(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / ACCOUNTS_FILE)
    db.executescript("""
        CREATE TABLE projects (project_id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL, disabled INTEGER NOT NULL DEFAULT 0, qps REAL);
        CREATE TABLE credentials (ak TEXT PRIMARY KEY, project_id TEXT NOT NULL
            REFERENCES projects(project_id), sk_sealed BLOB NOT NULL, created_at TEXT NOT NULL,
            disabled INTEGER NOT NULL DEFAULT 0);
        INSERT INTO projects VALUES ('p', 'p', '2026-01-01 00:00:00', 0, NULL);
        INSERT INTO credentials VALUES ('AK1', 'p', x'00', '2026-01-01 00:00:00', 0);
    """)
    db.close()
    store = AccountStore(tmp_path / ACCOUNTS_FILE)
    try:
        assert store.credential("AK1").expires_at is None
    finally:
        store.close()
