"""faceplugin fr_age / fr_gender: two SSR-Nets, scored against the shipped age/gender model.

What they are (npm faceplugin-face-recognition-js 0.0.1, `model/fr_age.onnx`,
`model/fr_gender.onnx`, MIT): SSR-Net (soft stagewise regression, 3 stages of 3 bins), one net
per attribute. The package's code (lib/fr_age.js, lib/fr_gender.js), reproduced here:

* the face box scaled 1.4x about its centre and shifted inside the image (the rule of
  fr_liveness.crop_region), resized to 64x64 (OpenCV bilinear);
* RGB, /255 then ImageNet mean/std, NCHW, batch fixed to 1;
* the nine outputs merged by `mergeAge` / `mergeGender` (`merge` below) times V: age = 101 x
  merge in years; gender = 1 x merge, a regressed value in 0..1 (not a softmax), which on
  UTKFace is high for men, so P(female) is read as 1 - value.

The package feeds its own detector's box (an UltraFace-type SSD); here it is our detector's
box (`detector_box`), as for fr_liveness. Only `openfrs eval attributes --faceplugin` uses this:
on UTKFace they are far worse than the shipped AgeGenderNet (age MAE 22 vs 4, gender 0.60 vs
0.91; docs/accuracy.md, *Candidate: faceplugin fr_age / fr_gender*), so the pack does not ship them.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from openfrs.vision.fr_liveness import crop_region
from openfrs.vision.runtime import create_session
from openfrs.vision.types import Box

INPUT_SIZE = 64
CROP_SCALE = 1.4
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)
OUTPUTS = ("prob_stage_1", "prob_stage_2", "prob_stage_3", "stage1_delta_k", "stage2_delta_k",
           "stage3_delta_k", "index_offset_stage1", "index_offset_stage2", "index_offset_stage3")
AGE_RANGE = 101.0  # V in mergeAge
STAGE_BINS = 3


def model_input(image: np.ndarray, box: Box) -> np.ndarray:
    """(1, 3, 64, 64) float32 for one face of an RGB uint8 image."""
    height, width = image.shape[:2]
    x, y, w, h = crop_region(box, width, height, CROP_SCALE)
    crop = cv2.resize(image[y:y + h, x:x + w], (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_LINEAR)
    normalised = (crop.astype(np.float32) / 255.0 - MEAN) / STD
    return np.ascontiguousarray(normalised.transpose(2, 0, 1)[None], np.float32)


def merge(outputs: dict[str, np.ndarray]) -> float:
    """The package's mergeAge/mergeGender without V (lambda_local = lambda_d = 1): each stage's
    bin expectation, with the bin offsets, scaled by the widths of the stages so far."""
    total, scale = 0.0, 1.0
    for stage in (1, 2, 3):
        probs = outputs[f"prob_stage_{stage}"].reshape(-1)
        offsets = outputs[f"index_offset_stage{stage}"].reshape(-1)
        delta = float(outputs[f"stage{stage}_delta_k"].reshape(-1)[0])
        scale *= STAGE_BINS * (1 + delta)
        total += float(((np.arange(STAGE_BINS) + offsets) * probs).sum()) / scale
    return total


class SsrNet:
    """One SSR-Net; `value` is merge() for one face box (the package's number before V)."""

    def __init__(self, model_path: Path, intra_threads: int | None = 1) -> None:
        self.session = create_session(Path(model_path), intra_threads)
        self.input_name = self.session.get_inputs()[0].name

    def value(self, image: np.ndarray, box: Box) -> float:
        outputs = self.session.run(list(OUTPUTS), {self.input_name: model_input(image, box)})
        return merge(dict(zip(OUTPUTS, outputs, strict=True)))


class FacepluginAgeGender:
    """fr_age and fr_gender together: (age in years, P(female)) for a face box."""

    def __init__(self, age_model: Path, gender_model: Path, intra_threads: int | None = 1) -> None:
        self.age_net = SsrNet(age_model, intra_threads)
        self.gender_net = SsrNet(gender_model, intra_threads)

    def estimate(self, image: np.ndarray, box: Box) -> tuple[float, float]:
        return AGE_RANGE * self.age_net.value(image, box), 1.0 - self.gender_net.value(image, box)
