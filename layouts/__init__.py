"""Pure functions that build Dash components, one module per view. No data access here."""
