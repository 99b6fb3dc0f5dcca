"""The topology's live side: tree index, cross-links, health, cached views, and the analysis thread.

Built in ``Runtime.start``: the index and the links are read at once (tenths
of a second at 100,000 organisations); the graph analysis runs in a
background thread, first at start and again whenever the stored links
change (a cheap fingerprint query every ``poll_s``) or the tree is reloaded
(an import), and the isolation ranking, which follows today's activity,
every ``isolation_s``. Pages read the latest report and never wait for it;
views are cached by what they show.

Everything derived from one tree is kept in one ``TreeState`` and replaced
whole by ``rebind`` after a reload, so a reader that takes ``state`` once
never mixes two trees.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Engine

from dashboard.live.aggregator import Aggregator
from dashboard.store.models import OrgKind
from dashboard.store.tree import OrgTree
from dashboard.topology.analysis import AnalysisReport, analyse_links, isolated_branches
from dashboard.topology.health import HealthBoard
from dashboard.topology.links import CrossLinks, links_signature, load_cross_links
from dashboard.topology.lod import MAX_DRAWN, Detail, ViewSpec
from dashboard.topology.picture import TopologyPicture, make_picture
from dashboard.topology.radial import TreeIndex
from dashboard.topology.view import MAX_HUBS, TopologyView, build_view

log = logging.getLogger(__name__)

VIEW_CACHE = 256
SEARCH_LIMIT = 12


@dataclass(frozen=True)
class TreeState:
    tree: OrgTree
    index: TreeIndex
    detail: Detail
    health: HealthBoard
    codes: list[str]  # casefolded, by preorder position
    names: list[str]
    is_branch: np.ndarray

    @classmethod
    def build(cls, tree: OrgTree, aggregator: Aggregator, health_period_s: float) -> TreeState:
        index = TreeIndex.build(tree)
        ids = index.ids.tolist()
        return cls(
            tree=tree,
            index=index,
            detail=Detail(index, max_drawn=MAX_DRAWN - MAX_HUBS),
            health=HealthBoard(index, aggregator, period_s=health_period_s),
            codes=[tree.nodes[i].code.casefold() for i in ids],
            names=[tree.nodes[i].name for i in ids],
            is_branch=np.array([tree.nodes[i].kind == OrgKind.branch.value for i in ids], dtype=bool),
        )


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
        self.poll_s = poll_s
        self.isolation_s = isolation_s
        self.health_period_s = health_period_s
        self.state = TreeState.build(tree, aggregator, health_period_s)
        self.links = self._load_links(tree)
        self.report: AnalysisReport | None = None
        self._views: OrderedDict[tuple[int, ViewSpec, tuple[int, ...]], TopologyView] = OrderedDict()
        self._views_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._begun = threading.Event()
        self._thread = threading.Thread(target=self._run, name="topology-analysis", daemon=True)

    @classmethod
    def start(cls, engine: Engine, tree: OrgTree, aggregator: Aggregator, *, deferred: bool = False, **kwargs: float) -> Topology:
        """Start the analysis thread; ``deferred``: its first analysis waits for ``begin``.

        A server defers it until it serves: the analysis (seconds at 100,000
        organisations) is not needed for readiness, and on the start's thread's
        heels it would only slow the start down.
        """
        topology = cls(engine, tree, aggregator, **kwargs)
        if not deferred:
            topology.begin()
        topology._thread.start()
        return topology

    def begin(self) -> None:
        """Let the analysis thread run (a ``deferred`` start waits for this)."""
        self._begun.set()

    def _load_links(self, tree: OrgTree) -> CrossLinks:
        links = load_cross_links(self.engine, tree)
        for problem in links.problems:
            log.warning("organisation links: %s", problem)
        return links

    def rebind(self, tree: OrgTree, aggregator: Aggregator) -> None:
        """Take a reloaded tree and aggregator (a ``Runtime.on_reload`` listener); the analysis follows."""
        state = TreeState.build(tree, aggregator, self.health_period_s)
        links = self._load_links(tree)
        self.state, self.links, self.report = state, links, None
        with self._views_lock:
            self._views.clear()
        self._wake.set()

    # --- what pages and frames read ------------------------------------------------------------

    @property
    def tree(self) -> OrgTree:
        return self.state.tree

    @property
    def index(self) -> TreeIndex:
        return self.state.index

    @property
    def detail(self) -> Detail:
        return self.state.detail

    @property
    def health(self) -> HealthBoard:
        return self.state.health

    @property
    def problems(self) -> list[str]:
        """Everything wrong with the stored organisation and its links, by name."""
        return [*self.tree.problems, *self.links.problems]

    def scope_pre(self, org_id: int) -> int:
        return self.index.pre_of(org_id)

    def default_spec(self, scope_org_id: int) -> ViewSpec:
        p = self.scope_pre(scope_org_id)
        return ViewSpec(scope=p, focus=p)

    def view(self, spec: ViewSpec) -> TopologyView:
        state, links = self.state, self.links
        key = (id(state), spec, links.signature)
        with self._views_lock:
            cached = self._views.get(key)
            if cached is not None:
                self._views.move_to_end(key)
                return cached
        view = build_view(state.index, state.detail, links, spec)
        with self._views_lock:
            self._views[key] = view
            while len(self._views) > VIEW_CACHE:
                self._views.popitem(last=False)
        return view

    def picture(self, spec: ViewSpec, public: bool, target: int | None = None) -> TopologyPicture:
        state = self.state
        return make_picture(state.tree, state.index, self.view(spec), state.health.current(public), public, target)

    def code_of(self, p: int) -> str:
        return self.tree.nodes[int(self.index.ids[p])].code

    def name_of(self, p: int) -> str:
        return self.state.names[p]

    def pre_of_code(self, code: str) -> int | None:
        org = self.tree.get(code)
        return self.index.pre_of(org.id) if org is not None else None

    def find(self, query: str, scope: int) -> list[int]:
        """Organisations in the scope matching ``query``: the exact code first, then names containing it."""
        state = self.state
        needle = query.strip()
        if not needle:
            return []
        start, stop = scope, int(state.index.end[scope])
        folded = needle.casefold()
        exact = [p for p in range(start, stop) if state.codes[p] == folded]
        named = [p for p in range(start, stop) if needle in state.names[p] and p not in exact]
        named.sort(key=lambda p: (state.names[p] != needle, len(state.names[p]), p))
        return (exact + named)[:SEARCH_LIMIT]

    # --- analysis --------------------------------------------------------------------------------

    def analyse(self) -> AnalysisReport:
        """Recompute the whole report now (what the background thread does)."""
        state, links = self.state, self.links
        analysis = analyse_links(state.index, links)
        isolated = isolated_branches(state.index, state.is_branch, analysis.linked, state.health.current())
        report = AnalysisReport(analysis, isolated, time.time(), links.signature)
        if state is self.state:
            self.report = report
        log.info(
            "topology analysis: %d linked organisations, %d bridges, %d isolated branches (%.2fs)",
            analysis.linked_orgs, len(analysis.bridges.pre), len(isolated.pre), analysis.seconds,
        )
        return report

    def refresh_isolation(self) -> None:
        state, report = self.state, self.report
        if report is not None:
            isolated = isolated_branches(state.index, state.is_branch, report.links.linked, state.health.current())
            if state is self.state:
                self.report = AnalysisReport(report.links, isolated, time.time(), report.signature)

    def reload_links_if_changed(self) -> bool:
        """Read the links again if their fingerprint moved; True if they did."""
        if links_signature(self.engine) == self.links.signature:
            return False
        self.links = self._load_links(self.tree)
        return True

    def _run(self) -> None:
        self._begun.wait()
        last_isolation = time.monotonic()
        self._wake.set()
        while not self._stop.is_set():
            woken = self._wake.wait(self.poll_s)
            if self._stop.is_set():
                break
            self._wake.clear()
            try:
                if woken or self.reload_links_if_changed():
                    self.analyse()
                    last_isolation = time.monotonic()
                elif time.monotonic() - last_isolation >= self.isolation_s:
                    self.refresh_isolation()
                    last_isolation = time.monotonic()
            except Exception:
                log.exception("topology analysis failed; the page shows the graph without it, trying again in %ss", self.poll_s)

    def close(self) -> None:
        self._stop.set()
        self._begun.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
