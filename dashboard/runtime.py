"""The running system in one place: store, tree, bus, aggregator, ingest.

Like Home Assistant's ``core``: the single object that owns where events and
state live. The web layer (``dashboard.server``, the Dash app) reaches it as
``request.app.state.runtime`` and never opens storage on its own.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from dashboard.aggregator import Aggregator
from dashboard.bus import Bus, InProcessBus
from dashboard.ingest import Ingestor
from dashboard.members_directory import MemberDirectory
from dashboard.publisher import FramePublisher
from dashboard.scopes import ScopeSigner
from dashboard.settings import Settings
from dashboard.store import open_store
from dashboard.tree import OrgTree

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    tree: OrgTree
    bus: Bus
    aggregator: Aggregator
    ingestor: Ingestor
    publisher: FramePublisher
    signer: ScopeSigner
    started_at: float = field(default_factory=time.time)

    @classmethod
    def start(cls, settings: Settings, engine: Engine | None = None) -> Runtime:
        """Open the store, load the tree, rebuild the live state from the store, wire the bus."""
        engine = engine or open_store(settings.database_url)
        tree = OrgTree.load(engine)
        for problem in tree.problems:
            log.warning("organisation tree: %s", problem)
        tz = ZoneInfo(settings.timezone)
        aggregator = Aggregator.rebuild(engine, tree, tz=tz)
        bus = InProcessBus()
        bus.subscribe(aggregator.apply)
        ingestor = Ingestor(engine, tree, bus)
        publisher = FramePublisher(tree, aggregator, bus, MemberDirectory(engine), hz=settings.frame_hz)
        return cls(
            settings=settings,
            engine=engine,
            tree=tree,
            bus=bus,
            aggregator=aggregator,
            ingestor=ingestor,
            publisher=publisher,
            signer=ScopeSigner(),
        )

    def close(self) -> None:
        self.publisher.close()
        self.ingestor.close()
        self.engine.dispose()
