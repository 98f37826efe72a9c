"""Age and gender from face-api.js's AgeGenderNet (npm @vladmandic/face-api, pack role "agegender").

Why this model: of the age/gender nets the registry packages carry it is the most accurate on
UTKFace and by far the cheapest (bench/faceapi_agegender.py, all 6,000 images: age MAE 4.03,
gender 0.917, 0.98 at ages 20+, ~1.3 ms a pass, vs HSE faceres-deep 5.23 / 0.848 at ~9-18 ms;
bench/attribute_choice.py covers the others). Caveat stated wherever the figures are: face-api
trained this net on 80% of UTK, so those UTKFace scores are not held-out; its own held-out UTK
split gave 5.25 / 0.93.

The input is face-api's own, reproduced exactly (its tfjs path gives the same 112x112 tensor):
the smallest box around the 68 landmarks grown by 20% (`alignMinBbox(0.2)`), clipped to the
image with every field floored, zero-padded to a centred square, resized by TF's bilinear rule
(no half-pixel centres), RGB 0..255 (the graph subtracts face-api's mean and divides by 255).
Each face is also run mirrored and the two answers averaged: +0.8 points of gender accuracy
and -0.16 years of age error for a second 1.3 ms pass.

Limits measured there: gender in small children is little better than a guess (0-2 years 0.73,
3-9 years 0.87), which is why a probability goes with it; ages 30-49 are the least exact
(MAE ~6.7).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openfrs.vision.pack import ModelPack
from openfrs.vision.runtime import create_session

INPUT_SIZE = 112
BOX_GROWTH = 0.2  # face-api alignMinBbox(0.2)
AGE_OUTPUT = "age"
GENDER_OUTPUT = "gender_probs"  # columns: male, female


# When `gender` is answered (docs/accuracy.md, *Gender with abstention*; `openfrs eval attributes`
# measures both on UTKFace). Children's faces carry too little gender signal for this model (0-2
# years ~0.73 right), so a face estimated younger than GENDER_MIN_AGE is `unknown`, and so is one
# whose probability is below GENDER_MIN_PROBABILITY: the cut that keeps accuracy on the answered
# faces at 0.96 or more while answering at least 80% of them.
GENDER_MIN_AGE = 13.0
GENDER_MIN_PROBABILITY = 0.80


def gender_answered(age: np.ndarray | float, p_female: np.ndarray | float,
                    min_age: float = GENDER_MIN_AGE,
                    min_probability: float = GENDER_MIN_PROBABILITY) -> np.ndarray | bool:
    """Whether the gender of a face (or of each face) is reported rather than `unknown`."""
    return (np.asarray(age) >= min_age) & (np.maximum(p_female, 1 - np.asarray(p_female)) >= min_probability)


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
        """The model's probability for the gender it leans to (0.5..1)."""
        return max(self.p_female, 1.0 - self.p_female)

    @property
    def gender_is_answered(self) -> bool:
        """False: the API says `unknown` (a child, or a probability under the cut)."""
        return bool(gender_answered(self.age, self.p_female))


def landmarks_box(shape68: np.ndarray) -> tuple[float, float, float, float]:
    """(x, y, w, h): the smallest box around the points, grown by 20% of its size."""
    low, high = np.min(shape68, axis=0), np.max(shape68, axis=0)
    width, height = high - low
    return (float(low[0] - BOX_GROWTH / 2 * width), float(low[1] - BOX_GROWTH / 2 * height),
            float((1 + BOX_GROWTH) * width), float((1 + BOX_GROWTH) * height))


def clip_box(x: float, y: float, w: float, h: float, image_w: int, image_h: int) -> tuple[int, int, int, int]:
    """face-api Box.clipAtImageBorders: clipped to the image, then every field floored."""
    cx, cy = max(x, 0.0), max(y, 0.0)
    cw, ch = min(x + w - cx, image_w - cx), min(y + h - cy, image_h - cy)
    return math.floor(cx), math.floor(cy), math.floor(cw), math.floor(ch)


def pad_to_square(image: np.ndarray) -> np.ndarray:
    """face-api padToSquare(centred): zeros, round(diff / 2) after, the rest before."""
    height, width = image.shape[:2]
    if height == width:
        return image
    diff = abs(height - width)
    after = math.floor(diff * 0.5 + 0.5)  # JavaScript's Math.round
    pad = ((0, 0), (diff - after, after)) if height > width else ((diff - after, after), (0, 0))
    return np.pad(image, (*pad, (0, 0)))


def resize_bilinear_tf(image: np.ndarray, size: int) -> np.ndarray:
    """tf.image.resizeBilinear without corner alignment or half-pixel centres (not what
    cv2.resize computes: its sample grid is shifted by half a pixel)."""
    height, width = image.shape[:2]
    if (height, width) == (size, size):
        return image.astype(np.float32)
    x = image.astype(np.float64)
    sy, sx = np.arange(size) * (height / size), np.arange(size) * (width / size)
    y0, x0 = np.floor(sy).astype(int), np.floor(sx).astype(int)
    y1 = np.minimum(height - 1, np.ceil(sy).astype(int))
    x1 = np.minimum(width - 1, np.ceil(sx).astype(int))
    fy, fx = (sy - y0)[:, None, None], (sx - x0)[None, :, None]
    top = x[y0][:, x0] + (x[y0][:, x1] - x[y0][:, x0]) * fx
    bottom = x[y1][:, x0] + (x[y1][:, x1] - x[y1][:, x0]) * fx
    return (top + (bottom - top) * fy).astype(np.float32)


def model_input(image: np.ndarray, box: tuple[float, float, float, float] | None = None) -> np.ndarray | None:
    """face-api's 112x112 RGB 0..255 float input for the face in `box` (x, y, w, h; None = the
    whole image); None when the box has no pixel inside the image."""
    if box is not None:
        x, y, w, h = clip_box(*box, image.shape[1], image.shape[0])
        if w <= 0 or h <= 0:
            return None
        image = image[y:y + h, x:x + w]
    return resize_bilinear_tf(pad_to_square(image.astype(np.float32)), INPUT_SIZE)


class AgeGenderEstimator:
    """Runs the converted AgeGenderNet; thread-safe (the ORT session is), blocking."""

    def __init__(self, model_path: Path, intra_threads: int | None = 1) -> None:
        self.session = create_session(Path(model_path), intra_threads)
        self.input_name = self.session.get_inputs()[0].name
        missing = {AGE_OUTPUT, GENDER_OUTPUT} - {o.name for o in self.session.get_outputs()}
        if missing:
            raise ValueError(f"age/gender model lacks outputs {sorted(missing)}")

    @classmethod
    def from_pack(cls, pack: ModelPack, intra_threads: int | None = 1) -> AgeGenderEstimator:
        return cls(pack.entry("agegender").path(pack.root), intra_threads)

    def estimate(self, image: np.ndarray, shapes68: list[np.ndarray]) -> list[AgeGender | None]:
        """One estimate per 68-point shape (RGB uint8 image): face and mirror in one batch,
        averaged. None for a shape whose box lies outside the image."""
        inputs = [model_input(image, landmarks_box(shape)) for shape in shapes68]
        kept = [x for x in inputs if x is not None]
        if not kept:
            return [None] * len(inputs)
        faces = np.stack(kept)
        batch = np.concatenate([faces, faces[:, :, ::-1]])
        age, genders = self.session.run([AGE_OUTPUT, GENDER_OUTPUT], {self.input_name: batch})
        n = len(kept)
        ages = (age[:n] + age[n:]) / 2
        p_female = (genders[:n, 1] + genders[n:, 1]) / 2
        estimates = iter(AgeGender(float(a), float(p)) for a, p in zip(ages, p_female, strict=True))
        return [None if x is None else next(estimates) for x in inputs]
