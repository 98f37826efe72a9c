"""One typed settings object; every field can be set with an OPENFRS_<NAME> environment variable."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
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
    # Face sets, faces and accounts in PostgreSQL instead of the data dir's SQLite files, so
    # replicas share them (store/factory.py); unset: the embedded default.
    database_url: str | None = None  # postgresql://user:password@host:5432/dbname
    database_schema: str = "openfrs"  # made, with its tables, on first use
    database_pool: int = Field(10, ge=1)  # connections per store per process
    # Vector indexes in Milvus (one collection per face set) instead of each process's memory, so
    # a face one replica adds is found by the others at once (service/index_providers.py).
    vector_url: str | None = None  # http://HOST:19530; needs database_url (replicas share both)
    vector_prefix: str = Field("openfrs", pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")  # collection names
    # The longest a request waits on PostgreSQL (a pooled connection) or on one Milvus call before
    # it answers FRS.0050 (503) instead of hanging while that dependency is down.
    dependency_timeout_s: float = Field(5.0, gt=0, le=300)

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

    @field_validator("database_url")
    @classmethod
    def _postgres_url(cls, url: str | None) -> str | None:
        if not url:  # an empty variable (a compose file's default) means unset
            return None
        if not url.startswith(("postgresql://", "postgres://")):
            raise ValueError("OPENFRS_DATABASE_URL must be a PostgreSQL URL, postgresql://user:password@"
                             f"host:5432/dbname, not one starting {url.split(':', 1)[0][:20]!r}")
        return url

    @field_validator("vector_url")
    @classmethod
    def _milvus_url(cls, url: str | None) -> str | None:
        if not url:
            return None
        if not url.startswith(("http://", "https://")):
            raise ValueError("OPENFRS_VECTOR_URL must be a Milvus address, http://host:19530, not one "
                             f"starting {url.split(':', 1)[0][:20]!r}")
        return url

    @model_validator(mode="after")
    def _vectors_beside_a_shared_database(self) -> Settings:
        """Milvus holds vectors keyed by the database's face keys: with the embedded SQLite store
        two servers would write one collection from two unrelated key spaces."""
        if self.vector_url is not None and self.database_url is None:
            raise ValueError("OPENFRS_VECTOR_URL needs OPENFRS_DATABASE_URL: the vectors in Milvus are "
                             "keyed by the faces in that database")
        return self

    @model_validator(mode="after")
    def _shared_master_key(self) -> Settings:
        """Replicas and `openfrs admin` on one database must seal and open secret keys with one
        master key: a key file per data dir would make each one's credentials useless to the rest."""
        if self.database_url is not None and not self.secret_key:
            raise ValueError("OPENFRS_SECRET_KEY is required with OPENFRS_DATABASE_URL: every replica "
                             "and `openfrs admin` must share the master key that seals secret keys "
                             "(base64 of 32 bytes, e.g. from `openssl rand -base64 32`)")
        return self

    @property
    def embedded(self) -> bool:
        """SQLite files in the data dir (one server per data dir), not a shared database."""
        return self.database_url is None

    @property
    def pack_dir(self) -> Path:
        return self.model_dir / self.model_pack

    @property
    def auth_enabled(self) -> bool:
        return self.auth.strip().lower() not in {"off", "0", "false", "no"}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
