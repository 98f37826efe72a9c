"""Records to and from SQL rows, shared by the SQLite and PostgreSQL metadata stores: both keep
JSON as text on the wire (`fields`, `bbox`, `external_fields`) and embeddings as float32 bytes."""

from __future__ import annotations

import json

import numpy as np

from openfrs.store.records import FaceRecord, FaceSetRecord

# Column orders the decoders below expect.
FACE_SET_COLUMNS = ("key, project_id, name, face_set_id, capacity, external_fields, model_version,"
                    " created_at, face_number")
FACE_COLUMNS = "key, face_id, external_image_id, fields, bbox, embedding, model_version, created_at"
FACE_INSERT_COLUMNS = "face_id, external_image_id, fields, bbox, embedding, model_version, created_at"


def face_set_values(record: FaceSetRecord) -> tuple:
    """(project_id, name, face_set_id, capacity, external_fields, model_version, created_at)."""
    return (record.project_id, record.name, record.face_set_id, record.capacity,
            json.dumps(record.external_fields), record.model_version, record.created_at)


def face_values(face: FaceRecord) -> tuple:
    """A face in FACE_INSERT_COLUMNS order."""
    return (face.face_id, face.external_image_id, json.dumps(face.fields),
            json.dumps(list(face.bounding_box)),
            np.asarray(face.embedding, np.float32).tobytes(), face.model_version, face.created_at)


def face_set_from_row(row: tuple) -> FaceSetRecord:
    return FaceSetRecord(key=row[0], project_id=row[1], name=row[2], face_set_id=row[3],
                         capacity=row[4], external_fields=json.loads(row[5]), model_version=row[6],
                         created_at=row[7], face_number=row[8])


def face_from_row(row: tuple) -> FaceRecord:
    return FaceRecord(key=row[0], face_id=row[1], external_image_id=row[2], fields=json.loads(row[3]),
                      bounding_box=tuple(json.loads(row[4])),
                      embedding=np.frombuffer(row[5], np.float32).copy(), model_version=row[6],
                      created_at=row[7])


def embeddings_from_rows(rows: list[tuple]) -> tuple[np.ndarray, np.ndarray]:
    """(key, embedding bytes) rows as (keys, float32 matrix)."""
    keys = np.fromiter((row[0] for row in rows), np.int64, len(rows))
    return keys, np.frombuffer(b"".join(row[1] for row in rows), np.float32).reshape(len(rows), -1)
