"""SQLiteMetadataStore.external_image_ids: what a bulk import reads to skip images already enrolled."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from openfrs.store.records import FaceRecord, FaceSetRecord
from openfrs.store.sqlite import SQLiteMetadataStore


def _set(name: str) -> FaceSetRecord:
    return FaceSetRecord(key=0, project_id="p1", name=name, face_set_id=f"id{name}"[:8], capacity=100,
                         external_fields={}, model_version="m1", created_at="2026-11-21 10:00:00")


def _face(face_id: str, image_id: str) -> FaceRecord:
    vector = np.ones(128, np.float32) / np.sqrt(128)
    return FaceRecord(face_id=face_id, external_image_id=image_id, bounding_box=(0, 0, 10, 10),
                      embedding=vector, fields={}, model_version="m1")


def test_image_ids_are_distinct_per_set_and_follow_deletes(tmp_path: Path) -> None:
    store = SQLiteMetadataStore(tmp_path / "meta.db")
    try:
        first, second = store.create_face_set(_set("a")).key, store.create_face_set(_set("b")).key
        assert store.external_image_ids(first) == set()
        stored = store.add_faces(first, [_face("f1", "img1"), _face("f2", "img1"), _face("f3", "img2")])
        store.add_faces(second, [_face("f4", "other")])
        assert store.external_image_ids(first) == {"img1", "img2"}  # two faces of img1: one id
        assert store.external_image_ids(second) == {"other"}
        store.delete_faces(first, [stored[2].key])
        assert store.external_image_ids(first) == {"img1"}
        assert store.external_image_ids(9999) == set()
    finally:
        store.close()
