"""Lianxin's core: store, events, bus, aggregation, scopes, simulator. No Dash imports here."""

__version__ = "0.1.0"
