"""Age and gender (faceres-deep): the read-out of the model's outputs, and its answers on
labelled UTKFace faces spread over the ages (the full 6,000 are scored by
`openfrs eval attributes`, docs/accuracy.md)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openfrs.media import ImageLimits, decode_image
from openfrs.vision.agegender import AgeGender, decode
from openfrs.vision.pack import load_pack
from openfrs.vision.pipeline import FacePipeline, PipelineOptions

pytestmark = pytest.mark.models


def test_decode_reads_age_as_expectation_plus_one_and_gender_as_one_minus_p_male():
    softmax = np.zeros((2, 101), np.float32)
    softmax[0, 29] = 1.0  # class 29 = age 30
    softmax[1, [9, 19]] = 0.5  # halfway between ages 10 and 20
    estimates = decode(softmax, np.array([[0.9], [0.2]], np.float32))
    assert estimates[0].age == pytest.approx(30.0) and estimates[1].age == pytest.approx(15.0)
    assert estimates[0].gender == "male" and estimates[0].gender_probability == pytest.approx(0.9)
    assert estimates[1].gender == "female" and estimates[1].p_female == pytest.approx(0.8)


def test_gender_probability_is_that_of_the_reported_gender():
    assert AgeGender(30.0, 0.5).gender == "female"
    assert AgeGender(30.0, 0.3).gender_probability == pytest.approx(0.7)


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
    assert np.abs(predicted - truth).mean() < 7.0  # 5.2 on all 6,000
    assert np.corrcoef(truth, predicted)[0, 1] > 0.85  # ages ordered, not just near the mean
    assert np.mean(adult_right) >= 0.85  # 0.95 on the 4,200 adults


def test_surroundings_repeat_the_edge_instead_of_black():
    from openfrs.vision.agegender import _surroundings

    rng = np.random.default_rng(1)
    image = rng.integers(1, 255, (120, 160, 3), dtype=np.uint8)  # no black pixel anywhere
    shape = np.array([[30.0, 12.0], [22.0, 13.0], [4.0, 12.0], [12.0, 13.0], [14.0, 28.0]])
    region, moved = _surroundings(image, shape)
    assert region.min() > 0  # the parts outside the image are edge pixels, not black
    for (x, y), (u, v) in zip(shape.astype(int), moved.astype(int), strict=True):
        assert (region[v, u] == image[y, x]).all()  # same pixel under the moved shape
    assert region.shape[0] > 2 * 26 and region.shape[1] > 2 * 26  # reaches past the face
