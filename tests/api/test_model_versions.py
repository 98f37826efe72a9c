"""Face sets keep the recogniser they were built with: new sets take the pack's default, a set
enrolled with the previous one (the dlib ResNet, as every set created before 2026-12 was) keeps
answering with it, a set never mixes models, and a model the pack no longer holds is FRS.0306."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import numpy as np
import pytest

from openfrs.modelpack.install import DLIB_RECOGNISER
from openfrs.store.records import FaceSetRecord

pytestmark = [pytest.mark.models, pytest.mark.data]


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def lfw(shared_data: Path, name: str, index: int) -> Path:
    return shared_data / "lfw-partial" / "images" / name / f"{name}_{index:04d}.jpg"


def old_set(client, project: str, name: str, model: str) -> FaceSetRecord:
    """A set as an earlier OpenFRS wrote it to the store: only its model version differs."""
    store = client.app.state.metadata_store
    record = FaceSetRecord(key=0, project_id=project, name=name, face_set_id=uuid.uuid4().hex[:8],
                           capacity=100_000, external_fields={}, model_version=model,
                           created_at="2026-11-30 10:00:00")
    return store.create_face_set(record)


def enrol(client, project: str, set_name: str, shared_data: Path, people: list[tuple[str, int]]):
    for person, index in people:
        response = client.post(f"/v2/{project}/face-sets/{set_name}/faces",
                               json={"image_base64": b64(lfw(shared_data, person, index)),
                                     "external_image_id": person, "single": True})
        assert response.status_code == 200, response.text


PEOPLE = [("Abdullah", 2), ("Aaron_Eckhart", 1), ("Ariel_Sharon", 1)]


def test_new_sets_use_the_default_recogniser_and_show_it(client, face_service):
    project = "p" + uuid.uuid4().hex[:12]
    created = client.post(f"/v2/{project}/face-sets", json={"face_set_name": "fresh"}).json()
    assert created["face_set_info"]["recognition_model"] == face_service.embedder_version
    listed = client.get(f"/v2/{project}/face-sets").json()["face_sets_info"]
    assert [s["recognition_model"] for s in listed] == [face_service.embedder_version]
    assert face_service.embedder_version != DLIB_RECOGNISER


def test_a_set_enrolled_with_the_previous_recogniser_keeps_answering_with_it(client, shared_data,
                                                                             face_service):
    project = "p" + uuid.uuid4().hex[:12]
    record = old_set(client, project, "legacy", DLIB_RECOGNISER)
    enrol(client, project, "legacy", shared_data, PEOPLE)
    shown = client.get(f"/v2/{project}/face-sets/legacy").json()["face_set_info"]
    assert shown["recognition_model"] == DLIB_RECOGNISER and shown["face_number"] == 3
    stored = client.app.state.metadata_store.list_faces(record.key, 0, 10)
    assert {f.model_version for f in stored} == {DLIB_RECOGNISER}  # never mixed
    assert {f.embedding.shape for f in stored} == {(128,)}

    response = client.post(f"/v2/{project}/face-sets/legacy/search",
                           json={"image_base64": b64(lfw(shared_data, "Abdullah", 3)), "top_n": 3})
    assert response.status_code == 200, response.text
    faces = response.json()["faces"]
    assert faces[0]["external_image_id"] == "Abdullah"
    # the similarity is on the dlib scale: the cosine of dlib embeddings, through its calibration
    probe = face_service.largest_face_blocking(_image(shared_data), DLIB_RECOGNISER)
    enrolled = next(f for f in stored if f.external_image_id == "Abdullah")
    cosine = float(np.dot(probe.embedding, enrolled.embedding))
    dlib_scale = face_service.pipeline.recogniser(DLIB_RECOGNISER).calibration
    assert faces[0]["similarity"] == pytest.approx(dlib_scale.similarity(cosine), abs=1e-3)

    # the same photos in a new set go through the default recogniser (512-d)
    client.post(f"/v2/{project}/face-sets", json={"face_set_name": "current"})
    enrol(client, project, "current", shared_data, PEOPLE)
    current = client.app.state.metadata_store.get_face_set(project, "current")
    assert {f.embedding.shape for f in client.app.state.metadata_store.list_faces(current.key, 0, 10)} \
        == {(face_service.pipeline.recogniser().dim,)}


def _image(shared_data: Path) -> np.ndarray:
    from openfrs.config import Settings
    from openfrs.media import ImageLimits, decode_image

    return decode_image(lfw(shared_data, "Abdullah", 3).read_bytes(), ImageLimits.from_settings(Settings()))


def test_a_model_the_pack_no_longer_holds_is_refused_with_frs_0306(client, shared_data):
    project = "p" + uuid.uuid4().hex[:12]
    old_set(client, project, "retired", "some-retired-model-v0")
    image = {"image_base64": b64(lfw(shared_data, "Abdullah", 2))}
    for path in ("faces", "search"):
        response = client.post(f"/v2/{project}/face-sets/retired/{path}", json=image)
        assert response.status_code == 400 and response.json()["error_code"] == "FRS.0306", response.text
    assert client.get(f"/v2/{project}/face-sets/retired").json()["face_set_info"]["face_number"] == 0
    assert client.delete(f"/v2/{project}/face-sets/retired").status_code == 200
