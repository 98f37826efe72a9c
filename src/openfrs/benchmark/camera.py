"""`openfrs bench camera` — compare on camera-sized photos against the same photos at 480 px.

The compare path of one image (FaceService.largest_face_blocking on the request bytes, decoding
included: what compare, search and single-face add run) is timed in-process, one call at a
time, with the service's default settings (one single-threaded ONNX session per worker), for
480x360, 1920x1080 and 4000x3000 versions of the same scenes, made from real photos upscaled
with INTER_CUBIC and encoded as JPEG quality 90 (`scenes`). The sizes are interleaved in every
round so machine noise hits them alike; medians are reported with the ratio to 480 px (issue
13's target: at most 4). `--old-path` also times the former path in the same rounds: every
detection tiled down to 40-px faces, turns only when upright finds nothing. Without
`--no-http`, face-compare of the image with itself is timed against a real `openfrs serve`
(default settings, auth off), one request in flight.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import httpx
import numpy as np
from PIL import Image

from openfrs.benchmark.http_load import free_port, start_server
from openfrs.config import Settings
from openfrs.errors import FRSError
from openfrs.media import ImageLimits, decode_image
from openfrs.media.picture import EncodedPicture
from openfrs.service.faces import FaceService
from openfrs.vision.types import Box

SIZES = ((480, 360), (1920, 1080), (4000, 3000))
PORTRAIT = "lfw-partial/images/Abdullah/Abdullah_0002.jpg"
COUPLE = "crowd/deepface_couple.jpg"
# An LFW deep-funneled portrait's face box spans ~0.4 of its side: 150 px gives a ~60-px face.
SMALL_FACE_PORTRAIT_PX = 150


def add_arguments(group: argparse._ArgumentGroup) -> None:
    group.add_argument("--old-path", action="store_true",
                       help="camera, orientation: also run the former path (full tiling, turns only "
                            "when upright finds no face) in the same run")
    group.add_argument("--agreement", action="store_true",
                       help="camera: also check detect_largest against full detection on ~180 photos")


def _rgb(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def _fit(photo: np.ndarray, width: int, height: int) -> np.ndarray:
    """`photo` scaled (INTER_CUBIC) to fit width x height, centred on a mid-grey frame."""
    scale = min(width / photo.shape[1], height / photo.shape[0])
    size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
    frame = np.full((height, width, 3), 128, np.uint8)
    x, y = (width - size[0]) // 2, (height - size[1]) // 2
    frame[y:y + size[1], x:x + size[0]] = cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC)
    return frame


def _empty_with_small_face(photo: np.ndarray, width: int, height: int) -> np.ndarray:
    """A smooth grey gradient with the portrait shrunk so its face is ~60 px, off-centre."""
    ramp = np.linspace(90, 170, width, dtype=np.float32)[None, :, None]
    frame = np.broadcast_to(ramp, (height, width, 3)).astype(np.uint8)
    small = cv2.resize(photo, (SMALL_FACE_PORTRAIT_PX,) * 2, interpolation=cv2.INTER_AREA)
    x, y = int(width * 0.68), int(height * 0.55)
    frame[y:y + small.shape[0], x:x + small.shape[1]] = small
    return frame


def scenes(data: Path, width: int, height: int) -> dict[str, np.ndarray]:
    """The bench's photos at one size: "portrait" (one large face), "couple" (two), and from
    1920 px up "small face" (one ~60-px face in an empty frame: the full-tiling fallback)."""
    portrait, couple = _rgb(data / PORTRAIT), _rgb(data / COUPLE)
    out = {"portrait": _fit(portrait, width, height), "couple": _fit(couple, width, height)}
    if width >= 1920:
        out["small face"] = _empty_with_small_face(portrait, width, height)
    return out


def jpeg(image: np.ndarray, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _old_path(service: FaceService, image: np.ndarray) -> None:
    """The compare path before issue 13: full tiling, turns only when upright finds nothing."""
    oriented = service.pipeline.detect_oriented(image, only_when_none=True)
    if not oriented.faces:
        raise FRSError("FRS.0501")
    service.pipeline.embed(oriented.image, oriented.faces[:1])


def _timed_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000.0


def _in_process(service: FaceService, photos: dict[str, bytes], limits: ImageLimits,
                repeat: int, old: bool) -> dict[str, dict[str, float]]:
    """Median ms per photo of decode alone, the compare path and (old) the former path."""
    paths: dict[str, Callable[[bytes], object]] = {
        "decode": lambda data: decode_image(data, limits),
        # what the API runs: the bytes go in, the service decodes reduced first (media/picture.py)
        "compare_path": lambda data: service.largest_face_blocking(EncodedPicture(data, limits)),
    }
    if old:
        paths["old_path"] = lambda data: _old_path(service, decode_image(data, limits))
    samples: dict[str, dict[str, list[float]]] = {p: {k: [] for k in photos} for p in paths}
    for round_ in range(repeat + 1):  # round 0 warms up
        for key, data in photos.items():
            for name, path in paths.items():
                ms = _timed_ms(lambda d=data, p=path: p(d))
                if round_:
                    samples[name][key].append(ms)
    return {name: {key: statistics.median(v) for key, v in per.items()}
            for name, per in samples.items()}


async def _http_ms(url: str, photos: dict[str, bytes], repeat: int) -> dict[str, float]:
    """Median ms of face-compare (the photo against itself), one request in flight."""
    samples: dict[str, list[float]] = {key: [] for key in photos}
    bodies = {key: {"image1_base64": base64.b64encode(d).decode(),
                    "image2_base64": base64.b64encode(d).decode()} for key, d in photos.items()}
    async with httpx.AsyncClient(timeout=120) as client:
        for round_ in range(repeat + 1):
            for key, body in bodies.items():
                start = time.perf_counter()
                response = await client.post(url, json=body)
                if response.status_code != 200:
                    raise RuntimeError(f"{key}: HTTP {response.status_code} {response.text[:200]}")
                if round_:
                    samples[key].append((time.perf_counter() - start) * 1000.0)
    return {key: statistics.median(v) for key, v in samples.items()}


def _ratios(medians: dict[str, float]) -> dict[str, float]:
    """Each photo's median over the 480-px version of its scene (the portrait's for scenes
    that have no 480-px version)."""
    out = {}
    for key, ms in medians.items():
        scene = key.split(" @ ")[0]
        base = medians.get(f"{scene} @ 480x360", medians.get("portrait @ 480x360"))
        if base and not key.endswith("@ 480x360"):
            out[key] = ms / base
    return out


def _iou(a: Box, b: Box) -> float:
    w = max(0.0, min(a.x2, b.x2) - max(a.x1, b.x1))
    h = max(0.0, min(a.y2, b.y2) - max(a.y1, b.y1))
    return w * h / max(a.area + b.area - w * h, 1e-9)


def _agreement_photos(data: Path) -> dict[str, np.ndarray]:
    """Crowd and dlib group photos as given and fitted to 1920x1080 and 4000x3000, and every
    50th LFW portrait at 120, 300 and 800 px somewhere in a grey 4000x3000 frame."""
    out = {}
    groups = [*sorted((data / "crowd").glob("*.jpg")), *sorted((data / "crowd/ultraface-imgs").glob("*.jpg")),
              *sorted((data / "detection/dlib-faces").glob("*.jpg"))]
    for path in groups:
        photo = _rgb(path)
        out[path.name] = photo
        for w, h in SIZES[1:]:
            out[f"{path.name} @ {w}x{h}"] = _fit(photo, w, h)
    rng = np.random.default_rng(0)
    for path in sorted((data / "lfw-partial/images").glob("*/*.jpg"))[::50]:
        photo = _rgb(path)
        for side in (120, 300, 800):
            frame = np.full((3000, 4000, 3), 128, np.uint8)
            x, y = int(rng.integers(0, 4000 - side)), int(rng.integers(0, 3000 - side))
            frame[y:y + side, x:x + side] = cv2.resize(photo, (side, side), interpolation=cv2.INTER_CUBIC)
            out[f"{path.name} at {side} px"] = frame
    return out


def agreement(service: FaceService, data: Path) -> dict[str, object]:
    """Whether `detect(largest_only=True)` keeps full detection's largest face (box IoU >= 0.9)."""
    pipeline = service.pipeline
    checked, differ, seconds = 0, [], {"full": 0.0, "largest_only": 0.0}
    for name, photo in _agreement_photos(data).items():
        start = time.perf_counter()
        full = pipeline.detect(photo)
        seconds["full"] += time.perf_counter() - start
        start = time.perf_counter()
        largest = pipeline.detect(photo, largest_only=True)
        seconds["largest_only"] += time.perf_counter() - start
        if not full:
            continue
        checked += 1
        iou = _iou(full[0].box, largest[0].box) if largest else 0.0
        if iou < 0.9:
            differ.append({"photo": name, "iou": round(iou, 3), "full_px": round(full[0].box.width),
                           "largest_only_px": round(largest[0].box.width) if largest else None})
    return {"photos_with_a_face": checked, "largest_differs": differ, "seconds": seconds,
            "time_share": seconds["largest_only"] / max(seconds["full"], 1e-9)}


def run(args: argparse.Namespace, settings: Settings) -> dict:
    service = FaceService.from_settings(settings)
    limits = ImageLimits.from_settings(settings)
    photos = {f"{name} @ {w}x{h}": jpeg(image)
              for w, h in SIZES for name, image in scenes(args.data, w, h).items()}
    try:
        timings = _in_process(service, photos, limits, args.repeat, args.old_path)
        checked = agreement(service, args.data) if args.agreement else None
    finally:
        service.pool.shutdown()
    result: dict[str, object] = {
        "largest_face_agreement": checked,
        "settings": {"inference_workers": settings.inference_workers,
                     "intra_threads": settings.intra_threads, "repeat": args.repeat},
        "in_process_ms": timings,
        "ratio_to_480": {name: _ratios(medians) for name, medians in timings.items()
                         if name != "decode"},
    }
    if not args.no_http:
        with tempfile.TemporaryDirectory() as tmp:
            port = free_port()
            server = start_server(port, Path(tmp), settings.model_dir)
            try:
                url = f"http://127.0.0.1:{port}/v2/bench/face-compare"
                http = asyncio.run(_http_ms(url, photos, max(3, args.repeat // 2)))
            finally:
                server.terminate()
                server.wait(timeout=10)
        result["http_face_compare_ms"] = http
        result["http_ratio_to_480"] = _ratios(http)
    return result
