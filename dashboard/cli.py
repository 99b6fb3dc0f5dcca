"""``python -m dashboard``: seed, simulate, token (create, list, revoke), user create, import, export, report.

Every command takes ``--database-url`` (default ``sqlite:///var/lianxin.db``).
Errors a person can fix are printed as one line on stderr with a non-zero exit;
no tracebacks for them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from dashboard.store.engine import DEFAULT_DATABASE_URL, StoreError, open_store


class CliError(Exception):
    """A problem the user can fix; printed as one line."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _history_days(text: str) -> int:
    from dashboard.demo.history import MAX_HISTORY_DAYS

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of days, got {text!r}") from None
    if not 0 <= value <= MAX_HISTORY_DAYS:
        raise argparse.ArgumentTypeError(f"must be between 0 and {MAX_HISTORY_DAYS}, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text}")
    return value


def _cmd_seed(args: argparse.Namespace) -> int:
    from dashboard.demo.seed import SeedRefused, seed_demo

    engine = open_store(args.database_url)
    try:
        summary = seed_demo(
            engine, members=args.members, seed=args.seed, force=args.force, progress=True, history_days=args.history_days
        )
    except SeedRefused as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    from dashboard.demo.client import SimulationError, run_simulation

    try:
        summary = run_simulation(
            url=args.url,
            rate=args.rate,
            duration=args.duration,
            batch=args.batch,
            token=args.token,
            database_url=args.database_url,
            seed=args.seed,
            events=args.events,
        )
    except SimulationError as exc:
        if exc.summary is not None:  # what was sent and answered before it gave up
            print(json.dumps(exc.summary))
        raise CliError(str(exc)) from None
    print(json.dumps(summary))
    return 0


def _cmd_token_create(args: argparse.Namespace) -> int:
    from dashboard.access.tokens import TokenError, create_token

    engine = open_store(args.database_url)
    try:
        token = create_token(
            engine, role=args.role, org_code=args.org, level=args.level, label=args.label, days=args.days
        )
    except TokenError as exc:
        raise CliError(str(exc)) from None
    print(token)
    return 0


def _admin_ops(database_url: str):  # type: ignore[no-untyped-def]
    from dashboard.access.admin import AdminOps
    from dashboard.access.audit import AuditLog
    from dashboard.store.tree import OrgTree

    engine = open_store(database_url)
    return AdminOps(engine, AuditLog(engine), OrgTree.load(engine))


def _cmd_token_list(args: argparse.Namespace) -> int:
    for row in _admin_ops(args.database_url).tokens():
        print(json.dumps(row, ensure_ascii=False))
    return 0


def _cmd_token_revoke(args: argparse.Namespace) -> int:
    from dashboard.access.admin import AdminError

    try:
        _admin_ops(args.database_url).revoke_token("cli", args.id)
    except AdminError as exc:
        raise CliError(str(exc)) from None
    return 0


def _cmd_user_create(args: argparse.Namespace) -> int:
    """Prints the generated password (the only time it is shown)."""
    from dashboard.access.admin import AdminError

    try:
        _, password = _admin_ops(args.database_url).create_user(
            "cli", username=args.username, role=args.role, org_code=args.org, level=args.level
        )
    except AdminError as exc:
        raise CliError(str(exc)) from None
    print(password)
    return 0


def _import_sheets(values: list[str]) -> dict[str, str]:
    """``--sheet`` values: ``KIND=SHEET`` for orgs, members or links; a bare ``SHEET`` is the members file's."""
    sheets = {}
    for value in values:
        kind, _, sheet = value.partition("=")
        if sheet and kind in ("orgs", "members", "links"):
            sheets[kind] = sheet
        else:
            sheets["members"] = value
    return sheets


def _cmd_import(args: argparse.Namespace) -> int:
    from dashboard.transfer.importer import ImportFiles, run_import
    from dashboard.transfer.importer.console import terminal_progress
    from dashboard.transfer.importer.mapping import MappingError, load_mapping

    try:
        mappings = load_mapping(args.mapping) if args.mapping else {}
    except MappingError as exc:
        raise CliError(str(exc)) from None
    engine = open_store(args.database_url)
    files = ImportFiles(orgs=args.orgs, members=args.members, links=args.links, sheets=_import_sheets(args.sheet),
                        mappings=mappings)
    try:
        with terminal_progress(enabled=not args.quiet) as progress:
            outcome = run_import(engine, files, dry_run=args.dry_run, progress=progress)
    except StoreError:
        raise
    except Exception as exc:  # a bug: the user still gets one line and the summary, never a traceback
        print(f"the import stopped on an unexpected error ({type(exc).__name__}); nothing was written — "
              "please report it with the files")
        print(json.dumps({"ok": False, "errors": 1, "warnings": 0, "written": False, "dry_run": args.dry_run}))
        return 2
    for line in outcome.plan.report.lines(args.lang):
        print(line)
    print(json.dumps({**outcome.summary(), "dry_run": args.dry_run}, ensure_ascii=False))
    return 0 if outcome.plan.report.ok else 1


def _cmd_export(args: argparse.Namespace) -> int:
    from dashboard.transfer.export import FORMATS, ExportError, export_subtree

    engine = open_store(args.database_url)
    formats = FORMATS if args.format == "both" else (args.format,)
    try:
        summary = export_subtree(engine, args.out, org_code=args.org, level=args.level, lang=args.lang, formats=formats)
    except ExportError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(summary, ensure_ascii=False))
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfo

    from dashboard.report.make import REPORT_ERRORS, make_report
    from dashboard.settings import Settings

    engine = open_store(args.database_url)
    try:
        out = make_report(engine, args.org, args.period, args.out, ZoneInfo(Settings().timezone), args.lang, args.level)
    except REPORT_ERRORS as exc:
        raise CliError(str(exc)) from None
    print(json.dumps({"report": str(out), "org": args.org, "period": args.period, "lang": args.lang, "level": args.level}))
    return 0


class _OneLineErrors(argparse.ArgumentParser):
    """Usage mistakes as one line on stderr (exit 2), like every other error here."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineErrors(prog="python -m dashboard", description="Lianxin 连心 — command line")
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="SQLAlchemy URL (default %(default)s)")
    sub = parser.add_subparsers(dest="command", required=True)

    seed = sub.add_parser("seed", parents=[db], help="create a demo organisation of N members")
    seed.add_argument("--members", type=_positive_int, required=True, help="number of party members")
    seed.add_argument("--seed", type=int, default=1, help="random seed (same seed, same organisation)")
    seed.add_argument("--force", action="store_true", help="replace an organisation already in the database")
    seed.add_argument(
        "--history-days", type=_history_days, default=0, metavar="D",
        help="also write D days of past activity up to now (0–3650, default %(default)s; docs/demo-data.md)",
    )
    seed.set_defaults(func=_cmd_seed)

    sim = sub.add_parser("simulate", parents=[db], help="send a realistic event stream to a server")
    sim.add_argument("--url", required=True, help="ws://HOST:PORT/ws/ingest")
    sim.add_argument("--rate", type=_positive_float, required=True, help="events per second")
    sim.add_argument("--duration", type=_positive_float, default=None, help="seconds of sending (then the last answers are awaited)")
    sim.add_argument("--events", type=_positive_int, default=None, help="events to send (with --duration: whichever ends first)")
    sim.add_argument("--batch", type=_positive_int, default=100, help="events per frame (default %(default)s)")
    sim.add_argument("--token", default=None, help="ingest token (default: $LIANXIN_INGEST_TOKEN)")
    sim.add_argument("--seed", type=int, default=None, help="random seed for the stream")
    sim.set_defaults(func=_cmd_simulate)

    token = sub.add_parser("token", help="manage tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", parents=[db], help="create a token and print it")
    create.add_argument("--role", choices=["ingest", "display", "admin"], required=True)
    create.add_argument("--org", default=None, help="organisation code of the token's subtree (default: the top)")
    create.add_argument("--level", choices=["full", "public"], default="full")
    create.add_argument("--label", default=None, help="a note on what the token is for")
    create.add_argument("--days", type=_positive_int, default=None, help="expire after this many days")
    create.set_defaults(func=_cmd_token_create)
    listing = token_sub.add_parser("list", parents=[db], help="list tokens (never the tokens themselves), one JSON line each")
    listing.set_defaults(func=_cmd_token_list)
    revoke = token_sub.add_parser("revoke", parents=[db], help="revoke a token by its number (see token list)")
    revoke.add_argument("id", type=_positive_int)
    revoke.set_defaults(func=_cmd_token_revoke)

    user = sub.add_parser("user", help="manage users")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    user_create = user_sub.add_parser("create", parents=[db], help="create a user and print the generated password")
    user_create.add_argument("--username", required=True)
    user_create.add_argument("--role", choices=["admin", "leader", "staff"], required=True)
    user_create.add_argument("--org", default=None, help="organisation code of the user's subtree (default: the top)")
    user_create.add_argument("--level", choices=["full", "public"], default="full")
    user_create.set_defaults(func=_cmd_user_create)

    imp = sub.add_parser("import", parents=[db], help="import an organisation tree, roster and links (CSV or .xlsx)")
    imp.add_argument("--orgs", type=Path, required=True, help="the organisations file")
    imp.add_argument("--members", type=Path, default=None, help="the members file (the roster)")
    imp.add_argument("--links", type=Path, default=None, help="the cross-links (共建) file")
    imp.add_argument("--dry-run", action="store_true", help="check and report what would change; write nothing")
    imp.add_argument("--lang", choices=["en", "zh"], default="en", help="language of the report (default %(default)s)")
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    imp.add_argument("--sheet", action="append", default=[], metavar="[KIND=]SHEET",
                     help="the workbook sheet to read (members unless KIND= orgs or links); default: the one with the table")
    imp.add_argument("--mapping", type=Path, default=None,
                     help="a JSON column mapping (header as written → column), as /admin/import saves it")
    imp.set_defaults(func=_cmd_import)

    exp = sub.add_parser("export", parents=[db], help="export a subtree's tree, roster, links and KPIs")
    exp.add_argument("--out", type=Path, required=True, help="directory to write into")
    exp.add_argument("--org", default=None, help="organisation code of the subtree (default: the top)")
    exp.add_argument("--level", choices=["full", "public"], default="full", help="public: no roster, small counts masked")
    exp.add_argument("--lang", choices=["zh", "en"], default="zh", help="headers and values in Chinese or English")
    exp.add_argument("--format", choices=["csv", "xlsx", "both"], default="both")
    exp.set_defaults(func=_cmd_export)

    rep = sub.add_parser(
        "report", parents=[db], help="a committee's report for a period, as PDF or PNG"  # type: ignore[list-item]
    )
    rep.add_argument("--org", required=True, help="organisation code")
    rep.add_argument("--period", required=True, help="2026-11 | 2026-W48 | 2026-11-01..2026-11-30")
    rep.add_argument("--lang", choices=["zh", "en"], default="zh")
    rep.add_argument("--level", choices=["full", "public"], default="full", help="public: small counts of people hidden")
    rep.add_argument("--out", type=Path, required=True, help="FILE.pdf or FILE.png")
    rep.set_defaults(func=_cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (CliError, StoreError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
