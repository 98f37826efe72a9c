"""The numpy shape predictor reproduces dlib's 5- and 68-point landmarks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openfrs.modelpack.convert.dlib_shape import convert_shape_predictor
from openfrs.vision.shape_predictor import ShapePredictor, five_points
from openfrs.vision.types import Box


def _dlib_box(rect: np.ndarray) -> Box:
    """dlib rectangle (inclusive left, top, right, bottom) -> OpenFRS Box."""
    left, top, right, bottom = (float(v) for v in rect)
    return Box(left, top, right + 1, bottom + 1)


@pytest.fixture(scope="module")
def predictors(shape5_npz: Path, shape68_npz: Path) -> dict[str, ShapePredictor]:
    return {"shape5": ShapePredictor(shape5_npz), "shape68": ShapePredictor(shape68_npz)}


@pytest.mark.parametrize("key", ["shape5", "shape68"])
def test_matches_dlib(predictors: dict, reference: dict, key: str) -> None:
    predictor = predictors[key]
    errors, same = [], 0
    for image, rect, expected in zip(reference["images"], reference["boxes"], reference[key],
                                     strict=True):
        points = predictor.predict(image, _dlib_box(rect))
        assert points.shape == expected.shape and points.dtype == np.float32
        errors.append(np.linalg.norm(points - expected, axis=1))
        # dlib rounds its points with floor(v + 0.5); ours are unrounded floats
        same += int((np.floor(points + 0.5) == expected).all(axis=1).sum())
    errors = np.concatenate(errors)
    print(f"{key}: mean error {errors.mean():.3f} px, max {errors.max():.3f} px, "
          f"{same}/{errors.size} identical after rounding")
    assert errors.mean() < 0.5, f"mean {errors.mean():.3f}, max {errors.max():.3f}"
    assert errors.max() < 1.5, f"max {errors.max():.3f}"
    assert same >= 0.98 * errors.size


def test_grayscale_input_reads_dlib_intensity(predictors: dict, reference: dict) -> None:
    """An RGB image is read as (r + g + b) // 3, exactly like the matching gray image."""
    image, rect = reference["images"][0], reference["boxes"][0]
    gray = (image.astype(np.int32).sum(axis=2) // 3).astype(np.uint8)
    predictor = predictors["shape68"]
    np.testing.assert_array_equal(predictor.predict(image, _dlib_box(rect)),
                                  predictor.predict(gray, _dlib_box(rect)))


def test_five_points_from_68(reference: dict) -> None:
    pts = five_points(reference["shape68"][0])
    eye_l, eye_r, nose, mouth_l, mouth_r = pts
    assert pts.shape == (5, 2) and pts.dtype == np.float32
    assert eye_l[0] < nose[0] < eye_r[0] and mouth_l[0] < mouth_r[0]
    assert max(eye_l[1], eye_r[1]) < nose[1] < min(mouth_l[1], mouth_r[1])


def test_five_points_from_5(reference: dict) -> None:
    shape5, shape68 = reference["shape5"][0], reference["shape68"][0]
    pts = five_points(shape5)
    from68 = five_points(shape68)
    # eye centres agree with the 68-point ones within a few pixels; the rest is estimated
    assert np.abs(pts[:2] - from68[:2]).max() < 4
    assert np.abs(pts[2:] - from68[2:]).max() < 12
    measured = five_points(shape5, estimate=False)
    np.testing.assert_array_equal(measured[2], shape5[4])  # nose bottom
    assert np.isnan(measured[3:]).all()
    with pytest.raises(ValueError):
        five_points(np.zeros((7, 2)))


def test_rejects_truncated_dat(dlib_models_dir: Path, tmp_path: Path) -> None:
    data = (dlib_models_dir / "shape_predictor_5_face_landmarks.dat").read_bytes()
    broken = tmp_path / "sp.dat"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="truncated"):
        convert_shape_predictor(broken, tmp_path / "sp.npz")
