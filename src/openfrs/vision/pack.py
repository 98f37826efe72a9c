"""A model pack on disk: a folder of converted models described by manifest.json."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1


class PackError(RuntimeError):
    """The pack is missing, incomplete or does not match its manifest."""


@dataclass(frozen=True)
class ModelEntry:
    """One model of a pack: which implementation reads it, its file(s) and their parameters."""

    role: str  # detector | landmarks | embedder | ...
    family: str  # picks the implementation, e.g. "blazeface", "dlib_shape_predictor"
    files: dict[str, str]  # logical name -> file name inside the pack
    sha256: dict[str, str]
    version: str
    params: dict

    def path(self, root: Path, name: str = "model") -> Path:
        return root / self.files[name]


@dataclass(frozen=True)
class ModelPack:
    root: Path
    name: str
    version: str  # the installer's pack version; a different one means "rebuild"
    models: dict[str, ModelEntry]
    sources: list[dict]

    def entry(self, role: str) -> ModelEntry:
        if role not in self.models:
            raise PackError(f"pack {self.name!r} at {self.root} has no {role} model")
        return self.models[role]

    def verify(self) -> list[str]:
        """Return a list of problems (missing files, digest mismatches); empty when all is well."""
        problems = []
        for entry in self.models.values():
            for logical, filename in entry.files.items():
                path = self.root / filename
                if not path.exists():
                    problems.append(f"{entry.role}.{logical}: {filename} missing")
                elif file_sha256(path) != entry.sha256.get(logical):
                    problems.append(f"{entry.role}.{logical}: {filename} sha256 mismatch")
        return problems


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_pack(root: Path) -> ModelPack:
    """Read a pack's manifest; any malformed manifest is a PackError (the installer rebuilds)."""
    manifest_path = root / MANIFEST
    if not manifest_path.exists():
        raise PackError(f"no model pack at {root}: run `openfrs models install`")
    try:
        data = json.loads(manifest_path.read_text())
        if data.get("format") != MANIFEST_FORMAT:
            raise PackError(f"{manifest_path}: unsupported manifest format {data.get('format')!r}")
        models = {
            role: ModelEntry(role=role, family=m["family"], files=m["files"], sha256=m["sha256"],
                             version=m["version"], params=m.get("params", {}))
            for role, m in data["models"].items()
        }
        return ModelPack(root=root, name=data["pack"], version=str(data.get("pack_version", "")),
                         models=models,
                         sources=data.get("sources", []))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PackError(f"{manifest_path} is malformed ({exc!r}): run `openfrs models install`") from exc


def load_verified_pack(root: Path) -> ModelPack:
    """The pack at `root`, refusing to start on a missing or altered model file."""
    pack = load_pack(root)
    problems = pack.verify()
    if problems:
        raise PackError("model pack does not verify: " + "; ".join(problems))
    return pack
