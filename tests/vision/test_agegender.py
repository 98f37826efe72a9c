"""Age and gender (face-api.js AgeGenderNet): face-api's input recipe, and the answers on
labelled UTKFace faces spread over the ages (the full 6,000 are scored by
`openfrs eval attributes`, docs/accuracy.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openfrs.media import ImageLimits, decode_image
from openfrs.vision.agegender import (
    GENDER_MIN_AGE,
    GENDER_MIN_PROBABILITY,
    AgeGender,
    gender_answered,
    landmarks_box,
    model_input,
    pad_to_square,
    resize_bilinear_tf,
)
from openfrs.vision.pack import load_pack
from openfrs.vision.pipeline import FacePipeline, PipelineOptions

pytestmark = pytest.mark.models


def test_gender_probability_is_that_of_the_reported_gender():
    assert AgeGender(30.0, 0.5).gender == "female"
    assert AgeGender(30.0, 0.3).gender_probability == pytest.approx(0.7)


def test_gender_is_withheld_for_children_and_unsure_answers():
    sure = 1.0 - (1.0 - GENDER_MIN_PROBABILITY) / 2  # above the cut
    assert AgeGender(30.0, sure).gender_is_answered
    assert AgeGender(30.0, 1.0 - sure).gender_is_answered  # sure of "male" too
    assert not AgeGender(GENDER_MIN_AGE - 1, 0.999).gender_is_answered  # a child: however sure
    assert not AgeGender(30.0, (0.5 + GENDER_MIN_PROBABILITY) / 2).gender_is_answered
    answered = gender_answered(np.array([5.0, 40.0, 40.0]), np.array([0.99, 0.99, 0.55]))
    assert answered.tolist() == [False, True, False]


def test_abstention_report_picks_the_lowest_cut_that_meets_the_target():
    from openfrs.evaluation.attributes import gender_abstention

    rng = np.random.default_rng(0)
    n = 4000
    truth = rng.integers(0, 2, n)
    confidence = rng.uniform(0.5, 1.0, n)
    right = rng.uniform(0, 1, n) < confidence  # the model is as right as it is sure
    p_female = np.where(truth == 1, confidence, 1 - confidence)
    p_female = np.where(right, p_female, 1 - p_female)
    age = np.full(n, 30.0)
    report = gender_abstention(p_female, age, truth, age, np.ones(n, bool), shipped_cut=0.8)
    rows = {r["min_gender_probability"]: r for r in report["by_cut"]}
    assert rows[0.5]["answered"] == 1.0 and rows[0.5]["acc"] == pytest.approx(0.75, abs=0.03)
    assert report["chosen_cut"] is None  # uniform confidence: 96% right only for the top 8%
    children = gender_abstention(p_female, np.full(n, 5.0), truth, age, np.ones(n, bool))
    assert children["shipped"]["answered"] == 0.0


def _utk_sample(shared_data: Path, per_band: int = 8) -> list[tuple[Path, int, int]]:
    """The first files (sorted) of each age band, with their age and gender labels."""
    bands = ((1, 9), (10, 19), (20, 34), (35, 49), (50, 69))
    files = sorted((shared_data / "utkface/images").glob("*.jpg"))
    picked = []
    for low, high in bands:
        in_band = [(f, int(f.name.split("_")[0]), int(f.name.split("_")[1])) for f in files
                   if low <= int(f.name.split("_")[0]) <= high and f.name.split("_")[1] in "01"]
        picked += in_band[:per_band]
    return picked


def test_ages_and_adult_genders_on_labelled_faces(model_pack_dir: Path, shared_data: Path, settings):
    pipeline = FacePipeline(load_pack(model_pack_dir), PipelineOptions(intra_threads=1))
    limits = ImageLimits.from_settings(settings)
    truth_age, predicted_age, adult_right = [], [], []
    for path, age, gender in _utk_sample(shared_data):
        image = decode_image(path.read_bytes(), limits)
        faces = pipeline.detect(image)
        assert faces, path.name
        estimate = pipeline.age_gender(image, faces[:1])[0]
        assert faces[0].extras["age_gender"] is estimate  # kept on the face, not recomputed
        truth_age.append(age)
        predicted_age.append(estimate.age)
        if age >= 20:
            adult_right.append(estimate.gender == ("female" if gender else "male"))
    truth, predicted = np.array(truth_age), np.array(predicted_age)
    assert np.abs(predicted - truth).mean() < 7.0  # 4.0 on all 6,000
    assert np.corrcoef(truth, predicted)[0, 1] > 0.85  # ages ordered, not just near the mean
    assert np.mean(adult_right) >= 0.85  # 0.98 on the 4,200 adults



def test_input_recipe_is_face_apis():
    shape = np.array([[10.0, 20.0], [60.0, 20.0], [35.0, 70.0]])
    assert landmarks_box(shape) == pytest.approx((5.0, 15.0, 60.0, 60.0))  # grown by 20%
    tall = np.ones((5, 2, 3), np.float32)
    padded = pad_to_square(tall)  # 3 columns of zeros: 1 before, 2 after (JS Math.round(1.5))
    assert padded.shape == (5, 5, 3) and padded[:, 1:3].all() and not padded[:, [0, 3, 4]].any()
    ramp = np.arange(4, dtype=np.float32)[None, :, None].repeat(4, 0).repeat(3, 2)
    # TF's rule samples at i * in/out (no half-pixel shift): 0, 2 from a 4-wide ramp
    assert resize_bilinear_tf(ramp, 2)[0, :, 0].tolist() == [0.0, 2.0]
    image = np.full((50, 50, 3), 7, np.uint8)
    assert model_input(image, (100.0, 100.0, 10.0, 10.0)) is None  # box outside the image
    x = model_input(image, (-10.0, 5.0, 30.0, 20.0))  # clipped to 20x20, already square
    assert x.shape == (112, 112, 3) and np.all(x == 7.0)
