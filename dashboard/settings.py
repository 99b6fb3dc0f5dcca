"""Runtime settings: one frozen object built from the command line and environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.store import DEFAULT_DATABASE_URL


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8050
    simulate: bool = True
    simulate_rate: float = 20.0
    bus_url: str | None = None
    exhibition: bool = False
    regions_file: Path | None = None
    region_property: str = "code"
    demo_members: int = 50_000
    frame_hz: float = 4.0
    timezone: str = "Asia/Shanghai"
    allowed_origins: tuple[str, ...] = ()
    ingest_token: str | None = field(default_factory=lambda: os.environ.get("LIANXIN_INGEST_TOKEN") or None)
    admin_token: str | None = field(default_factory=lambda: os.environ.get("LIANXIN_ADMIN_TOKEN") or None)
