"""Secret keys encrypted at rest (AES-256-GCM), so a copied accounts.db gives no working credential.

APIG signatures are HMACs keyed by the secret key itself, so the server must be able to recover it:
it cannot be stored as a one-way hash the way passwords are. The master key lives outside the
database: `OPENFRS_SECRET_KEY` (base64 of 32 bytes) when set, else `secret.key` beside the data
(created on first use, mode 0600). With PostgreSQL the variable is required (config.py): replicas
and the admin CLI each have their own data dir, and must all open what any of them sealed. Each
sealed value is bound to its access key (associated data), so sealed secrets cannot be swapped
between credentials.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_FILE = "secret.key"
NONCE_BYTES = 12


def load_master_key(data_dir: Path, from_env: str | None = None) -> bytes:
    """The configured key, or the data dir's key file (made on first use, readable by us only)."""
    if from_env:
        key = base64.b64decode(from_env)
        if len(key) != 32:
            raise ValueError("OPENFRS_SECRET_KEY must be the base64 of 32 bytes")
        return key
    path = Path(data_dir) / KEY_FILE
    if not path.exists():  # written aside, then linked in: a reader never sees a half-written key
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{KEY_FILE}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(AESGCM.generate_key(bit_length=256))
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process (the admin CLI, a replica) made it first: use theirs
        finally:
            temporary.unlink()
    key = path.read_bytes()
    if len(key) != 32:
        raise ValueError(f"{path} is not a 32-byte key")
    return key


class SecretBox:
    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(master_key)

    def seal(self, secret: str, bound_to: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, secret.encode(), bound_to.encode())

    def open(self, sealed: bytes, bound_to: str) -> str:
        """Raises cryptography's InvalidTag when the value or the key is not the one sealed."""
        return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], bound_to.encode()).decode()
