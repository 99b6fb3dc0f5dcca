"""What every view's wiring gets: the runtime and the region boundaries."""

from __future__ import annotations

from dataclasses import dataclass

from dashboard.regions import RegionMap
from dashboard.runtime import Runtime


@dataclass(frozen=True)
class ViewContext:
    runtime: Runtime
    regions: RegionMap
