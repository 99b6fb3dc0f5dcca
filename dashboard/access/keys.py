"""The server's signing key: stable across restarts, so screens reconnect with the tickets they hold.

A wall's page carries a scope ticket signed by the server; after a restart the
page's stream callback comes back with the same ticket, which must still
verify. The key comes from ``LIANXIN_SECRET_KEY`` when set (required when
several hosts serve one installation), else from a file created once with
mode 0600 (``var/secret.key`` by default).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from pathlib import Path

DEFAULT_KEY_FILE = Path("var/secret.key")


def load_signing_key(key_file: Path = DEFAULT_KEY_FILE) -> bytes:
    from_env = os.environ.get("LIANXIN_SECRET_KEY")
    if from_env:
        return hashlib.sha256(from_env.encode()).digest()
    try:
        return bytes.fromhex(key_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        pass
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    return key
