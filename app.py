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
import ipaddress
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

import uvicorn
from dash import Dash, page_container
from fastapi import FastAPI
from sqlalchemy import Engine

from callbacks import admin, admin_import, admin_reports, kpi, live, login, tablet, topology, wall
from callbacks import map as map_view
from callbacks.context import ViewContext
from dashboard.access.users import FIRST_ADMIN, ensure_first_admin
from dashboard.api.app import create_api
from dashboard.api.edge import SecurityMiddleware, SecurityPolicy, normalise_origin, origin_problem
from dashboard.api.protocol import protocol_class
from dashboard.api.roles import ROLES, RoleGate
from dashboard.api.viewer import CSRF_PURPOSE
from dashboard.demo.history import DETAIL_DAYS_AT_START, MAX_HISTORY_DAYS, default_history_days
from dashboard.demo.seed import seed_demo
from dashboard.live.redis_bus import BusUnavailable, check_redis
from dashboard.map.regions import RegionFileError, RegionMap, load_regions, unknown_regions
from dashboard.runtime.core import Runtime
from dashboard.runtime.demo_feed import LiveSimulator
from dashboard.runtime.workers import Supervisor, cluster_problem, shares_port
from dashboard.settings import Settings
from dashboard.store.engine import DEFAULT_DATABASE_URL, StoreError, make_engine, migrate, org_count
from dashboard.store.lease import StoreLease
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
    p.add_argument("--rate", type=float, default=None,
                   help="simulated events per second (default: the pace of the stored past at this hour, else 20)")
    p.add_argument("--exhibition", action="store_true", help="exhibition mode: public level, self-running show")
    p.add_argument("--regions", type=Path, default=None, help="your own region boundaries (GeoJSON)")
    p.add_argument("--region-property", default="code", help="the region-code property in --regions (default %(default)s)")
    p.add_argument("--redis-url", default=os.environ.get("LIANXIN_REDIS_URL") or None,
                   help="Redis for a cluster: processes on one database share one live state (docs/scale.md)")
    p.add_argument("--workers", type=int, default=1,
                   help="N cluster processes on this host sharing the port (needs --redis-url and PostgreSQL; docs/scale.md)")
    p.add_argument("--role", choices=ROLES, default="all",
                   help="what this process of a cluster serves: all (default), web, ingest or aggregate (docs/scale.md)")
    p.add_argument("--demo-members", type=int, default=50_000, help="size of the demo seeded into an empty database")
    p.add_argument(
        "--history-days", type=int, default=None,
        help="days of past activity seeded with the demo (default: back to the start of the current quarter "
        "or the previous month, whichever is earlier; 0: none)",
    )
    p.add_argument(
        "--no-ws-compression", action="store_true",
        help="do not compress websocket messages (less server CPU per screen, ~2.7× the bytes; docs/benchmarks.md)",
    )
    p.add_argument("--reports-dir", type=Path, default=None,
                   help="write the weekly (Monday 08:00) and monthly (1st, 08:00) reports into this folder (docs/reports.md)")
    sec = p.add_argument_group("access and hardening (docs/security.md)")
    sec.add_argument("--allowed-origins", default="", help="comma-separated extra origins allowed on websockets (https://wall.example.org)")
    sec.add_argument("--frame-origins", default="", help="comma-separated origins allowed to embed the pages in a frame")
    sec.add_argument("--trusted-proxies", default=None, help="addresses of reverse proxies whose X-Forwarded-For/-Proto are believed")
    sec.add_argument("--no-anonymous", action="store_true", help="no anonymous view, not even the demo's on 127.0.0.1")
    sec.add_argument("--public", action="store_true", help="anyone who reaches the port sees the public level of the whole tree without a token")
    sec.add_argument("--secret-key-file", type=Path, default=None, help="keep the ticket-signing key in this file (default: in the database)")
    sec.add_argument("--secure-cookies", action="store_true", help="mark cookies Secure even when the proxy speaks http to us")
    sec.add_argument("--ingest-rate-limit", type=float, default=2000.0, help="ingest frames a second per token and per address (default %(default)s)")
    sec.add_argument("--body-timeout", type=float, default=30.0, help="answer 408 to a request body stalled this many seconds (default %(default)s)")
    sec.add_argument("--header-timeout", type=float, default=10.0,
                     help="close a connection whose request head is not complete this many seconds after it began (default %(default)s)")
    sec.add_argument("--ws-idle-timeout", type=float, default=300.0, help="close websockets silent this many seconds (default %(default)s)")
    a = p.parse_args(argv)
    if a.rate is not None and a.rate <= 0:
        p.error("--rate must be greater than 0")
    if a.demo_members < 1:
        p.error("--demo-members must be at least 1")
    if a.history_days is not None and not 0 <= a.history_days <= MAX_HISTORY_DAYS:
        p.error(f"--history-days must be between 0 and {MAX_HISTORY_DAYS}")
    if a.role != "all" and not a.redis_url:
        p.error(f"--role {a.role} needs --redis-url: roles are parts of a cluster (docs/scale.md)")
    if a.ingest_rate_limit <= 0 or a.ws_idle_timeout <= 0 or a.body_timeout <= 0 or a.header_timeout <= 0:
        p.error("--ingest-rate-limit, --ws-idle-timeout, --body-timeout and --header-timeout must be greater than 0")
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
        demo_history_days=a.history_days,
        allowed_origins=_origins(a.allowed_origins),
        frame_origins=_origins(a.frame_origins),
        trusted_proxies=a.trusted_proxies,
        anonymous_public=anonymous_allowed(a),
        secure_cookies=a.secure_cookies,
        **({"secret_key_file": a.secret_key_file} if a.secret_key_file else {}),
        ingest_frames_per_s=a.ingest_rate_limit,
        ws_idle_timeout_s=a.ws_idle_timeout,
        body_timeout_s=a.body_timeout,
        header_timeout_s=a.header_timeout,
        ws_compression=not a.no_ws_compression,
        redis_url=a.redis_url,
        role=a.role,
        reports_dir=a.reports_dir,
    )


def parse_workers(argv: Sequence[str]) -> int:
    """``--workers`` alone (the supervisor needs nothing else of the command line to decide)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--workers", type=int, default=1)
    return int(p.parse_known_args(argv)[0].workers)


def anonymous_allowed(a: argparse.Namespace) -> bool:
    """Closed by default (docs/security.md): anonymous visitors get the public level only when asked
    (--public, --exhibition) or in the one-command demo (simulator on, bound to loopback, no proxy in front)."""
    if a.no_anonymous:
        return False
    return a.public or a.exhibition or is_loopback_demo(a.host, simulate=not a.no_simulate, proxied=a.trusted_proxies is not None)


def is_loopback_demo(host: str, *, simulate: bool, proxied: bool) -> bool:
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    return simulate and loopback and not proxied


def announce_access(settings: Settings) -> None:
    """Say at start who may look without signing in."""
    if not settings.anonymous_public:
        log.info("closed: pages ask to sign in and the API answers 401 without a token or session (--public opens a public-level wall)")
    elif settings.exhibition:
        log.info("exhibition: anyone who reaches this port sees the public level (no personal data) without a token")
    elif is_loopback_demo(settings.host, simulate=settings.simulate, proxied=settings.trusted_proxies is not None):
        log.info("demo: anyone on this machine sees the public level without signing in (%s only; --no-anonymous closes it)", settings.host)
    else:
        log.info("public: anyone who reaches this port sees the public level of the whole tree without a token (--public)")


def _origins(text: str) -> tuple[str, ...]:
    return tuple(o.strip() for o in text.split(",") if o.strip())


def claim_port(host: str, port: int, shared: bool = False) -> socket.socket:
    """Bind the socket now, so a port in use is one clear line, not a traceback later.

    It listens only once the live state is built (uvicorn's start-up): until then a
    connection is refused at once rather than left hanging in the backlog (docs/deploy.md).
    ``shared``: the port is shared with the other workers of ``--workers`` (SO_REUSEPORT).
    """
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartError(f"port {port} on {host} is already in use (another Lianxin? try --port)") from None
        raise StartError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    return sock


def prepare_store(settings: Settings, regions: RegionMap | None = None) -> Runtime:
    engine = make_engine(settings.database_url)
    role = "a Lianxin cluster member" if settings.redis_url else "Lianxin"
    lease = StoreLease.claim(engine, f"{role} at {settings.host}:{settings.port} (pid {os.getpid()})", cluster=bool(settings.redis_url))
    migrate(engine)  # after the lease: never migrate a database another process serves alone
    if org_count(engine) == 0:
        log.info("empty database: seeding a demo organisation of %s members", f"{settings.demo_members:,}")
        days = settings.demo_history_days
        summary = seed_demo(
            engine, members=settings.demo_members, seed=1, force=False, progress=True,
            history_days=default_history_days() if days is None else days, detail_days=DETAIL_DAYS_AT_START,
        )
        log.info("seeded %s", summary)
    announce_first_admin(engine, settings)
    runtime = Runtime.start(settings, engine, regions)
    runtime.lease = lease
    return runtime


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
    lacking = regions.missing_divisions()
    if lacking:
        log.warning("%s lacks provincial-level divisions, so its map of China is incomplete: %s", regions.source,
                    ", ".join(f"{p.code} {p.name}" for p in lacking))


def warn_unmatchable_origins(settings: Settings) -> None:
    for entry in settings.allowed_origins:
        problem = origin_problem(entry)
        if problem is not None:
            log.warning("allowed origin %r can never match a browser: it %s", entry, problem)


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
        websocket_allowed_origins=[normalise_origin(o) for o in runtime.settings.allowed_origins],  # Dash compares strings
    )
    ctx = ViewContext(runtime=runtime, regions=regions)
    login.register(ctx)
    admin.register(ctx)
    admin_import.register(ctx)
    admin_reports.register(ctx)
    wall.register(ctx)
    kpi.register(ctx)
    map_view.register(ctx)
    topology.register(ctx)
    tablet.register(ctx)
    live.register(ctx)
    for register in extra_views:
        register(ctx)
    app.layout = page_container
    # Dash on FastAPI sets itself up (assets, scripts) and runs its pages router's set-up on the first
    # request to "/" or "/_dash-*" only: without this, a first visit to /map or /kpi after a start gets
    # a page with no assets, or without the router's inline title script while its callbacks (fetched
    # next, from /_dash-dependencies) call it ("TypeError: Cannot read properties of undefined").
    route_pages_now(app)
    app._setup_server()
    return app


def route_pages_now(app: Dash) -> None:
    """Run Dash's before-request hooks (the pages router registering its callbacks) once, before any request.

    Dash's FastAPI backend keeps them in a private list and runs them only for "/" and "/_dash-*";
    each hook sets itself up once and then returns at once, so running them here changes nothing later.
    """
    hooks: Sequence[Callable[[], object]] = getattr(app.backend, "_before_request_funcs", ())
    for hook in hooks:
        result = hook()
        if asyncio.iscoroutine(result):
            asyncio.run(result)


def harden(app: Dash, settings: Settings) -> SecurityMiddleware:
    """The app behind the security middleware: origins, rate and size limits, headers (docs/security.md)."""
    policy = SecurityPolicy.from_origins(
        settings.allowed_origins,
        settings.frame_origins,
        ingest_frames_per_s=settings.ingest_frames_per_s,
        ws_idle_timeout_s=settings.ws_idle_timeout_s,
        closed=not settings.anonymous_public,
        body_timeout_s=settings.body_timeout_s,
    )
    signer = app.server.state.runtime.signer
    return SecurityMiddleware(app.server, policy, script_hashes=app.csp_hashes,
                              csrf_of_session=lambda secret: signer.derive(CSRF_PURPOSE, secret))


async def _report_schedule(runtime: Runtime) -> None:
    """Scheduled reports; imported only when configured (the report drawing loads matplotlib)."""
    import time
    from zoneinfo import ZoneInfo

    from dashboard.report.schedule import ReportSchedule

    assert runtime.settings.reports_dir is not None
    schedule = ReportSchedule(runtime.settings.reports_dir)
    await schedule.run(runtime.engine, lambda: runtime.tree, ZoneInfo(runtime.settings.timezone), time.time)


def _lifespan(runtime: Runtime):  # type: ignore[no-untyped-def]
    @contextlib.asynccontextmanager
    async def lifespan(_api: FastAPI) -> AsyncIterator[None]:
        tasks = [asyncio.create_task(task) for task in runtime.background()]
        if runtime.settings.simulate and runtime.settings.role in ("all", "ingest"):
            tasks.append(asyncio.create_task(LiveSimulator(runtime, rate=runtime.settings.simulate_rate, seed=None).run()))
        if runtime.settings.reports_dir is not None:
            tasks.append(asyncio.create_task(_report_schedule(runtime)))
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
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its per-start chatter would bury a refusal's one line
    settings = parse_args(argv)
    workers = parse_workers(sys.argv[1:] if argv is None else argv)
    if workers != 1:
        return supervise(settings, workers, sys.argv[1:] if argv is None else argv)
    # A start allocates millions of long-lived objects (the tree, the roll's index, the live state) and no
    # garbage worth a collection: the collector's passes over them cost more than the loading itself
    # (docs/benchmarks.md, "Start-up"). It is back on, with those objects frozen, once the app is built.
    gc.disable()
    try:
        sock = claim_port(settings.host, settings.port, shared=shares_port())
        if settings.redis_url:
            check_redis(settings.redis_url)  # before any seeding: a wrong --redis-url is one line, at once
        regions = load_regions(settings.regions_file, settings.region_property)
        runtime = prepare_store(settings, regions)
    except (StartError, StoreError, RegionFileError, BusUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    warn_unknown_regions(regions, runtime)
    announce_access(settings)
    warn_unmatchable_origins(settings)
    app = build_app(runtime, regions, extra_views)
    # The live state is millions of long-lived objects: keep them out of the collector's young
    # generations (measured ~40% more ingest per CPU second, docs/benchmarks.md).
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)
    gc.enable()
    log.info("Lianxin serving at http://%s:%d/", settings.host, settings.port)
    served = harden(app, settings)
    config = uvicorn.Config(
        served if settings.role == "all" else RoleGate(served, settings.role),
        http=protocol_class(settings.header_timeout_s),
        log_level="warning",
        ws_max_size=4 * 1024 * 1024,
        ws_per_message_deflate=settings.ws_compression,
        timeout_graceful_shutdown=3,
        proxy_headers=settings.trusted_proxies is not None,
        forwarded_allow_ips=settings.trusted_proxies or "",
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def supervise(settings: Settings, workers: int, argv: Sequence[str]) -> int:
    """``--workers N``: check what the workers need, hold the port, and run them (dashboard/runtime/workers.py)."""
    problem = cluster_problem(workers, settings.database_url, settings.redis_url)
    try:
        if problem is not None:
            raise StartError(problem)
        sock = claim_port(settings.host, settings.port, shared=True)
        assert settings.redis_url is not None
        check_redis(settings.redis_url)
    except (StartError, BusUnavailable) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return Supervisor(str(ROOT / "app.py"), argv, workers, settings.host, settings.port, sock).run()


if __name__ == "__main__":
    sys.exit(main())
