"""The incremental aggregator: live KPIs of every subtree (see core.py and docs/aggregates.md)."""

from dashboard.live.aggregator.core import SHANGHAI, Aggregator

__all__ = ["SHANGHAI", "Aggregator"]
