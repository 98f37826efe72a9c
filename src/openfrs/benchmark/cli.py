"""`openfrs bench [speed|search|import|camera|orientation]` — detection, embedding and compare
speed with the dlib peer; `search` (benchmark/search.py): 1:N search at scale and LFW
identification; `import` (benchmark/import_speed.py): bulk enrolment, the importer against
add-face over HTTP; `camera` (benchmark/camera.py): compare on 12 MP photos against 480-px ones;
`orientation` (benchmark/orientation.py): turned photos made upright by compare/search/add."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import numpy as np

from openfrs.benchmark import camera, http_load, import_speed, orientation, peer, search
from openfrs.benchmark.timing import interleaved_medians_ms, median_ms
from openfrs.config import Settings
from openfrs.media import ImageLimits, decode_image
from openfrs.modelpack.install import DLIB_RECOGNISER
from openfrs.service.faces import FaceService

DATA = Path("../shared/data")
PAIR = ("lfw-partial/images/Abdullah/Abdullah_0002.jpg", "lfw-partial/images/Abdullah/Abdullah_0003.jpg")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", choices=["speed", "search", "import", "camera", "orientation"],
                        default="speed",
                        help="speed: detection/embedding/compare (default); search: 1:N at scale; "
                             "import: bulk enrolment vs add-face over HTTP; camera: compare on "
                             "camera-sized photos vs 480 px; orientation: turned photos in compare")
    parser.add_argument("--data", type=Path, default=DATA, help="evaluation data folder")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--requests", type=int, default=60, help="HTTP compare requests")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--no-peer", action="store_true", help="skip face_recognition (dlib)")
    parser.add_argument("--no-candidates", action="store_true",
                        help="skip the recognisers evaluated but not shipped (MobileFaceNet)")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    search.add_arguments(parser.add_argument_group("search"))
    import_speed.add_arguments(parser.add_argument_group("import"))
    camera.add_arguments(parser.add_argument_group("camera"))
    orientation.add_arguments(parser.add_argument_group("orientation"))


def _load(path: Path, settings: Settings) -> np.ndarray:
    return decode_image(path.read_bytes(), ImageLimits.from_settings(settings))


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    import cv2

    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


def _bench_images(args: argparse.Namespace, settings: Settings) -> dict[str, np.ndarray]:
    crowd = _load(args.data / "crowd/insightface_t1.jpg", settings)
    couple = _load(args.data / "crowd/deepface_couple.jpg", settings)
    return {"640x480": _resize(couple, 640, 480), f"{crowd.shape[1]}x{crowd.shape[0]}": crowd}


def recogniser_speed(pipeline, image: np.ndarray, face, repeat: int,
                     candidates: dict | None = None) -> dict[str, float]:
    """Faces per second of every recogniser of the pack (and of `candidates`: label -> embedder)
    at batch 1 and 16, on its own chip of one real face repeated, all timed in alternating
    rounds; and the default's cost per face against the dlib ResNet's at batch 16 (issue 13's
    rule: at most 1.5x)."""
    embedders = {("" if v == pipeline.embedder_version else f"[{v}]"): r.embedder
                 for v, r in pipeline.recognisers.items()}
    embedders.update({f"[candidate {label}]": e for label, e in (candidates or {}).items()})
    calls = {}
    for label, embedder in embedders.items():
        chip = embedder.chips(image, pipeline.shapes(image, [face], embedder.shape))[0]
        for batch in (1, 16):
            chips = np.repeat(chip[None], batch, axis=0)
            calls[f"{label}[batch={batch}]"] = (batch, lambda c=chips, e=embedder: e.embed(c))
    medians = interleaved_medians_ms({key: fn for key, (_, fn) in calls.items()}, repeat)
    out = {f"embed_faces_per_s{key}": calls[key][0] * 1000.0 / ms for key, ms in medians.items()}
    if DLIB_RECOGNISER in pipeline.recognisers and pipeline.embedder_version != DLIB_RECOGNISER:
        out["embed_cost_per_face_default/dlib[batch=16]"] = (
            out[f"embed_faces_per_s[{DLIB_RECOGNISER}][batch=16]"] / out["embed_faces_per_s[batch=16]"])
    return out


def candidate_embedders(settings: Settings, threads: int) -> dict:
    """The recognisers evaluated but not shipped (evaluation/candidates.py), by label."""
    from openfrs.evaluation.candidates import mobilefacenet
    from openfrs.evaluation.cli import DEFAULT_CACHE

    return {c.name: c.embedder for c in mobilefacenet(settings.download_dir, DEFAULT_CACHE / "candidates",
                                                      threads, progress=lambda _: None) if not c.flip}


def run(args: argparse.Namespace, settings: Settings) -> int:
    runners = {"search": search.run, "import": import_speed.run, "camera": camera.run,
               "orientation": orientation.run}
    result = runners.get(args.target, speed)(args, settings)
    text = json.dumps(result, indent=2, default=float)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    return 0


def speed(args: argparse.Namespace, settings: Settings) -> dict:
    # Micro-benchmarks run one call at a time, so each session gets every core; the HTTP
    # benchmark below runs the server with its own (throughput) settings.
    threads = os.cpu_count() or 1
    service = FaceService.from_settings(settings.model_copy(update={"intra_threads": threads}))
    pipeline = service.pipeline
    images = _bench_images(args, settings)
    result: dict[str, object] = {"threads": threads, "openfrs": {},
                                 "peer_face_recognition": None, "ratios": {}}
    ours: dict[str, float] = result["openfrs"]  # type: ignore[assignment]
    for name, image in images.items():
        ours[f"detect_ms[{name}]"] = median_ms(lambda im=image: pipeline.detector.detect(im),
                                               args.repeat)
        ours[f"faces[{name}]"] = len(pipeline.detect(image))
        ours[f"detect_landmarks_ms[{name}]"] = median_ms(
            lambda im=image: pipeline.detect_with_landmarks(im), args.repeat)

    pair = tuple(_load(args.data / p, settings) for p in PAIR)
    face = pipeline.detect(pair[0])[0]
    candidates = None if args.no_candidates else candidate_embedders(settings, threads)
    ours.update(recogniser_speed(pipeline, pair[0], face, 3 * args.repeat, candidates))
    # and as the server runs them: one single-threaded session per worker
    single = FaceService.from_settings(settings.model_copy(update={"intra_threads": 1}))
    singles = None if args.no_candidates else candidate_embedders(settings, 1)
    ours.update({f"{key}[threads=1]": value for key, value in recogniser_speed(
        single.pipeline, pair[0], single.pipeline.detect(pair[0])[0], 3 * args.repeat, singles).items()})
    single.pool.shutdown()
    ours["compare_ms"] = median_ms(
        lambda: [service.largest_face_blocking(im) for im in pair], args.repeat
    )
    if not args.no_http:
        raw = tuple((args.data / p).read_bytes() for p in PAIR)
        # The server's default (one single-threaded session per worker) and, in the same run,
        # sessions using every core, so the default stays a measured choice.
        configs = {"default": {}, f"intra_threads={threads}": {"OPENFRS_INTRA_THREADS": str(threads)}}
        for label, env in configs.items():
            with tempfile.TemporaryDirectory() as tmp:
                http = http_load.compare_rps(raw[0], raw[1], settings.model_dir, Path(tmp),
                                             args.requests, args.concurrency, env)
            ours.update({f"{key}[{label}]": value for key, value in http.items()})

    if not args.no_peer and peer.available():
        theirs = peer.measure(images, pair, args.repeat)
        result["peer_face_recognition"] = theirs
        ratios: dict[str, float] = result["ratios"]  # type: ignore[assignment]
        for key, value in theirs.items():
            if key.startswith("detect_ms"):
                ratios[f"peer/ours {key}"] = value / ours[key]
        ratios["peer/ours embed_ms_per_face (ours batch 16)"] = (
            theirs["embed_ms_per_face"] * ours["embed_faces_per_s[batch=16]"] / 1000.0
        )
        ratios["peer/ours compare_ms"] = theirs["compare_ms"] / ours["compare_ms"]
    elif not args.no_peer:
        result["peer_face_recognition"] = "not installed (make bench installs it)"
    return result
