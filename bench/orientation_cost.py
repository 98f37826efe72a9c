"""What the orientation search costs face-detect on upright photos.

face-detect tries the three turns only when the upright pass is not convincing
(vision/orientation.py); this times face-detect's blocking path (orientation search + 68-point
shapes, no attributes) against the same work with the upright pass alone, on upright LFW
portraits (every 5th image, the set that triggers the search most) and the crowd photos, both
orders interleaved twice in one run. 1 thread per ONNX session, as the service runs.

    .venv/bin/python bench/orientation_cost.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np

from openfrs.config import Settings
from openfrs.media import ImageLimits, decode_image
from openfrs.service.faces import FaceService

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _times_ms(images: list[np.ndarray], work) -> list[float]:
    out = []
    for image in images:
        start = time.perf_counter()
        work(image)
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> int:
    settings = Settings(intra_threads=1)
    service = FaceService.from_settings(settings)
    limits = ImageLimits.from_settings(settings)

    def upright_only(image: np.ndarray) -> None:
        oriented = service.pipeline.detect_oriented(image, only_when_none=True)
        service.pipeline.landmarks(oriented.image, oriented.faces)

    sets = {"lfw portraits": sorted((DATA / "lfw-partial/images").glob("*/*.jpg"))[1::5],
            "crowd": sorted((DATA / "crowd").glob("*.jpg"))}
    for name, files in sets.items():
        images = [decode_image(f.read_bytes(), limits) for f in files]
        _times_ms(images[:10], service.detect_blocking)  # warm-up
        full, upright = [], []
        for _ in range(2):
            upright += _times_ms(images, upright_only)
            full += _times_ms(images, service.detect_blocking)
        print(f"{name} ({len(images)} images): face-detect mean {statistics.mean(full):.1f} ms, "
              f"median {statistics.median(full):.1f}; upright pass only mean "
              f"{statistics.mean(upright):.1f}, median {statistics.median(upright):.1f}; "
              f"cost ratio of means {statistics.mean(full) / statistics.mean(upright):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
