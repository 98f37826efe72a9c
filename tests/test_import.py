"""`openfrs import`: bulk enrolment from a folder or a CSV through the service layer, on real LFW
images plus broken inputs; resuming, duplicates, refusals, exit codes, the progress line."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import re
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openfrs import cli
from openfrs.config import Settings
from openfrs.importer.cli import exit_code
from openfrs.importer.image_ids import image_id_for
from openfrs.importer.job import ImportRequest, TargetError, run_import
from openfrs.importer.progress import Progress
from openfrs.importer.sources import SourceError, open_source
from openfrs.importer.values import from_text, parse_field_types, person_value
from openfrs.media import ImageLimits, decode_image
from openfrs.service.faces import FaceService
from openfrs.service.facesets import FaceSetService
from openfrs.service.indexes import IndexRegistry
from openfrs.service.search_params import SearchParams
from openfrs.service.setfaces import SetFaceService
from openfrs.service.tenancy import Tenancy
from openfrs.service.workers import InferencePool
from openfrs.store.records import FaceSetRecord
from openfrs.store.sqlite import SQLiteMetadataStore

PEOPLE = {"Al_Gore": "Al_Gore", "Al_Sharpton": "Al_Sharpton", "Alan_Greenspan": "Alan_Greenspan",
          "Albert Costa": "Albert_Costa"}  # folder -> LFW name; a space: the person value is adapted
ENROLLED = 3  # images 1-3 of each person are enrolled, image 5 is the search probe
LOCKED_READABLE = os.geteuid() == 0  # root reads a chmod 000 folder anyway
# + one copy under a name that needs a hashed id (+ the locked folder's photo, which root reads)
GOOD = len(PEOPLE) * ENROLLED + 1 + LOCKED_READABLE
FRS_ID = re.compile(r"[A-Za-z0-9_-]{1,36}")


def lfw(shared_data: Path, name: str, index: int) -> Path:
    return shared_data / "lfw-partial" / "images" / name / f"{name}_{index:04d}.jpg"


@pytest.fixture
def source(tmp_path: Path, shared_data: Path):
    """People folders with real photos, plus every kind of bad input the import must survive."""
    root = tmp_path / "people"
    for folder, name in PEOPLE.items():
        (root / folder).mkdir(parents=True)
        for index in range(1, ENROLLED + 1):
            shutil.copy(lfw(shared_data, name, index), root / folder)
    shutil.copy(lfw(shared_data, "Al_Gore", 4), root / "Al_Gore" / "Al Gore copy.JPEG")
    (root / "Al_Gore" / "broken.jpg").write_bytes(lfw(shared_data, "Al_Gore", 1).read_bytes()[:2000])
    (root / "Al_Sharpton" / "readme.jpg").write_text("not an image\n")
    Image.new("RGB", (240, 240), (128, 128, 128)).save(root / "Alan_Greenspan" / "grey.png")
    (root / "Al_Gore" / "notes.txt").write_text("ignored\n")
    (root / "list.txt").write_text("ignored too\n")
    locked = root / "Locked"
    locked.mkdir()
    shutil.copy(lfw(shared_data, "Ali_Naimi", 1), locked)  # nobody the searches probe
    locked.chmod(0)
    yield root
    locked.chmod(0o700)


@pytest.fixture
def data_settings(tmp_path: Path, settings: Settings) -> Settings:
    """A data dir of the test's own (auth off, as the session settings): project 'default' as written."""
    (tmp_path / "data").mkdir()
    return settings.model_copy(update={"data_dir": tmp_path / "data"})


def run(settings: Settings, face_service, source: Path, **options) -> object:
    options.setdefault("create", True)
    request = ImportRequest(source, options.pop("face_set", "people"), **options)
    return run_import(request, settings, face_service, notes=io.StringIO(), progress=io.StringIO())


def stored_faces(settings: Settings, project: str = "default", name: str = "people") -> list:
    store = SQLiteMetadataStore(settings.data_dir / "openfrs.db")
    try:
        face_set = store.get_face_set(project, name)
        return [] if face_set is None else store.list_faces(face_set.key, 0, 10_000)
    finally:
        store.close()


def refused_codes(result) -> dict[str, list[str]]:
    return {code: [o.label for o in items] for code, items in result.refusals().items()}


# -- pure parts ------------------------------------------------------------------------------


def test_image_ids_are_stable_valid_and_distinct():
    assert image_id_for("Abdullah/Abdullah_0002.jpg") == "Abdullah-Abdullah_0002-jpg"
    assert image_id_for("a/b.jpg") != image_id_for("a/b.png") != image_id_for("a-b.jpg")
    odd = ["Al Gore/x.jpg", "José/1.jpg", "a/b.c.jpg", "x/" + "long" * 10 + ".jpg", "a-b/c.jpg",
           "../up.jpg", "/abs/x.jpg", "a/noext"]
    ids = [image_id_for(path) for path in odd]
    assert all(FRS_ID.fullmatch(i) and i.startswith("h_") for i in ids), ids
    assert len(set(ids)) == len(ids)
    assert image_id_for("José/1.jpg") == image_id_for("Jose\u0301/1.jpg")  # NFC and NFD: one id
    assert image_id_for("Al Gore/x.jpg") == image_id_for("Al Gore/x.jpg")


def test_field_values_from_text():
    assert parse_field_types("age:integer, ok:Boolean") == {"age": "integer", "ok": "boolean"}
    with pytest.raises(ValueError, match="colour:green"):
        parse_field_types("colour:green")
    assert from_text("age", "integer", " 42 ") == 42 and from_text("s", "double", "1.5") == 1.5
    assert from_text("ok", "boolean", "Yes") is True and from_text("ok", "boolean", "0") is False
    with pytest.raises(Exception, match="FRS.0406"):
        from_text("age", "integer", "forty")
    assert person_value("string", "José María") == "Jos__Mar_a"
    assert person_value("long", "1001") == 1001


def test_progress_line_is_throttled_and_plain_off_a_terminal():
    now = [0.0]
    stream = io.StringIO()
    progress = Progress(total=10, work=8, stream=stream, clock=lambda: now[0])
    for step in range(1, 9):
        now[0] = step * 1.0
        progress.update({"enrolled": step, "skipped": 2}, step)
    assert stream.getvalue().count("\n") == 1  # t=5 s only: one plain line every 5 s
    progress.close({"enrolled": 8, "skipped": 2}, 8)
    last = stream.getvalue().splitlines()[-1]
    assert last.startswith("10/10 100%") and "1.0 img/s" in last and "enrolled 8" in last

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty = Terminal()
    progress = Progress(total=100, work=100, stream=tty, clock=lambda: now[0])
    for step in range(50):
        now[0] = 10 + step * 0.01  # 50 updates in 0.5 s: at most ~6 redraws
        progress.update({"enrolled": step}, step)
    assert 3 <= tty.getvalue().count("\r") <= 7 and "\n" not in tty.getvalue()
    assert "ETA" in tty.getvalue()


def test_an_unreadable_person_folder_is_one_refusal_not_an_error(tmp_path, monkeypatch):
    """The chmod 000 case without depending on the user (root reads any folder)."""
    for person in ("Ann", "Bob"):
        (tmp_path / person).mkdir()
        (tmp_path / person / "1.jpg").write_bytes(b"x")
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == tmp_path / "Bob":
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    scan = open_source(tmp_path).scan({"person": "string"})
    assert [(i.label, i.image_id, i.problem) for i in scan.items] == [
        ("Ann/1.jpg", "Ann-1-jpg", None),
        ("Bob/", None, ("unreadable", "cannot read the folder: Permission denied"))]
    assert scan.items[0].fields == {"person": "Ann"}


# -- folder imports -----------------------------------------------------------------------------


@pytest.mark.models
def test_folder_import_counts_refusals_and_enrols_searchable_faces(source, data_settings, face_service,
                                                                      shared_data, tmp_path):
    result = run(data_settings, face_service, source, workers=3)
    counts = result.counts()
    assert counts["enrolled"] == GOOD and counts["skipped"] == counts["duplicate"] == 0
    refused = refused_codes(result)
    assert refused["FRS.0015"] == ["Al_Gore/broken.jpg"]  # truncated JPEG
    assert refused["FRS.0016"] == ["Al_Sharpton/readme.jpg"]  # text named .jpg
    assert refused["FRS.0404"] == ["Alan_Greenspan/grey.png"]  # no face
    if not LOCKED_READABLE:
        assert refused["unreadable"] == ["Locked/"]
        assert "Permission denied" in result.refusals()["unreadable"][0].message
    assert sorted(result.ignored) == ["Al_Gore/notes.txt", "list.txt"]
    assert result.adapted == {"Albert Costa": "Albert_Costa"}
    assert result.stopped is None and result.created

    faces = stored_faces(data_settings)
    assert len(faces) == GOOD and all(FRS_ID.fullmatch(f.external_image_id) for f in faces)
    locked = {"Locked"} if LOCKED_READABLE else set()
    assert {f.fields["person"] for f in faces} == set(PEOPLE.values()) | locked
    assert {f.external_image_id for f in faces} == {o.image_id for o in result.outcomes
                                                     if o.status == "enrolled"}
    report = tmp_path / "report.json"
    result.write_report(report)
    images = json.loads(report.read_text())["images"]
    assert {i["path"]: i["status"] for i in images}["Alan_Greenspan/grey.png"] == "refused"

    # Searchable: each person's held-out photo finds that person first.
    store = SQLiteMetadataStore(data_settings.data_dir / "openfrs.db")
    indexes = IndexRegistry(store, None)
    set_faces = SetFaceService(FaceSetService(store, data_settings, face_service.embedder_version, indexes),
                               face_service, indexes)
    limits = ImageLimits.from_settings(data_settings)
    try:
        for person in PEOPLE.values():
            probe = decode_image(lfw(shared_data, person, 5).read_bytes(), limits)
            hits = asyncio.run(set_faces.search("default", "people", SearchParams(top_n=3), probe))
            assert hits and hits[0].face.fields["person"] == person, (person, hits[:1])
    finally:
        store.close()

    again = run(data_settings, face_service, source, create=False)  # a second run adds nothing
    assert again.counts()["enrolled"] == 0 and again.counts()["skipped"] == GOOD
    assert again.counts()["refused"] == counts["refused"] and not again.created
    assert len(stored_faces(data_settings)) == GOOD


@pytest.mark.models
def test_a_stopped_run_resumes_to_exactly_one_face_per_image(source, data_settings, face_service):
    first = run(data_settings, face_service, source, limit=4, workers=2)
    assert first.counts()["enrolled"] == 4 and first.stopped == "limit" and exit_code(first) == 0
    assert first.counts()["not_attempted"] == GOOD + 3 - 4  # the 3 bad files are not attempted either

    def ctrl_c_after_three(enroller) -> None:  # a real SIGINT: the images in flight finish
        def hook(enroller, outcome) -> None:
            if enroller.attempted == 3:
                os.kill(os.getpid(), signal.SIGINT)

        enroller.on_outcome = hook

    request = ImportRequest(source, "people", workers=2)
    progress = io.StringIO()
    second = run_import(request, data_settings, face_service, notes=io.StringIO(),
                        progress=progress, on_enroller=ctrl_c_after_three)
    assert second.stopped == "interrupted" and second.counts()["skipped"] == 4
    assert "stopping after the images in flight" in progress.getvalue()
    # the images in flight when the signal was handled finish (how many is up to the scheduler:
    # a loaded machine handles it later); what matters is that the run stopped early
    assert second.counts()["enrolled"] + second.counts()["refused"] >= 3
    assert second.counts()["not_attempted"] > 0 and exit_code(second) == 130

    last = run(data_settings, face_service, source, create=False)
    assert last.stopped is None and last.counts()["not_attempted"] == 0
    ids = [f.external_image_id for f in stored_faces(data_settings)]
    assert len(ids) == len(set(ids)) == GOOD


@pytest.mark.models
def test_a_full_inference_queue_is_waited_for_not_refused(source, data_settings, face_service):
    tiny = FaceService(face_service.pipeline, InferencePool(1, max_pending=1), face_service.model_versions)
    try:
        result = run(data_settings, tiny, source, workers=6)
    finally:
        tiny.pool.shutdown()
    assert result.counts()["enrolled"] == GOOD and "FRS.0033" not in result.refusals()


@pytest.mark.models
def test_a_set_of_another_model_and_a_missing_set_are_refused(source, data_settings, face_service):
    with pytest.raises(TargetError, match="no face set 'people'.*--create"):
        run(data_settings, face_service, source, create=False)
    store = SQLiteMetadataStore(data_settings.data_dir / "openfrs.db")
    store.create_face_set(FaceSetRecord(key=0, project_id="default", name="old", face_set_id="old00001",
                                        capacity=10_000, external_fields={}, model_version="other/1",
                                        created_at=""))
    store.close()
    result = run(data_settings, face_service, source, face_set="old", workers=2)
    assert set(result.refusals()) == {"FRS.0306"} and "other/1" in result.refusals()["FRS.0306"][0].message
    assert result.counts()["refused"] == len(result.outcomes) and exit_code(result) == 1
    assert stored_faces(data_settings, name="old") == []


# -- CSV imports --------------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.models
def test_csv_import_converts_fields_and_reports_duplicates(tmp_path, shared_data, data_settings,
                                                           face_service):
    photos = tmp_path / "photos"
    photos.mkdir()
    for index in (1, 2):
        shutil.copy(lfw(shared_data, "Al_Gore", index), photos)
    table = write_csv(tmp_path / "staff.csv", ["path", "external_image_id", "age", "vip", "dept"], [
        ["photos/Al_Gore_0001.jpg", "gore1", 55, "yes", "it"],
        [str(photos / "Al_Gore_0002.jpg"), "", 56, "no", ""],  # absolute path, derived id
        ["photos/Al_Gore_0001.jpg", "gore1", 55, "yes", "it"],  # same id again: a duplicate
        ["photos/missing.jpg", "", 1, "no", "it"],
        ["photos/Al_Gore_0002.jpg", "gore3", "old", "no", "it"],  # not an integer
        ["photos/Al_Gore_0002.jpg", "bad id!", 1, "no", "it"],
    ])
    result = run(data_settings, face_service, table, face_set="staff",
                 field_types={"age": "integer", "vip": "boolean"})
    counts = result.counts()
    assert (counts["enrolled"], counts["duplicate"], counts["refused"]) == (2, 1, 3)
    refused = refused_codes(result)
    assert refused["unreadable"] == ["photos/missing.jpg"]
    assert set(refused) == {"unreadable", "FRS.0406", "FRS.0012"}
    assert [o.row for o in result.outcomes if o.status == "duplicate"] == [4]
    faces = {f.external_image_id: f for f in stored_faces(data_settings, name="staff")}
    assert faces["gore1"].fields == {"age": 55, "vip": True, "dept": "it"}
    (derived,) = set(faces) - {"gore1"}
    assert derived.startswith("h_") and faces[derived].fields == {"age": 56, "vip": False}


@pytest.mark.models
def test_csv_columns_that_are_not_fields_are_refused_before_anything_is_written(
        tmp_path, shared_data, data_settings, face_service, capsys, monkeypatch):
    monkeypatch.setenv("OPENFRS_AUTH", "off")  # as the test's settings: project 'default' as written
    photo = shutil.copy(lfw(shared_data, "Al_Gore", 1), tmp_path)
    seeded = write_csv(tmp_path / "ok.csv", ["path", "dept"], [[photo, "it"]])
    assert run(data_settings, face_service, seeded, face_set="staff").counts()["enrolled"] == 1
    wrong = write_csv(tmp_path / "wrong.csv", ["path", "salary", "dept", "title"],
                      [[photo, 1, "it", "x"]])
    with pytest.raises(SourceError, match=r"salary, title.*dept \(string\)"):
        run(data_settings, face_service, wrong, face_set="staff", create=False)
    no_path = write_csv(tmp_path / "nopath.csv", ["file", "dept"], [[photo, "it"]])
    data = str(data_settings.data_dir)
    assert cli.main(["import", str(no_path), "--face-set", "other", "--create", "--data-dir", data]) == 2
    assert "'path' column" in capsys.readouterr().err
    assert cli.main(["import", str(wrong), "--face-set", "staff", "--data-dir", data]) == 2
    assert "salary" in capsys.readouterr().err
    assert len(stored_faces(data_settings, name="staff")) == 1
    assert stored_faces(data_settings, name="other") == []


# -- the command --------------------------------------------------------------------------------


@pytest.mark.models
def test_cli_exit_codes_report_and_registered_projects(source, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("OPENFRS_AUTH", "on")
    data = tmp_path / "data"
    tenancy = Tenancy.open(data)
    project_id = tenancy.create_project("shop").project_id
    tenancy.close()
    base = ["import", "--data-dir", str(data), "--project", "shop", "--face-set", "people"]

    assert cli.main([*base, str(tmp_path / "nowhere")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert cli.main([*base, str(source)]) == 2  # no such set, no --create
    assert "no face set 'people'" in capsys.readouterr().err
    assert cli.main([*base, "--project", "nope", str(source)]) == 2
    assert "no project 'nope'" in capsys.readouterr().err

    report = tmp_path / "report.json"
    assert cli.main([*base, str(source), "--create", "--workers", "2", "--report", str(report)]) == 0
    out, err = capsys.readouterr()
    assert f"enrolled              {GOOD}" in out and "FRS.0404" in out and "restarted" in err
    written = json.loads(report.read_text())
    assert written["project_id"] == project_id and written["counts"]["enrolled"] == GOOD
    assert cli.main([*base, str(source)]) == 0  # all skipped: a completed run
    assert f"already in the set    {GOOD}" in capsys.readouterr().out

    faceless = tmp_path / "faceless" / "nobody"
    faceless.mkdir(parents=True)
    Image.fromarray(np.full((200, 200, 3), 30, np.uint8)).save(faceless / "dark.png")
    assert cli.main([*base, "--face-set", "empty", "--create", str(faceless.parent)]) == 1  # nothing enrolled
    (tmp_path / "bare").mkdir()
    assert cli.main([*base, "--create", str(tmp_path / "bare")]) == 1  # no image at all
    assert "no image found" in capsys.readouterr().err
