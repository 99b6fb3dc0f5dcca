"""The organisation topology: tree index, radial layout, level of detail, health, analysis, cross-links and its frame sections. May import domain, store, settings, access and live."""
