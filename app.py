"""Lianxin 连心 — ``python app.py`` runs the demo.

Seeds a demo organisation into an empty database, starts the live state and
the built-in simulator, and serves the Dash app on its FastAPI backend with
uvicorn at http://127.0.0.1:8050/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import gc
import logging
import socket
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import uvicorn
from dash import Dash, page_container
from fastapi import FastAPI
from sqlalchemy import Engine

from callbacks import admin, admin_import, kpi, live, login, tablet, topology, wall
from callbacks import map as map_view
from callbacks.context import ViewContext
from dashboard.access.users import FIRST_ADMIN, ensure_first_admin
from dashboard.api.app import create_api
from dashboard.api.edge import SecurityMiddleware, SecurityPolicy
from dashboard.demo.seed import seed_demo
from dashboard.map.regions import RegionFileError, RegionMap, load_regions, unknown_regions
from dashboard.runtime.core import Runtime
from dashboard.runtime.demo_feed import LiveSimulator
from dashboard.settings import Settings
from dashboard.store.engine import DEFAULT_DATABASE_URL, StoreError, open_store, org_count
from layouts.i18n import t

ROOT = Path(__file__).resolve().parent
log = logging.getLogger("lianxin")


class StartError(Exception):
    """A reason the demo cannot start, printed as one line."""


def parse_args(argv: Sequence[str] | None = None) -> Settings:
    p = argparse.ArgumentParser(prog="python app.py", description="Lianxin 连心 — live party-building command centre")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8050)
    p.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    p.add_argument("--no-simulate", action="store_true", help="do not run the built-in simulator")
    p.add_argument("--rate", type=float, default=20.0, help="simulated events per second (default %(default)s)")
    p.add_argument("--exhibition", action="store_true", help="exhibition mode: public level, self-running show")
    p.add_argument("--regions", type=Path, default=None, help="your own region boundaries (GeoJSON)")
    p.add_argument("--region-property", default="code", help="the region-code property in --regions (default %(default)s)")
    p.add_argument("--demo-members", type=int, default=50_000, help="size of the demo seeded into an empty database")
    p.add_argument(
        "--no-ws-compression", action="store_true",
        help="do not compress websocket messages (less server CPU per screen, ~2.7× the bytes; docs/benchmarks.md)",
    )
    sec = p.add_argument_group("access and hardening (docs/security.md)")
    sec.add_argument("--allowed-origins", default="", help="comma-separated extra origins allowed on websockets (https://wall.example.org)")
    sec.add_argument("--frame-origins", default="", help="comma-separated origins allowed to embed the pages in a frame")
    sec.add_argument("--trusted-proxies", default=None, help="addresses of reverse proxies whose X-Forwarded-For/-Proto are believed")
    sec.add_argument("--no-anonymous", action="store_true", help="no anonymous public view: a display token or sign-in is needed")
    sec.add_argument("--secure-cookies", action="store_true", help="mark cookies Secure even when the proxy speaks http to us")
    sec.add_argument("--ingest-rate-limit", type=float, default=2000.0, help="ingest frames a second per token and per address (default %(default)s)")
    sec.add_argument("--ws-idle-timeout", type=float, default=300.0, help="close websockets silent this many seconds (default %(default)s)")
    a = p.parse_args(argv)
    if a.rate <= 0:
        p.error("--rate must be greater than 0")
    if a.demo_members < 1:
        p.error("--demo-members must be at least 1")
    if a.ingest_rate_limit <= 0 or a.ws_idle_timeout <= 0:
        p.error("--ingest-rate-limit and --ws-idle-timeout must be greater than 0")
    return Settings(
        database_url=a.database_url,
        host=a.host,
        port=a.port,
        simulate=not a.no_simulate,
        simulate_rate=a.rate,
        exhibition=a.exhibition,
        regions_file=a.regions,
        region_property=a.region_property,
        demo_members=a.demo_members,
        allowed_origins=_origins(a.allowed_origins),
        frame_origins=_origins(a.frame_origins),
        trusted_proxies=a.trusted_proxies,
        anonymous_public=not a.no_anonymous,
        secure_cookies=a.secure_cookies,
        ingest_frames_per_s=a.ingest_rate_limit,
        ws_idle_timeout_s=a.ws_idle_timeout,
        ws_compression=not a.no_ws_compression,
    )


def _origins(text: str) -> tuple[str, ...]:
    return tuple(o.strip() for o in text.split(",") if o.strip())


def claim_port(host: str, port: int) -> socket.socket:
    """Bind the listening socket now, so a port in use is one clear line, not a traceback later."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartError(f"port {port} on {host} is already in use (another Lianxin? try --port)") from None
        raise StartError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    return sock


def prepare_store(settings: Settings) -> Runtime:
    engine = open_store(settings.database_url)
    if org_count(engine) == 0:
        log.info("empty database: seeding a demo organisation of %s members", f"{settings.demo_members:,}")
        summary = seed_demo(engine, members=settings.demo_members, seed=1, force=False, progress=True)
        log.info("seeded %s", summary)
    announce_first_admin(engine, settings)
    return Runtime.start(settings, engine)


def announce_first_admin(engine: Engine, settings: Settings) -> None:
    """On a store with no administrator, create ``admin`` with a random password and print it, this once only."""
    password = ensure_first_admin(engine)
    if password is not None:
        print(f"first start: sign in at http://{settings.host}:{settings.port}/login as {FIRST_ADMIN} "
              f"with the password {password} (shown only this once; reset it in /admin)", flush=True)


def warn_unknown_regions(regions: RegionMap, runtime: Runtime) -> None:
    missing = unknown_regions(regions, (n.region_code for n in runtime.tree.nodes.values() if n.region_code))
    if missing:
        log.warning("organisations in regions not in %s (shown without a map position): %s", regions.source, ", ".join(missing))


ViewRegistration = Callable[[ViewContext], None]


def build_app(runtime: Runtime, regions: RegionMap, extra_views: Sequence[ViewRegistration] = ()) -> Dash:
    """The FastAPI app with Lianxin's API, and Dash's pages on top of it.

    ``extra_views`` register further pages and callbacks (the benchmarks add a
    polling page this way); they must be registered before Dash sets itself up.
    """
    api = create_api(runtime, lifespan=_lifespan(runtime))
    app = Dash(
        __name__,
        server=api,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ROOT / "assets"),
        title=t("app.title"),
        update_title=None,
        suppress_callback_exceptions=True,
        assets_path_ignore=["desktop", "^apidocs$", "^swagger-ui$"],
        websocket_allowed_origins=list(runtime.settings.allowed_origins),
    )
    ctx = ViewContext(runtime=runtime, regions=regions)
    login.register(ctx)
    admin.register(ctx)
    admin_import.register(ctx)
    wall.register(ctx)
    kpi.register(ctx)
    map_view.register(ctx)
    topology.register(ctx)
    tablet.register(ctx)
    live.register(ctx)
    for register in extra_views:
        register(ctx)
    app.layout = page_container
    # Dash on FastAPI sets itself up (assets, scripts) on the first request to "/" or "/_dash-*" only:
    # without this, a first visit to /map or /kpi after a start gets a page with no assets.
    app._setup_server()
    return app


def harden(app: Dash, settings: Settings) -> SecurityMiddleware:
    """The app behind the security middleware: origins, rate and size limits, headers (docs/security.md)."""
    policy = SecurityPolicy.from_origins(
        settings.allowed_origins,
        settings.frame_origins,
        ingest_frames_per_s=settings.ingest_frames_per_s,
        ws_idle_timeout_s=settings.ws_idle_timeout_s,
    )
    return SecurityMiddleware(app.server, policy, script_hashes=app.csp_hashes)


def _lifespan(runtime: Runtime):  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def lifespan(_api: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(runtime.publisher.run())]
        if runtime.settings.simulate:
            tasks.append(asyncio.create_task(LiveSimulator(runtime, rate=runtime.settings.simulate_rate, seed=None).run()))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            runtime.close()

    return lifespan


def main(argv: Sequence[str] | None = None, extra_views: Sequence[ViewRegistration] = ()) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = parse_args(argv)
    try:
        sock = claim_port(settings.host, settings.port)
        regions = load_regions(settings.regions_file, settings.region_property)
        runtime = prepare_store(settings)
    except (StartError, StoreError, RegionFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    warn_unknown_regions(regions, runtime)
    app = build_app(runtime, regions, extra_views)
    # The live state is millions of long-lived objects: keep them out of the collector's young
    # generations (measured ~40% more ingest per CPU second, docs/benchmarks.md).
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    log.info("Lianxin serving at http://%s:%d/", settings.host, settings.port)
    config = uvicorn.Config(
        harden(app, settings),
        log_level="warning",
        ws_max_size=4 * 1024 * 1024,
        ws_per_message_deflate=settings.ws_compression,
        timeout_graceful_shutdown=3,
        proxy_headers=settings.trusted_proxies is not None,
        forwarded_allow_ips=settings.trusted_proxies or "",
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
