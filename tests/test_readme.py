"""The README is the tested quick start: its shell and Python blocks run top to bottom, as written,
against the server its own `make serve` line starts.

What a reader does is what the test does: `make serve` runs in the checkout (in the background, as
the README's "leave it running" asks), and every later block runs in one shell session in a
folder holding the reader's photos (the names the README uses, taken from LFW) beside the
checkout's `.venv`, Python blocks through the venv's python. Only the port and the data dir are
the test's own, through the variables the Makefile and the CLI read (PORT, DATA,
OPENFRS_DATA_DIR, OPENFRS_ENDPOINT), so a developer's server on 8080 is left alone. Not run:
`make test` (it is the suite this test is part of), and blocks fenced as plain text or console
output.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from openfrs.benchmark.http_load import free_port

pytestmark = pytest.mark.models
REPO = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
RUNNABLE = {"sh": "sh", "bash": "sh", "python": "python"}


def readme_blocks() -> list[tuple[str, str]]:
    """(language, text) of every shell or Python block, in README order."""
    text = (REPO / "README.md").read_text()
    return [(RUNNABLE[lang], body) for lang, body in FENCE.findall(text) if lang in RUNNABLE]


def test_the_readme_starts_with_the_two_commands():
    first = readme_blocks()[0][1].splitlines()
    assert [line.split("#")[0].strip() for line in first] == ["make serve", "make test"]
    assert (REPO / ".ci/run").read_text().count("make test") == 1


def _photos(shared_data: Path, folder: Path) -> None:
    """The reader's own photos, under the names the README uses."""
    lfw = shared_data / "lfw-partial" / "images"
    person = sorted(p for p in (lfw / "Abdullah_Gul").iterdir())  # two photos of one person
    shutil.copy(person[0], folder / "a.jpg")
    shutil.copy(person[1], folder / "b.jpg")
    shutil.copy(shared_data / "crowd/insightface_t1.jpg", folder / "photo.jpg")
    for name in ("Abdoulaye_Wade", "Abel_Pacheco"):
        (folder / "photos" / name).mkdir(parents=True)
        for image in sorted((lfw / name).iterdir())[:2]:
            shutil.copy(image, folder / "photos" / name / image.name)
    rows = ["path,age", *(f"photos/Abdoulaye_Wade/{p.name},66"
                          for p in sorted((folder / "photos/Abdoulaye_Wade").iterdir()))]
    (folder / "staff.csv").write_text("\n".join(rows) + "\n")


def _script(blocks: list[tuple[str, str]]) -> str:
    lines = ["set -euo pipefail"]
    for number, (lang, body) in enumerate(blocks, start=2):
        lines.append(f"echo '=== README block {number} ({lang})'")
        if lang == "python":
            lines += ["python - <<'README_PYTHON'", body.rstrip("\n"), "README_PYTHON"]
        else:
            lines.append(body)
    return "\n".join(lines) + "\n"


def _wait_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 300  # make serve checks the install and the model pack first
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError("make serve exited:\n" + log.read_text()[-3000:])
        try:
            if httpx.get(url + "/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("make serve did not answer /health in 300 s:\n" + log.read_text()[-3000:])


def test_the_quick_start_runs_as_written(shared_data: Path, tmp_path: Path):
    blocks = readme_blocks()
    assert "make serve" in blocks[0][1]
    port, data = free_port(), tmp_path / "data"
    endpoint = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PORT": str(port), "DATA": str(data), "OPENFRS_DATA_DIR": str(data),
           "OPENFRS_ENDPOINT": endpoint}
    for name in ("OPENFRS_AUTH", "OPENFRS_AK", "OPENFRS_SK", "OPENFRS_PROJECT_ID", "OPENFRS_TOKEN",
                 "VIRTUAL_ENV"):
        env.pop(name, None)
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(["bash", "-c", "make serve"], cwd=REPO, env=env, stdout=out,
                                  stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_healthy(endpoint, server, log)
        reader = tmp_path / "reader"
        reader.mkdir()
        (reader / ".venv").symlink_to(REPO / ".venv")
        _photos(shared_data, reader)
        script = _script(blocks[1:])
        ran = subprocess.run(["bash", "-c", script], cwd=reader, env=env, capture_output=True,
                             text=True, timeout=600)
        assert ran.returncode == 0, f"README block failed:\n{ran.stdout[-4000:]}\n{ran.stderr[-4000:]}"
        assert ran.stdout.count("=== README block") == len(blocks) - 1
        assert '"same_person": true' in ran.stdout  # two photos of one person
        assert '"external_image_id": "alice"' in ran.stdout  # found by the search block
        sdk_similarity = [float(line) for line in ran.stdout.splitlines() if re.fullmatch(r"0\.\d+", line)]
        assert sdk_similarity and sdk_similarity[0] >= 0.93  # the official SDK's compare
        assert "First start: created project" in log.read_text()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def test_the_model_table_names_every_role_of_the_pack(model_pack_dir: Path):
    from openfrs.vision.pack import load_pack

    text = (REPO / "README.md").read_text()
    table = text[text.index("| role (`openfrs models list`)"):].split("\n\n")[0]
    named = {role for row in table.splitlines()[2:] for role in re.findall(r"`(\w+)`", row.split("|")[1])}
    assert named >= set(load_pack(model_pack_dir).models)


def test_the_command_synopsis_names_only_real_commands():
    """Each command the README's *Command line* block lists exists in `openfrs --help`'s parser."""
    from openfrs.cli import build_parser

    text = (REPO / "README.md").read_text()
    block = text[text.index("## Command line"):].split("```")[1]
    top = build_parser()._subparsers._group_actions[0].choices
    top["admin"].format_help()  # sub-command parsers are completed on first use
    admin = top["admin"]._subparsers._group_actions[0].choices
    checked = 0
    section = ""
    for line in block.splitlines():
        if line.startswith("openfrs "):
            section = line.split()[1]
            segments = line.split("(")[0][len("openfrs "):].split(" | ")
        else:
            segments = line.split("(")[0].strip().split(" | ")
        if section in ("models", "eval", "bench"):
            continue
        for segment in filter(None, (s.strip() for s in segments)):
            word = segment.split()[0]
            if section == "admin" and word != "admin":
                if "/" not in word and not word.startswith("["):
                    assert word in admin, word
                    checked += 1
            elif section != "admin":
                assert word in top, word
                checked += 1
    assert checked >= 30
