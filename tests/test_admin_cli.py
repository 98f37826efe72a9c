"""`openfrs admin` and the first start of `openfrs serve`, on real accounts databases.

The admin commands run through `openfrs.cli.main`, as a shell would call them, and print JSON;
what they change is checked through the tenancy store the server reads.
"""

from __future__ import annotations

import json
import re

import pytest

from openfrs import cli
from openfrs.config import Settings
from openfrs.service.tenancy import Tenancy


def admin(capsys, data_dir, *argv: str) -> object:
    assert cli.main(["admin", "--data-dir", str(data_dir), *argv]) == 0
    return json.loads(capsys.readouterr().out)


def test_projects_credentials_users_and_services(capsys, tmp_path, monkeypatch):
    project = admin(capsys, tmp_path, "create-project", "shop")
    assert re.fullmatch(r"[0-9a-f]{32}", project["project_id"]) and project["services"] == {
        "compare": True, "detect": True, "live_detect": True, "search": True}
    credential = admin(capsys, tmp_path, "create-credential", "--project", "shop")
    assert set(credential) == {"project_id", "ak", "sk"} and credential["project_id"] == project["project_id"]
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("a-long-password\n"))
    admin(capsys, tmp_path, "create-user", "--project", "shop", "bob", "--password-stdin")
    listed = admin(capsys, tmp_path, "list-credentials", "--project", "shop")
    assert [c["ak"] for c in listed] == [credential["ak"]] and "sk" not in listed[0]

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
    assert cli.main(["admin", "--data-dir", str(tmp_path), "create-project", "shop"]) == 1  # exists
    assert "exists" in capsys.readouterr().err


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


@pytest.mark.parametrize("argv", [["create-credential", "--project", "nope"], ["disable-credential", "NOPE"]])
def test_unknown_names_fail_with_a_message(capsys, tmp_path, argv):
    assert cli.main(["admin", "--data-dir", str(tmp_path), *argv]) == 1
    assert capsys.readouterr().err.startswith("error: ")
