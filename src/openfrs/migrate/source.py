"""The embedded data dir a migration reads: checked, held against a server, and its master key.

The data dir is held with the server's own lock (store/data_dir_lock.py) for the whole run: a
server still writing to it would add faces or usage counts after they were copied."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from pathlib import Path

from openfrs.store.accounts import AccountStore
from openfrs.store.data_dir_lock import DataDirBusy, hold_data_dir
from openfrs.store.factory import ACCOUNTS_FILE, INDEX_DIR
from openfrs.store.secret_box import KEY_FILE, SecretBox
from openfrs.store.sqlite import METADATA_FILE, SQLiteMetadataStore

SOURCE_KEY_ENV = "OPENFRS_SOURCE_SECRET_KEY"  # the source server's OPENFRS_SECRET_KEY, if it had one


class Refused(Exception):
    """The migration cannot start or go on as asked (exit 2); what was copied so far is whole."""


@dataclass
class Source:
    data_dir: Path
    metadata: SQLiteMetadataStore | None  # None: the data dir has no openfrs.db
    accounts: AccountStore | None  # None: no accounts.db
    box: SecretBox | None  # None: no master key found (fine while no credential needs it)

    @property
    def index_dir(self) -> Path:
        return self.data_dir / INDEX_DIR

    def close(self) -> None:
        for store in (self.metadata, self.accounts):
            if store is not None:
                store.close()


def open_source(data_dir: Path, key_file: Path | None, key_b64: str | None) -> Source:
    """Refused unless the folder is an OpenFRS data dir no other process holds."""
    data_dir = Path(data_dir)
    files = [data_dir / METADATA_FILE, data_dir / ACCOUNTS_FILE]
    if not any(path.is_file() for path in files):
        raise Refused(f"{data_dir} is not an OpenFRS data dir (no {METADATA_FILE} or {ACCOUNTS_FILE})")
    try:
        hold_data_dir(data_dir, "migrate")
    except DataDirBusy as busy:
        raise Refused(f"{busy}: stop that server first (it would go on writing what is being "
                      "copied)") from None
    metadata = SQLiteMetadataStore(files[0]) if files[0].is_file() else None
    accounts = AccountStore(files[1]) if files[1].is_file() else None
    return Source(data_dir, metadata, accounts, _box(data_dir, key_file, key_b64))


def _box(data_dir: Path, key_file: Path | None, key_b64: str | None) -> SecretBox | None:
    """The source's master key: given in base64, else its key file; never made (load_master_key
    would write a new one, which opens nothing)."""
    if key_b64:
        try:
            key = base64.b64decode(key_b64, validate=True)
        except binascii.Error:
            key = b""
        where = SOURCE_KEY_ENV
    else:
        path = key_file or data_dir / KEY_FILE
        if not path.is_file():
            if key_file is not None:
                raise Refused(f"no key file at {key_file}")
            return None
        key, where = path.read_bytes(), str(path)
    if len(key) != 32:
        raise Refused(f"{where} is not a master key (32 bytes{', in base64' if key_b64 else ''})")
    return SecretBox(key)
