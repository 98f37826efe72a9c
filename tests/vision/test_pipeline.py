"""FacePipeline stages: bounded detection, landmarks/embeddings only where asked, border faces."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import cv2
import numpy as np
import pytest

from openfrs.modelpack.install import DLIB_RECOGNISER
from openfrs.vision import pipeline as pipeline_module
from openfrs.vision.detectors import tiling
from openfrs.vision.detectors.tiling import MAX_NMS_CANDIDATES, iou_matrix, weighted_nms
from openfrs.vision.pack import load_pack
from openfrs.vision.pipeline import FacePipeline, PipelineOptions
from openfrs.vision.runtime import configure_cv2_threads


@pytest.fixture(scope="module")
def pipeline(model_pack_dir: Path) -> FacePipeline:
    return FacePipeline(load_pack(model_pack_dir))


def rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def _lfw(shared_data: Path, index: int) -> Path:
    return sorted((shared_data / "lfw-partial/images").glob("*/*.jpg"))[index]


class CallCounter:
    """Wraps a callable and counts its calls."""

    def __init__(self, fn) -> None:
        self.fn, self.calls = fn, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return self.fn(*args, **kwargs)


@pytest.fixture
def predictor_calls(pipeline: FacePipeline, monkeypatch: pytest.MonkeyPatch) -> dict[str, CallCounter]:
    counters = {"shape68": CallCounter(pipeline.landmarker.predict),
                "shape5": CallCounter(pipeline.aligner.predict)}
    monkeypatch.setattr(pipeline.landmarker, "predict", counters["shape68"])
    monkeypatch.setattr(pipeline.aligner, "predict", counters["shape5"])
    return counters


# -- NMS ---------------------------------------------------------------------------------

def _reference_nms(boxes, scores, points, iou):
    """The former all-pairs implementation (N x N IoU matrix), for equivalence."""
    order = np.argsort(-scores, kind="stable")
    boxes, scores, points = boxes[order], scores[order], points[order]
    alive, merged = np.ones(len(scores), bool), []
    overlaps = iou_matrix(boxes, boxes)
    for i in range(len(scores)):
        if alive[i]:
            members = alive & (overlaps[i] >= iou)
            members[i] = True
            alive &= ~members
            w = scores[members][:, None]
            merged.append(((boxes[members] * w).sum(0) / w.sum(), float(scores[i]),
                           (points[members] * w[:, :, None]).sum(0) / w.sum()))
    return merged


def _candidates(n: int, faces: int, seed: int = 0):
    """n jittered candidates around `faces` random face boxes, like a detector's output."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 4000, (faces, 2))
    which = rng.integers(0, faces, n)
    centre = centres[which] + rng.normal(0, 3, (n, 2))
    half = rng.uniform(20, 30, (n, 1))
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    points = centre[:, None] + rng.normal(0, 10, (n, 6, 2))
    return boxes, rng.uniform(0.5, 1.0, n), points


def test_weighted_nms_matches_all_pairs_reference() -> None:
    boxes, scores, points = _candidates(400, 60)
    got = weighted_nms(boxes, scores, points, 0.3)
    want = _reference_nms(boxes, scores, points, 0.3)
    assert len(got) == len(want)
    for (b1, s1, p1), (b2, s2, p2) in zip(got, want, strict=True):
        np.testing.assert_allclose(b1, b2)
        np.testing.assert_allclose(p1, p2)
        assert s1 == s2


def test_weighted_nms_keeps_only_top_candidates() -> None:
    boxes, scores, points = _candidates(MAX_NMS_CANDIDATES, 50)
    # 500 isolated, low-scoring boxes beyond the cap must not come back as faces
    far = np.array([[10_000 + 100 * i, 0, 10_050 + 100 * i, 50] for i in range(500)], float)
    merged = weighted_nms(np.concatenate([boxes, far]), np.concatenate([scores, np.full(500, 0.1)]),
                          np.concatenate([points, np.zeros((500, 6, 2))]), 0.3)
    assert all(box[0] < 5000 for box, _, _ in merged)
    assert len(merged) <= 50


def test_weighted_nms_memory_is_bounded() -> None:
    boxes, scores, points = _candidates(7_063, 1_000)  # the 4000x4000 mosaic report's count
    tracemalloc.start()
    try:
        merged = weighted_nms(boxes, scores, points, 0.3)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert 0 < len(merged) <= MAX_NMS_CANDIDATES
    # all pairs of 7,063 candidates took several 7063^2 x 2 float64 arrays (GBs)
    assert peak < 8 * 2**20, f"{peak / 2**20:.1f} MiB"


# -- detection limits --------------------------------------------------------------------

@pytest.mark.models
@pytest.mark.data
def test_pathological_mosaic_is_bounded(pipeline: FacePipeline, shared_data: Path,
                                        predictor_calls: dict, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    """4000x4000 mosaic of 1024 faces: ~4,700 NMS candidates before the cap."""
    face = cv2.resize(rgb(_lfw(shared_data, 5)), (125, 125), interpolation=cv2.INTER_AREA)
    mosaic = np.tile(face, (32, 32, 1))
    compared = []  # candidates each NMS step compares its seed with
    iou_one = tiling.iou_one
    monkeypatch.setattr(tiling, "iou_one", lambda box, boxes: compared.append(len(boxes))
                        or iou_one(box, boxes))
    detected = []  # everything the detector returned, before the max_faces cut
    detect = pipeline.detector.detect
    monkeypatch.setattr(pipeline.detector, "detect",
                        lambda image: detected.extend(detect(image)) or list(detected))

    tracemalloc.start()
    start = time.perf_counter()
    try:
        faces = pipeline.detect(mosaic)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - start

    assert max(compared) == MAX_NMS_CANDIDATES  # there were more; NMS saw only the best
    assert len(detected) > pipeline.options.max_faces
    assert len(faces) == pipeline.options.max_faces == 100
    areas = [f.box.area for f in faces]
    assert areas == sorted(areas, reverse=True)
    assert min(areas) >= max(f.box.area for f in detected if all(f is not g for g in faces))
    assert predictor_calls["shape68"].calls == predictor_calls["shape5"].calls == 0
    # measured ~90 MiB and ~1 s on 2 cores; all-pairs NMS took ~1.4 GiB and ~5 s
    assert peak < 400 * 2**20, f"{peak / 2**20:.0f} MiB"
    assert elapsed < 60


def test_max_faces_must_be_positive() -> None:
    with pytest.raises(ValueError):
        PipelineOptions(max_faces=0)


@pytest.mark.models
@pytest.mark.data
def test_max_faces_keeps_the_largest(pipeline: FacePipeline, shared_data: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    image = rgb(shared_data / "crowd/insightface_t1.jpg")
    every = pipeline.detect(image)
    assert len(every) > 3
    monkeypatch.setattr(pipeline, "options", PipelineOptions(max_faces=3))
    top = pipeline.detect(image)
    assert [f.box for f in top] == [f.box for f in every[:3]]


# -- stages run only for the faces passed in ---------------------------------------------

@pytest.mark.models
@pytest.mark.data
def test_stages_only_for_given_faces(pipeline: FacePipeline, shared_data: Path,
                                     predictor_calls: dict) -> None:
    image = rgb(shared_data / "crowd/insightface_t1.jpg")
    faces = pipeline.detect(image)
    assert len(faces) >= 5
    assert predictor_calls["shape68"].calls == predictor_calls["shape5"].calls == 0
    for face in faces:
        assert "shape68" not in face.extras and "shape5" not in face.extras
        assert face.embedding is None
        assert np.isfinite(face.landmarks[:3]).all()  # detector eyes + nose
        assert np.isnan(face.landmarks[3:]).all()     # no mouth corners yet

    chosen, others = faces[1:3], faces[:1] + faces[3:]
    assert pipeline.landmarks(image, chosen) is chosen
    assert predictor_calls["shape68"].calls == 2 and predictor_calls["shape5"].calls == 0
    for face in chosen:
        assert face.extras["shape68"].shape == (68, 2)
        assert face.landmarks.shape == (5, 2) and np.isfinite(face.landmarks).all()
    assert all("shape68" not in f.extras for f in others)
    pipeline.landmarks(image, chosen)  # already there: nothing recomputed
    assert predictor_calls["shape68"].calls == 2

    # the default recogniser is aligned on the 68-point shape: only faces[0] gets one more
    vectors = pipeline.embed(image, [faces[0]])
    assert vectors.shape == (1, pipeline.recogniser().dim) == (1, 512)
    assert predictor_calls["shape5"].calls == 0 and predictor_calls["shape68"].calls == 3
    np.testing.assert_array_equal(faces[0].embedding, vectors[0])
    assert all(f.embedding is None for f in faces[1:])
    # the dlib recogniser (kept for sets enrolled with it) cuts its chip from the 5-point shape
    dlib = DLIB_RECOGNISER
    vectors = pipeline.embed(image, [faces[0]], dlib)
    assert vectors.shape == (1, 128)
    assert predictor_calls["shape5"].calls == 1 and predictor_calls["shape68"].calls == 3
    assert faces[0].extras["shape5"].shape == (5, 2)
    assert set(faces[0].extras["embeddings"]) == {pipeline.embedder_version, dlib}
    assert all("shape5" not in f.extras for f in faces[1:])
    pipeline.embed(image, [faces[0]], dlib)  # the 5-point shape is reused
    assert predictor_calls["shape5"].calls == 1
    assert pipeline.embed(image, []).shape == (0, 512)
    assert pipeline.embed(image, [], dlib).shape == (0, 128)


@pytest.mark.models
@pytest.mark.data
def test_detect_with_landmarks(pipeline: FacePipeline, shared_data: Path,
                               predictor_calls: dict) -> None:
    image = rgb(shared_data / "crowd/insightface_t1.jpg")
    faces = pipeline.detect_with_landmarks(image)
    assert [f.box for f in faces] == [f.box for f in pipeline.detect(image)]
    assert predictor_calls["shape68"].calls == len(faces) and predictor_calls["shape5"].calls == 0
    for face in faces:
        assert np.isfinite(face.landmarks).all() and face.landmarks.dtype == np.float32
        eye_l, eye_r, nose, mouth_l, mouth_r = face.landmarks
        assert eye_l[0] < eye_r[0] and mouth_l[0] < mouth_r[0]
        assert max(eye_l[1], eye_r[1]) < nose[1] < max(mouth_l[1], mouth_r[1])


# -- faces cut by the image border -------------------------------------------------------

@pytest.mark.models
@pytest.mark.data
def test_face_cut_by_left_border(pipeline: FacePipeline, shared_data: Path) -> None:
    """The reported box is clipped; landmarks come from the detector's whole box.

    Measured on this crop: eye centres within 0.06 inter-ocular distances of those found in
    the uncropped photo; from the clipped box they were 0.62 off.
    """
    photo = rgb(_lfw(shared_data, 46))
    whole = pipeline.detect_with_landmarks(photo)[0]
    x0 = int(whole.landmarks[0, 0]) - 8  # the eye on the image's left stays in the crop
    crop = np.ascontiguousarray(photo[:, x0:])
    height, width = crop.shape[:2]

    face = pipeline.detect_with_landmarks(crop)[0]
    box = face.box
    assert face.extras["detector_box"].x1 < 0  # the face really is cut by the border
    assert 0 == box.x1 < box.x2 <= width and 0 <= box.y1 < box.y2 <= height
    assert np.isfinite(face.landmarks).all()
    eyes = face.landmarks[:2]
    margin = 0.1 * box.width
    assert ((eyes[:, 0] >= box.x1 - margin) & (eyes[:, 0] <= box.x2 + margin)).all()
    assert ((eyes[:, 1] >= box.y1) & (eyes[:, 1] <= box.y2)).all()
    expected = whole.landmarks[:2] - (x0, 0)
    inter_ocular = float(np.linalg.norm(expected[1] - expected[0]))
    assert np.linalg.norm(eyes - expected, axis=1).max() < 0.2 * inter_ocular
    assert pipeline.embed(crop, [face]).shape == (1, pipeline.recogniser().dim)


# -- OpenCV threads ----------------------------------------------------------------------

def test_configure_cv2_threads() -> None:
    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(4)
        configure_cv2_threads(None)
        assert cv2.getNumThreads() == 4
        configure_cv2_threads(2)
        assert cv2.getNumThreads() == 4
        configure_cv2_threads(1)
        assert cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(before)


@pytest.mark.models
def test_pipeline_configures_cv2_threads(model_pack_dir: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    monkeypatch.setattr(pipeline_module, "configure_cv2_threads", seen.append)
    FacePipeline(load_pack(model_pack_dir), PipelineOptions(intra_threads=1))
    assert seen == [1]
