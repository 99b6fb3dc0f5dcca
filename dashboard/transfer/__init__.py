"""Bring your own organisation and take it out again: import of trees, rosters and cross-links from CSV or Excel, and export. May import domain, store, settings, access, live and ingest."""
