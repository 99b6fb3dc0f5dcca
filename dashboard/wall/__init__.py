"""What the wall composes beyond the shared frames: the rotation playlist and the top-level units' spotlight section. May import domain, store, settings, access and live."""
