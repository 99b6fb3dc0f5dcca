"""A revocation takes effect at once: the caches of token and session checks forget, here and in every process of a cluster.

Token and session checks are cached for a few seconds (``tokens.py``,
``users.py``) so a busy stream does not query the store per request. A
revocation (a token revoked, a session closed, a user deactivated or given a
new password) clears those caches in this process, and tells the announcers
— a cluster's Redis signal (``dashboard/live/cluster.py``) — so every other
process clears its own; the store stays the record, the signal only says
"look again". Live streams re-check their grant every few seconds
(callbacks/live.py), so a revoked screen is cut within that, wherever it is.
"""

from __future__ import annotations

from collections.abc import Callable

_caches: list[Callable[[], None]] = []
_announcers: list[Callable[[], None]] = []


def register_cache(clear: Callable[[], None]) -> None:
    """A cache of checks that a revocation must clear (registered once, at import)."""
    _caches.append(clear)


def forget_checks() -> None:
    """Clear every cache of checks in this process (a revocation here or announced by another process)."""
    for clear in _caches:
        clear()


def on_revoked(announcer: Callable[[], None]) -> Callable[[], None]:
    """Call ``announcer`` after each revocation made in this process; returns the function that stops it."""
    _announcers.append(announcer)
    return lambda: _announcers.remove(announcer) if announcer in _announcers else None


def revoked() -> None:
    """Something was revoked in the store: forget cached checks here and announce it."""
    forget_checks()
    for announce in list(_announcers):
        announce()
