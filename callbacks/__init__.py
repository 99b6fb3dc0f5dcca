"""Dash wiring, one module per view: page registration and callbacks, fed by the runtime."""
