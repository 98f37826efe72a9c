"""One typed settings object; every field can be set with an OPENFRS_<NAME> environment variable."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _cache_dir() -> Path:
    return Path.home() / ".cache" / "openfrs"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OPENFRS_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("./data")
    model_dir: Path = Field(default_factory=lambda: _cache_dir() / "models")
    download_dir: Path = Field(default_factory=lambda: _cache_dir() / "downloads")
    model_pack: str = "default"
    auth: str = "on"  # "off" only for local development: every caller trusted, no quotas
    secret_key: str | None = None  # base64 of 32 bytes sealing secret keys; else <data_dir>/secret.key
    token_ttl_s: float = 86400.0  # X-Auth-Token lifetime (IAM's is 24 h)
    auth_clock_skew_s: float = 900.0  # X-Sdk-Date may be this far off the server's clock
    # Calls per second per project per API; 0 = no limit. A single-tenant server needs none (the
    # inference queue, max_pending_inferences, protects it from overload); a shared one sets a
    # default here or each project's own with `openfrs admin set-qps`.
    qps_default: float = 0.0
    metrics_token: str | None = None  # bearer token for /metrics; unset: loopback scrapers only
    redis_url: str | None = None  # shared QPS buckets for several replicas, e.g. redis://127.0.0.1:6379/0

    # Input limits (FRS: body < 8 MB, resolution < 4096x4096).
    max_body_bytes: int = 8 * 1024 * 1024
    max_image_side: int = 4096
    min_image_side: int = 16
    max_image_pixels: int = 4096 * 4096

    # image_url fetching: SSRF guard on by default.
    url_timeout_s: float = 5.0
    url_allow_hosts: list[str] = Field(default_factory=list)  # hostnames, IPs or CIDRs allowed
    url_max_redirects: int = 3

    # Face sets (FRS defaults: 10 sets per project, 100,000 faces per set).
    max_face_sets: int = 10
    default_face_set_capacity: int = 100_000
    max_face_set_capacity: int = 100_000  # may be raised to 10,000,000 and beyond
    # Vector-index snapshots: a cache of the store so a restart does not rebuild graphs.
    index_save_changes: int = 10_000  # unsaved adds/removes (or 5% of the set) before a snapshot
    index_save_interval_s: float = 600.0  # any unsaved change is snapshotted at least this often

    # Vision.
    min_face_px: int = 40
    max_faces: int = 100  # largest faces kept per image, like AWS DetectFaces
    # Throughput default: one single-threaded inference worker per core (measured best for
    # concurrent requests, docs/benchmarks.md); raise intra_threads for one-at-a-time latency.
    inference_workers: int = Field(default_factory=lambda: os.cpu_count() or 1)
    intra_threads: int = 1  # per ONNX session; 0 = every core
    max_pending_inferences: int = 0  # queued + running jobs before FRS.0033; 0 = 16 per worker

    @property
    def pack_dir(self) -> Path:
        return self.model_dir / self.model_pack

    @property
    def auth_enabled(self) -> bool:
        return self.auth.strip().lower() not in {"off", "0", "false", "no"}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
