"""The `openfrs` command line: its --help, global options before or after the command, and the client
commands run in-process through `openfrs.cli.main` against the real server of conftest.py (a
subprocess only where the exit status and the time to fail are the point)."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import time

import pytest

from openfrs.benchmark.http_load import free_port
from openfrs.cli import build_parser, main
from openfrs.service.tenancy import Tenancy

pytestmark = pytest.mark.models

CONNECTION = ("OPENFRS_ENDPOINT", "OPENFRS_PROJECT_ID", "OPENFRS_AK", "OPENFRS_SK", "OPENFRS_TOKEN")


def run(capsys, *argv: str) -> tuple[int, dict | None, str]:
    """(exit code, the JSON printed or None, stderr)."""
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


@pytest.fixture
def no_connection_env(monkeypatch):
    for name in CONNECTION:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.fixture
def keyed(live, no_connection_env):
    """The credential in OPENFRS_PROJECT_ID/_AK/_SK; the endpoint is given on each command line."""
    url, credential = live
    no_connection_env.setenv("OPENFRS_PROJECT_ID", credential.project_id)
    no_connection_env.setenv("OPENFRS_AK", credential.ak)
    no_connection_env.setenv("OPENFRS_SK", credential.sk)
    return url


def _commands() -> dict[str, argparse.ArgumentParser]:
    action = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices


# -- the parser ------------------------------------------------------------------------------------

def test_help_says_what_openfrs_is_and_lists_every_command_with_a_line(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    out = capsys.readouterr().out
    assert exit_.value.code == 0 and "self-hosted face recognition service" in out
    assert "contract scripts rely on" not in out
    for heading in ("Run the service:", "Call a running server", "Enrol and measure in bulk:"):
        assert heading in out
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and line.split()}
    for name in _commands():
        if name == "face-sets":  # list-face-sets's alias
            assert "(also: face-sets)" in lines["list-face-sets"]
            continue
        assert name in lines and len(lines[name].split()) > 2, name  # the name and a line of help
    for name in ("admin", "serve", "models", "detect", "update-face", "delete-faces", "live-detect",
                 "create-face-set", "import", "eval", "bench"):
        assert name in lines


def test_a_command_shows_the_options_it_uses(capsys):
    with pytest.raises(SystemExit):
        main(["detect", "--help"])
    detect = capsys.readouterr().out
    assert "usage: openfrs detect" in detect and "--endpoint URL" in detect and "--token" in detect
    assert "--data-dir" not in detect  # accepted, but of no use to a client command
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    serve = capsys.readouterr().out
    assert "--data-dir" in serve and "--endpoint" not in serve


@pytest.mark.parametrize("argv", [
    ["--endpoint", "http://h:1", "--project-id", "p", "--ak", "a", "--sk", "s", "detect", "x.jpg"],
    ["detect", "x.jpg", "--endpoint", "http://h:1", "--project-id", "p", "--ak", "a", "--sk", "s"],
    ["--endpoint", "http://h:1", "--ak", "a", "detect", "--project-id", "p", "x.jpg", "--sk", "s"],
])
def test_global_options_work_before_and_after_the_command(argv):
    args = build_parser().parse_args(argv)
    given = (args.endpoint, args.project_id, args.ak, args.sk, args.image)
    assert given == ("http://h:1", "p", "a", "s", "x.jpg")


def test_a_global_option_given_twice_takes_the_later_and_every_command_accepts_them():
    parser = build_parser()
    assert parser.parse_args(["--token", "a", "list-faces", "s", "--token", "b"]).token == "b"
    for before, after in ((["--data-dir", "D"], []), ([], ["--data-dir", "D"])):
        assert str(parser.parse_args([*before, "serve", *after]).data_dir) == "D"
        assert str(parser.parse_args([*before, "import", "src", "--face-set", "s", *after]).data_dir) == "D"
        assert str(parser.parse_args([*before, "admin", "list-projects", *after]).data_dir) == "D"
    assert str(parser.parse_args(["admin", "--data-dir", "D", "list-projects"]).data_dir) == "D"
    assert str(parser.parse_args(["models", "list", "--model-dir", "M"]).model_dir) == "M"
    assert parser.parse_args(["detect", "x.jpg"]).data_dir is None


def test_admin_data_dir_before_or_after_the_command(tmp_path, capsys):
    tenancy = Tenancy.open(tmp_path)
    tenancy.create_project("shop")
    tenancy.close()
    for argv in (["--data-dir", tmp_path, "admin", "list-projects"],
                 ["admin", "list-projects", "--data-dir", tmp_path]):
        code, printed, _ = run(capsys, *argv)
        assert code == 0 and "shop" in json.dumps(printed), argv


def test_option_values_are_checked_before_any_call(capsys, tmp_path):
    for argv, complaint in ((["add-face", "s", "x.jpg", "--external-fields", "{bad"], "not valid JSON"),
                            (["search", "s", "x.jpg", "--sort", "age:up"], "asc or desc"),
                            (["compare", "a.jpg", "b.jpg", "--threshold", "93"], "from 0 to 1"),
                            (["delete-faces", "s"], "one of the arguments --face-id")):
        with pytest.raises(SystemExit) as exit_:
            main(argv)
        assert exit_.value.code == 2 and complaint in capsys.readouterr().err, argv


def test_an_unreadable_image_is_named_without_a_traceback(no_connection_env, capsys, tmp_path):
    missing = tmp_path / "nope.jpg"
    code, printed, err = run(capsys, "--project-id", "p", "detect", str(missing))
    assert code == 1 and printed is None
    assert err.strip() == f"error: cannot read {missing}: No such file or directory"


# -- connection and credentials --------------------------------------------------------------------

def test_nothing_listening_fails_within_a_second_naming_the_url_and_how_to_start(no_connection_env, capsys):
    url = f"http://127.0.0.1:{free_port()}"
    started = time.monotonic()
    code, printed, err = run(capsys, "--endpoint", url, "--project-id", "p", "list-face-sets")
    assert time.monotonic() - started < 1.0 and code == 1 and printed is None
    assert url in err and "openfrs serve" in err and "OPENFRS_ENDPOINT" in err

    started = time.monotonic()  # the same from a shell: the interpreter's start, then no retries
    done = subprocess.run([sys.executable, "-m", "openfrs.cli", "--project-id", "p", "face-sets",
                           "--endpoint", url], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and url in done.stderr and "openfrs serve" in done.stderr
    assert time.monotonic() - started < 3.0  # three retries took 3.5 s before


def test_without_key_or_token_the_answer_says_what_to_set(live, no_connection_env, capsys):
    url, credential = live
    code, _, err = run(capsys, "list-face-sets", "--endpoint", url, "--project-id", credential.project_id)
    assert code == 1 and err.startswith("APIG.0301: ")
    for needed in ("OPENFRS_AK", "OPENFRS_SK", "OPENFRS_TOKEN", "openfrs admin create-credential"):
        assert needed in err
    no_connection_env.setenv("OPENFRS_AK", credential.ak)
    code, _, err = run(capsys, "list-face-sets", "--endpoint", url, "--project-id", credential.project_id)
    assert code == 1 and "OPENFRS_AK (--ak) is set but OPENFRS_SK (--sk) is not" in err
    code, _, err = run(capsys, "list-face-sets", "--endpoint", url)
    assert code == 1 and "OPENFRS_PROJECT_ID" in err and "--project-id" in err


def test_a_token_instead_of_keys(live, carol, no_connection_env, capsys):
    url, credential = live
    no_connection_env.setenv("OPENFRS_PROJECT_ID", credential.project_id)
    no_connection_env.setattr(sys, "stdin", io.StringIO(carol[1] + "\n"))
    code, issued, err = run(capsys, "--endpoint", url, "issue-token", carol[0], "--password-stdin")
    assert code == 0 and issued["project_id"] == credential.project_id and "OPENFRS_TOKEN" in err
    code, printed, _ = run(capsys, "--token", issued["token"], "list-face-sets", "--endpoint", url)
    assert code == 0 and "face_sets_info" in printed
    no_connection_env.setenv("OPENFRS_TOKEN", issued["token"])
    assert run(capsys, "face-sets", "--endpoint", url)[0] == 0


# -- the client commands ---------------------------------------------------------------------------

def test_face_set_commands_print_the_apis_field_names(keyed, people, capsys):
    url = keyed
    code, created, _ = run(capsys, "--endpoint", url, "create-face-set", "cli_set",
                           "--external-fields", "age:integer,dept:string", "--capacity", "10000")
    info = created["face_set_info"]
    assert code == 0 and info["face_set_name"] == "cli_set" and info["face_set_capacity"] == 10000
    assert info["external_fields"] == {"age": {"type": "integer"}, "dept": {"type": "string"}}
    assert run(capsys, "show-face-set", "cli_set", "--endpoint", url)[1]["face_set_info"]["face_number"] == 0
    listed = run(capsys, "face-sets", "--endpoint", url)[1]["face_sets_info"]
    assert {"face_set_name", "face_set_id", "face_set_capacity", "face_number"} <= set(listed[0])

    ids = {}
    for image_id, photo, fields in (("a1", "Abdullah/Abdullah_0002.jpg", '{"age": 30, "dept": "it"}'),
                                    ("a2", "Abdullah/Abdullah_0004.jpg", '{"age": 50, "dept": "hr"}'),
                                    ("e1", "Aaron_Eckhart/Aaron_Eckhart_0001.jpg",
                                     '{"age": 40, "dept": "it"}')):
        code, added, _ = run(capsys, "--endpoint", url, "add-face", "cli_set", people / photo,
                             "--external-image-id", image_id, "--external-fields", fields, "--single")
        assert code == 0 and added["face_set_name"] == "cli_set" and len(added["faces"]) == 1
        assert added["faces"][0]["external_fields"] == json.loads(fields)
        ids[image_id] = added["faces"][0]["face_id"]
    assert len(run(capsys, "--endpoint", url, "list-faces", "cli_set", "--limit", "10")[1]["faces"]) == 3

    code, updated, _ = run(capsys, "--endpoint", url, "update-face", "cli_set", ids["a1"],
                           "--external-fields", '{"age": 31}')
    assert code == 0 and updated == {"face_number": 1, "face_set_id": info["face_set_id"],
                                     "face_set_name": "cli_set"}
    shown = run(capsys, "--endpoint", url, "show-face", "cli_set", ids["a1"])[1]["faces"][0]
    assert shown["face_id"] == ids["a1"] and shown["external_fields"] == {"age": 31, "dept": "it"}

    probe = people / "Abdullah/Abdullah_0003.jpg"
    code, found, _ = run(capsys, "--endpoint", url, "search", "cli_set", probe,
                         "--threshold", "0.9", "--filter", "dept:it || dept:hr", "--sort", "age:desc",
                         "--return-fields", "age", "--top-n", "5")
    assert code == 0 and [hit["external_fields"] for hit in found["faces"]] == [{"age": 50}, {"age": 31}]
    assert all(hit["similarity"] >= 0.9 for hit in found["faces"])
    by_id = run(capsys, "--endpoint", url, "search", "cli_set", "--face-id", ids["e1"], "--top-n", "1")[1]
    assert by_id["faces"][0]["face_id"] == ids["e1"]

    for how in (["--external-image-id", "a2"], ["--field", "age=40"], ["--filter", "dept:it"]):
        code, deleted, _ = run(capsys, "--endpoint", url, "delete-faces", "cli_set", *how)
        assert code == 0 and deleted["face_number"] == 1, how
    assert run(capsys, "--endpoint", url, "delete-face-set", "cli_set")[1] == {"face_set_name": "cli_set"}


def test_compare_prints_the_similarity_and_the_same_person_verdict(keyed, people, capsys):
    same = (people / "Abdullah/Abdullah_0002.jpg", people / "Abdullah/Abdullah_0003.jpg")
    code, printed, _ = run(capsys, "compare", *same, "--endpoint", keyed)
    assert code == 0 and printed["similarity"] >= 0.93 and printed["same_person"] is True
    assert printed["same_person_threshold"] == 0.93
    for face in (printed["image1_face"], printed["image2_face"]):  # the server's fields, none empty
        assert "bounding_box" in face and all(value not in (None, [], {}) for value in face.values())
    strict = run(capsys, "compare", *same, "--endpoint", keyed, "--threshold", "0.9999")[1]
    assert strict["same_person"] is False and strict["same_person_threshold"] == 0.9999
    other = run(capsys, "compare", same[0], people / "Aaron_Eckhart/Aaron_Eckhart_0001.jpg",
                "--endpoint", keyed)[1]
    assert other["same_person"] is False and other["similarity"] < 0.93


def test_liveness_commands(keyed, people, turn_right_clip, tmp_path, capsys):
    clip = tmp_path / "turn.mp4"
    clip.write_bytes(turn_right_clip)
    code, printed, _ = run(capsys, "live-detect", clip, "--actions", "2", "--endpoint", keyed)
    assert code == 0 and printed["video-result"]["alive"] is True
    assert [a["action"] for a in printed["video-result"]["actions"]] == [2]
    code, printed, _ = run(capsys, "live-detect-face", people / "Abdullah/Abdullah_0002.jpg",
                           "--endpoint", keyed)
    assert code == 0 and set(printed) == {"result", "warning-list"}
    assert 0 <= printed["result"]["confidence"] <= 1


def test_a_large_photo_is_downscaled_and_sent_as_a_multipart_upload(keyed, wide_photo, capsys):
    code, printed, err = run(capsys, "detect", wide_photo, "--endpoint", keyed)
    assert code == 0 and len(printed["faces"]) == 1
    assert f"note: {wide_photo} is over 4096 px on a side: sent downscaled to 4095x1024" in err


def test_images_go_as_multipart_uploads(scripted, no_connection_env, people, capsys):
    server = scripted([(200, {}, b'{"faces": []}')])
    photo = people / "Abdullah/Abdullah_0002.jpg"
    assert run(capsys, "detect", photo, "--endpoint", server.endpoint, "--project-id", "p",
               "--attributes", "1,2")[1] == {"faces": []}
    received = server.received[0]
    assert received["target"] == "/v2/p/face-detect"
    assert received["headers"]["content-type"].startswith("multipart/form-data")
    assert b'name="image_file"; filename="Abdullah_0002.jpg"' in received["body"]
    assert photo.read_bytes() in received["body"] and b'name="attributes"\r\n\r\n1,2\r\n' in received["body"]


def test_no_face_names_the_image_and_the_minimum_face_size(keyed, blank_png, capsys):
    code, printed, err = run(capsys, "detect", blank_png, "--endpoint", keyed)
    assert code == 1 and printed is None and err.startswith("FRS.0501: ")
    assert f"No face found in {blank_png}." in err and "OPENFRS_MIN_FACE_PX" in err
    code, _, err = run(capsys, "add-face", "no_such_set", blank_png, "--endpoint", keyed)
    assert code == 1 and err.startswith("FRS.0302: ")
