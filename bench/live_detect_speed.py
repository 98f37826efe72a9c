"""How long action liveness takes on the longest clip FRS accepts: 15 s of 1080p at 30 fps.

The clip is built from a real still (the `left_face` pose still and its mirror image, scaled to
1920x1080, encoded with libx264), so decoding, detection, the face mesh and the embeddings all
run on a real face. Two versions: the plain one (x264 packs a repeated still into ~0.3 MB, so
it decodes unusually fast) and one with fresh camera-like grain on every frame (sigma 6), which
brings it near the 8 MB upload limit and makes decoding as costly as an accepted clip can be.
Times decoding + tracking + events (check_actions), 1 thread per ONNX session as the service
runs, median of three runs. Target: under 6 s on this machine.

    .venv/bin/python bench/live_detect_speed.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from openfrs.config import Settings  # noqa: E402
from openfrs.evaluation.clips import encode_clip, on_canvas  # noqa: E402
from openfrs.media.video import decode_video  # noqa: E402
from openfrs.service.action_liveness import check_actions, parse_request  # noqa: E402
from openfrs.service.faces import FaceService  # noqa: E402

STILL = Path(__file__).resolve().parents[1].parent / "shared/data/liveness-stills/pose/left_face.jpeg"


def grained(frames: list[np.ndarray], sigma: float = 6.0, seed: int = 0) -> list[np.ndarray]:
    """Each frame with its own sensor-like noise (a shifted window of one noise field)."""
    rng = np.random.default_rng(seed)
    height, width, _ = frames[0].shape
    field = rng.normal(0, sigma, (height + 64, width + 64, 3)).astype(np.int16)
    out = []
    for frame in frames:
        dy, dx = rng.integers(0, 64, 2)
        out.append(np.clip(frame + field[dy:dy + height, dx:dx + width], 0, 255).astype(np.uint8))
    return out


def measure(service: FaceService, clip: bytes, name: str) -> None:
    request = parse_request("2")  # the rest pose is the turned still: turning back is no new action
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        video = decode_video(clip)
        decoded = time.perf_counter()
        result = check_actions(service.pipeline, video, request)
        runs.append((decoded - start, time.perf_counter() - decoded))
    total = [a + b for a, b in runs]
    print(f"15 s 1080p30 clip, {name} ({len(clip) / 1e6:.2f} MB, {len(video.frames)} frames kept, "
          f"cv2 threads "
          f"{cv2.getNumThreads()}): median total {statistics.median(total):.2f} s "
          f"(decode {statistics.median(a for a, _ in runs):.2f} s, liveness "
          f"{statistics.median(b for _, b in runs):.2f} s); alive={result.alive} actions={result.actions}",
          flush=True)


def main() -> int:
    service = FaceService.from_settings(Settings(intra_threads=1))
    face = on_canvas(np.asarray(Image.open(STILL).convert("RGB")), (1920, 1080))
    mirrored = np.ascontiguousarray(face[:, ::-1])
    frames = [face] * 150 + [mirrored] * 150 + [face] * 150
    measure(service, encode_clip(frames, fps=30), "plain")
    measure(service, encode_clip(grained(frames), fps=30), "grain")
    return 0


if __name__ == "__main__":
    sys.exit(main())
