"""The incremental aggregator: live KPIs of every subtree (see core.py and docs/aggregates.md)."""

from dashboard.aggregator.core import SHANGHAI, Aggregator

__all__ = ["SHANGHAI", "Aggregator"]
