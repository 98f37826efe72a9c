"""Age and gender from HSE's `faceres-deep` multi-output MobileNet (human-models, role "agegender").

Why this model and this recipe: of every age/gender model the registry packages carry, it is
the only one whose own head meets the age target on UTKFace without weights fitted by us
(bench/attribute_choice.py, all 6,000 images: age MAE 5.23; gender 0.85 overall, 0.95 at ages
20+). The recipe is the one that scored best there: a dlib 5-point aligned chip of 224 px with
padding 0.5 (the face plus hair and chin, as VGGFace2 crops are), RGB turned to BGR, VGG mean
subtracted and no scaling, NHWC. Age is the expectation of the 0..100 softmax plus one (the
classes start at age 1); the gender output is a sigmoid of P(male).

Limits measured there: ages above 70 are under-estimated by ~16 years on average, and gender
in children is little better than chance (0-2 years: 0.60, 3-9: 0.70), which is why the gender
has a probability beside it: callers counting visitors can drop uncertain answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from openfrs.vision.align import face_chip
from openfrs.vision.pack import ModelPack
from openfrs.vision.runtime import create_session

CHIP_SIZE = 224
CHIP_PADDING = 0.5
VGG_MEAN_BGR = np.array([103.939, 116.779, 123.68], np.float32)
AGE_OUTPUT = "age_pred/Softmax"
MALE_OUTPUT = "gender_pred/Sigmoid"


@dataclass(frozen=True)
class AgeGender:
    """One face's estimate: age in years, P(female) in 0..1."""

    age: float
    p_female: float

    @property
    def gender(self) -> str:
        return "female" if self.p_female >= 0.5 else "male"

    @property
    def gender_probability(self) -> float:
        """The model's probability for the gender it reports (0.5..1)."""
        return max(self.p_female, 1.0 - self.p_female)


def decode(age_softmax: np.ndarray, p_male: np.ndarray) -> list[AgeGender]:
    """Model outputs for N faces -> estimates (age = E[class] + 1)."""
    ages = age_softmax @ np.arange(age_softmax.shape[1], dtype=np.float32) + 1.0
    return [AgeGender(float(a), float(1.0 - m)) for a, m in zip(ages, p_male.reshape(-1), strict=True)]


SURROUND = 2.5  # half-side of the region kept around a face, in spans of its 5 points


def _surroundings(image: np.ndarray, shape5: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The region the padded chip can reach, with the image's edge pixels repeated where it
    leaves the image, and the shape in that region's coordinates.

    Why: a 0.5-padded chip of a face near the border (a tight crop, a face at the frame's edge)
    would otherwise be half black, which the model reads as a different face: on UTKFace's
    tight crops, repeated edges instead of black gave age MAE 5.23 vs 5.39 and gender 0.848 vs
    0.827 (bench/attribute_choice.py vs `openfrs eval attributes` before this change).
    """
    points = np.asarray(shape5, np.float64)
    center = (points.min(axis=0) + points.max(axis=0)) / 2
    half = SURROUND * float(np.ptp(points, axis=0).max()) + 2
    x0, y0 = np.floor(center - half).astype(int)
    x1, y1 = np.ceil(center + half).astype(int)
    height, width = image.shape[:2]
    inside = image[max(y0, 0):min(y1, height), max(x0, 0):min(x1, width)]
    if inside.size == 0:
        return image, points
    region = cv2.copyMakeBorder(inside, max(-y0, 0), max(y1 - height, 0), max(-x0, 0),
                                max(x1 - width, 0), cv2.BORDER_REPLICATE)
    return region, points - (x0, y0)


class AgeGenderEstimator:
    """Runs `faceres-deep` on aligned chips; thread-safe (the ORT session is), blocking."""

    def __init__(self, model_path: Path, intra_threads: int | None = 1) -> None:
        self.session = create_session(Path(model_path), intra_threads)
        self.input_name = self.session.get_inputs()[0].name
        names = [o.name for o in self.session.get_outputs()]
        missing = {AGE_OUTPUT, MALE_OUTPUT} - set(names)
        if missing:
            raise ValueError(f"age/gender model lacks outputs {sorted(missing)}")

    @classmethod
    def from_pack(cls, pack: ModelPack, intra_threads: int | None = 1) -> AgeGenderEstimator:
        return cls(pack.entry("agegender").path(pack.root), intra_threads)

    def estimate(self, image: np.ndarray, shapes5: list[np.ndarray]) -> list[AgeGender]:
        """One estimate per dlib 5-point shape (RGB uint8 image), in one batch."""
        if not shapes5:
            return []
        chips = np.stack([face_chip(*_surroundings(image, s), CHIP_SIZE, CHIP_PADDING) for s in shapes5])
        batch = np.ascontiguousarray(chips[..., ::-1].astype(np.float32) - VGG_MEAN_BGR)
        age, male = self.session.run([AGE_OUTPUT, MALE_OUTPUT], {self.input_name: batch})
        return decode(age, male)
