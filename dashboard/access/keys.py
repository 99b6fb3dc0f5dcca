"""The server's signing key: one per deployment, stable across restarts, never in the working directory.

A wall's page carries a scope ticket signed by the server; after a restart the
page's stream callback comes back with the same ticket, which must still
verify — and a ticket of another deployment must not. The key comes from, in
this order:

1. ``LIANXIN_SECRET_KEY`` (any text; hashed to the key) — for several hosts
   that must share one key without sharing a database;
2. a key file given with ``--secret-key-file`` / ``LIANXIN_SECRET_KEY_FILE``,
   created once with mode 0600 if missing;
3. else the deployment's own database (``server_secrets``), generated at the
   first start — so two servers started from the same folder on different
   databases never accept each other's tickets, and every process of one
   deployment (same database) shares the key.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
from pathlib import Path

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from dashboard.store.models import ServerSecret

SIGNING_KEY = "ticket-signing"


def load_signing_key(engine: Engine, key_file: Path | None = None) -> bytes:
    """This deployment's 32-byte signing key (see the module's docstring for where it comes from)."""
    from_env = os.environ.get("LIANXIN_SECRET_KEY")
    if from_env:
        return hashlib.sha256(from_env.encode()).digest()
    if key_file is not None:
        return _file_key(key_file)
    return _stored_key(engine)


def _file_key(key_file: Path) -> bytes:
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


def _stored_key(engine: Engine) -> bytes:
    query = select(ServerSecret.value).where(ServerSecret.name == SIGNING_KEY)
    with engine.connect() as conn:
        found = conn.execute(query).scalar_one_or_none()
    if found is not None:
        return bytes.fromhex(found)
    try:
        with engine.begin() as conn:
            conn.execute(insert(ServerSecret).values(name=SIGNING_KEY, value=secrets.token_bytes(32).hex(),
                                                     created_at=dt.datetime.now(dt.UTC)))
    except IntegrityError:
        pass  # another process of this deployment made it first: use theirs
    with engine.connect() as conn:
        return bytes.fromhex(conn.execute(query).scalar_one())
