"""The running system in one object (the Runtime, Home Assistant's core is the model) and what hangs on it, such as the in-process demo feed. May import every package above except api."""
