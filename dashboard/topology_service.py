"""The topology's live side: tree index, cross-links, health, cached views, and the analysis thread.

Built in ``Runtime.start``: the index and the links are read at once (tenths
of a second at 100,000 organisations); the graph analysis runs in a
background thread, first at start and again whenever the stored links
change (a cheap fingerprint query every ``poll_s``), and the isolation
ranking, which follows today's activity, every ``isolation_s``. Pages read
the latest report and never wait for it; views are cached by what they show.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict

import numpy as np
from sqlalchemy import Engine

from dashboard.aggregator import Aggregator
from dashboard.models import OrgKind
from dashboard.topology import TreeIndex
from dashboard.topology_analysis import AnalysisReport, analyse_links, isolated_branches
from dashboard.topology_health import HealthBoard
from dashboard.topology_links import links_signature, load_cross_links
from dashboard.topology_lod import MAX_DRAWN, Detail, ViewSpec
from dashboard.topology_picture import TopologyPicture, make_picture
from dashboard.topology_view import MAX_HUBS, TopologyView, build_view
from dashboard.tree import OrgTree

log = logging.getLogger(__name__)

VIEW_CACHE = 256
SEARCH_LIMIT = 12


class Topology:
    def __init__(
        self,
        engine: Engine,
        tree: OrgTree,
        aggregator: Aggregator,
        poll_s: float = 30.0,
        isolation_s: float = 120.0,
        health_period_s: float = 5.0,
    ) -> None:
        self.engine = engine
        self.tree = tree
        self.index = TreeIndex.build(tree)
        self.detail = Detail(self.index, max_drawn=MAX_DRAWN - MAX_HUBS)
        self.health = HealthBoard(self.index, aggregator, period_s=health_period_s)
        self.links = load_cross_links(engine, tree)
        for problem in self.links.problems:
            log.warning("organisation links: %s", problem)
        self.report: AnalysisReport | None = None
        self.poll_s = poll_s
        self.isolation_s = isolation_s
        ids = self.index.ids.tolist()
        self._codes = [tree.nodes[i].code.casefold() for i in ids]
        self._names = [tree.nodes[i].name for i in ids]
        self._is_branch = np.array([tree.nodes[i].kind == OrgKind.branch.value for i in ids], dtype=bool)
        self._views: OrderedDict[tuple[ViewSpec, tuple[int, ...]], TopologyView] = OrderedDict()
        self._views_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="topology-analysis", daemon=True)

    @classmethod
    def start(cls, engine: Engine, tree: OrgTree, aggregator: Aggregator, **kwargs: float) -> Topology:
        topology = cls(engine, tree, aggregator, **kwargs)
        topology._thread.start()
        return topology

    @property
    def problems(self) -> list[str]:
        """Everything wrong with the stored organisation and its links, by name."""
        return [*self.tree.problems, *self.links.problems]

    # --- views ----------------------------------------------------------------------------

    def scope_pre(self, org_id: int) -> int:
        return self.index.pre_of(org_id)

    def default_spec(self, scope_org_id: int) -> ViewSpec:
        p = self.scope_pre(scope_org_id)
        return ViewSpec(scope=p, focus=p)

    def view(self, spec: ViewSpec) -> TopologyView:
        key = (spec, self.links.signature)
        with self._views_lock:
            cached = self._views.get(key)
            if cached is not None:
                self._views.move_to_end(key)
                return cached
        view = build_view(self.index, self.detail, self.links, spec)
        with self._views_lock:
            self._views[key] = view
            while len(self._views) > VIEW_CACHE:
                self._views.popitem(last=False)
        return view

    def picture(self, spec: ViewSpec, public: bool, target: int | None = None) -> TopologyPicture:
        return make_picture(self.tree, self.index, self.view(spec), self.health.current(), public, target)

    def code_of(self, p: int) -> str:
        return self.tree.nodes[int(self.index.ids[p])].code

    def pre_of_code(self, code: str) -> int | None:
        org = self.tree.get(code)
        return self.index.pre_of(org.id) if org is not None else None

    def find(self, query: str, scope: int) -> list[int]:
        """Organisations in the scope matching ``query``: the exact code first, then names containing it."""
        needle = query.strip()
        if not needle:
            return []
        start, stop = scope, int(self.index.end[scope])
        folded = needle.casefold()
        exact = [p for p in range(start, stop) if self._codes[p] == folded]
        named = [p for p in range(start, stop) if needle in self._names[p] and p not in exact]
        named.sort(key=lambda p: (self._names[p] != needle, len(self._names[p]), p))
        return (exact + named)[:SEARCH_LIMIT]

    # --- analysis --------------------------------------------------------------------------

    def analyse(self) -> AnalysisReport:
        """Recompute the whole report now (what the background thread does)."""
        links = self.links
        analysis = analyse_links(self.index, links)
        isolated = isolated_branches(self.index, self._is_branch, analysis.linked, self.health.current())
        report = AnalysisReport(analysis, isolated, time.time(), links.signature)
        self.report = report
        log.info(
            "topology analysis: %d linked organisations, %d bridges, %d isolated branches (%.2fs)",
            analysis.linked_orgs, len(analysis.bridges.pre), len(isolated.pre), analysis.seconds,
        )
        return report

    def refresh_isolation(self) -> None:
        report = self.report
        if report is not None:
            isolated = isolated_branches(self.index, self._is_branch, report.links.linked, self.health.current())
            self.report = AnalysisReport(report.links, isolated, time.time(), report.signature)

    def reload_links_if_changed(self) -> bool:
        """Read the links again if their fingerprint moved; True if they did."""
        if links_signature(self.engine) == self.links.signature:
            return False
        self.links = load_cross_links(self.engine, self.tree)
        return True

    def _run(self) -> None:
        try:
            self.analyse()
        except Exception:
            log.exception("topology analysis failed; the page shows the graph without it")
        last_isolation = time.monotonic()
        while not self._stop.wait(self.poll_s):
            try:
                if self.reload_links_if_changed():
                    self.analyse()
                    last_isolation = time.monotonic()
                elif time.monotonic() - last_isolation >= self.isolation_s:
                    self.refresh_isolation()
                    last_isolation = time.monotonic()
            except Exception:
                log.exception("topology analysis refresh failed; trying again in %ss", self.poll_s)

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
