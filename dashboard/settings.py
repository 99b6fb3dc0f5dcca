"""Runtime settings: one frozen object built from the command line and environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.store.engine import DEFAULT_DATABASE_URL


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    host: str = "127.0.0.1"
    port: int = 8050
    simulate: bool = True
    simulate_rate: float | None = None  # None: the stored past's pace (dashboard/runtime/demo_feed.py)
    exhibition: bool = False
    regions_file: Path | None = None
    region_property: str = "code"
    demo_members: int = 50_000
    demo_history_days: int | None = None  # past seeded with the demo; None: what its periods need (docs/demo-data.md)
    frame_hz: float = 4.0
    timezone: str = "Asia/Shanghai"
    snapshot_interval_s: float = 300.0  # live-state snapshots (dashboard/live/aggregator/snapshot.py)
    # Who may connect and embed (docs/security.md): extra websocket origins besides the page's own,
    # origins allowed to frame the pages, proxies whose X-Forwarded-For is believed.
    allowed_origins: tuple[str, ...] = ()
    frame_origins: tuple[str, ...] = ()
    trusted_proxies: str | None = None
    # Anonymous viewers get the public level of the whole tree (--public, --exhibition, the loopback demo);
    # off, the default: a token or sign-in is needed (docs/security.md, "What is open").
    anonymous_public: bool = False
    secure_cookies: bool = False
    ingest_frames_per_s: float = 2000.0
    ws_idle_timeout_s: float = 300.0
    body_timeout_s: float = 30.0
    header_timeout_s: float = 10.0  # a request head not complete within this is closed (dashboard/api/protocol.py)
    # permessage-deflate on websockets: ~2.7× fewer bytes to tablets on slow links, for ~40 % more
    # server CPU per screen (measured in docs/benchmarks.md, "Live screens").
    ws_compression: bool = True
    # Where the ticket-signing key lives when not in the database (docs/security.md, "Keys").
    secret_key_file: Path | None = field(
        default_factory=lambda: Path(os.environ["LIANXIN_SECRET_KEY_FILE"]) if os.environ.get("LIANXIN_SECRET_KEY_FILE") else None
    )
    ingest_token: str | None = field(default_factory=lambda: os.environ.get("LIANXIN_INGEST_TOKEN") or None)
    admin_token: str | None = field(default_factory=lambda: os.environ.get("LIANXIN_ADMIN_TOKEN") or None)
    # A cluster (docs/scale.md): processes on one database sharing one live state through this Redis.
    redis_url: str | None = field(default_factory=lambda: os.environ.get("LIANXIN_REDIS_URL") or None)
    # What this process of a cluster serves: all, web, ingest or aggregate (dashboard/api/roles.py).
    role: str = "all"
    # Scheduled reports (docs/reports.md): written into this folder when set (weekly and monthly, 08:00).
    reports_dir: Path | None = None
