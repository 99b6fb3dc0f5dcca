"""Scopes: a subtree plus a privacy level — what one screen may see.

A page carries its scope to the live stream as a signed ticket (HMAC-SHA256
with the server's secret), so a page cannot widen its own scope by editing
what it sends back over the websocket.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import orjson

Level = Literal["full", "public"]
LEVELS: tuple[Level, ...] = ("full", "public")
# Counts below this are hidden at the public level: small enough to point at people.
PUBLIC_MIN_COUNT = 5
# The other counts of people are rounded to this (halves up), so a hidden count cannot be
# worked out by subtraction from the counts shown beside it (docs/security.md, "The two levels").
PUBLIC_ROUNDING = 10
# Snapshot keys that count people: at the public level their small values are hidden.
PEOPLE_KEYS = frozenset(
    {"members", "full_members", "probationary", "active_today", "active_15m", "lost_contact", "dues_paid", "pipeline", "structure", "transfers", "daily"}
)


@dataclass(frozen=True, slots=True)
class Scope:
    org_id: int
    level: Level

    @property
    def public(self) -> bool:
        return self.level == "public"


class ScopeSigner:
    """Signs and checks scope tickets; tickets expire so a copied one does not live for ever."""

    def __init__(self, secret: bytes | None = None, ttl_s: float = 7 * 86400) -> None:
        self._secret = secret or secrets.token_bytes(32)
        self._ttl_s = ttl_s

    def sign(self, scope: Scope, now: float | None = None, grant: str | None = None) -> str:
        """A ticket for ``scope``; ``grant`` names what must stay valid for it (a token or session, see dashboard.access.viewer)."""
        claims: dict[str, object] = {"o": scope.org_id, "l": scope.level, "e": int((now or time.time()) + self._ttl_s)}
        if grant is not None:
            claims["g"] = grant
        body = orjson.dumps(claims)
        mac = hmac.new(self._secret, body, hashlib.sha256).digest()[:16]
        return base64.urlsafe_b64encode(body).decode() + "." + base64.urlsafe_b64encode(mac).decode()

    def derive(self, purpose: str, text: str) -> str:
        """A value bound to ``text`` under this server's key, e.g. the CSRF token of a session secret."""
        mac = hmac.new(self._secret, f"{purpose}\x00{text}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:24]).decode()

    def verify(self, ticket: object, now: float | None = None) -> Scope | None:
        """The scope in a valid, unexpired ticket; None for anything else."""
        checked = self.verify_grant(ticket, now)
        return checked[0] if checked is not None else None

    def verify_grant(self, ticket: object, now: float | None = None) -> tuple[Scope, str | None] | None:
        """The scope and grant in a valid, unexpired ticket; None for anything else."""
        if not isinstance(ticket, str) or ticket.count(".") != 1 or len(ticket) > 512:
            return None
        body_b64, mac_b64 = ticket.split(".")
        try:
            body = base64.urlsafe_b64decode(body_b64)
            mac = base64.urlsafe_b64decode(mac_b64)
            data = orjson.loads(body)
        except (ValueError, orjson.JSONDecodeError):
            return None
        expected = hmac.new(self._secret, body, hashlib.sha256).digest()[:16]
        if not hmac.compare_digest(mac, expected) or not isinstance(data, dict):
            return None
        if data.get("e", 0) < (now or time.time()) or data.get("l") not in LEVELS or not isinstance(data.get("o"), int):
            return None
        grant = data.get("g")
        return Scope(org_id=data["o"], level=data["l"]), grant if isinstance(grant, str) else None


def public_count(value: int) -> int | None:
    """A count of people as the public level shows it: None under PUBLIC_MIN_COUNT (0 too), else rounded.

    Hiding the small counts alone is not enough: beside ``members 632`` and
    ``full_members 629`` a hidden ``probationary`` is 3. Rounding every shown
    count to PUBLIC_ROUNDING leaves it uncertain by −5…+4, more than a hidden
    count's whole range; and zero is hidden with the rest, or four hidden
    children (each "at least 1") would pin a hidden parent of 4.
    """
    if value < PUBLIC_MIN_COUNT:
        return None
    return _rounded(value)


def public_counts(values: np.ndarray) -> np.ndarray:
    """``public_count`` of every element of an int array, 0 where hidden (zero is hidden too, so 0 means only "hidden").

    For the views that colour thousands of organisations at once (the
    topology's health): the same rule as ``public_count``, on a whole column.
    """
    return np.where(values < PUBLIC_MIN_COUNT, 0, _rounded(values))


def _rounded(value: Any) -> Any:
    """To the nearest PUBLIC_ROUNDING, halves up: for an int or a whole int array alike."""
    return (value + PUBLIC_ROUNDING // 2) // PUBLIC_ROUNDING * PUBLIC_ROUNDING


def mask_count(value: int | float | None, scope: Scope) -> int | float | None:
    """At the public level a count of people is ``public_count`` of it; other values pass unchanged."""
    if scope.public and isinstance(value, int) and not isinstance(value, bool):
        return public_count(value)
    return value


def mask_counts(value: Any, scope: Scope) -> Any:
    """``mask_count`` applied to every number in nested dicts and lists (a snapshot, a frame section)."""
    if isinstance(value, dict):
        return {k: mask_counts(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_counts(v, scope) for v in value]
    if isinstance(value, bool):
        return value
    return mask_count(value, scope)


def mask_snapshot(snapshot: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """A snapshot as ``scope`` may see it: at the public level, small counts of people hidden (``PEOPLE_KEYS``)."""
    if not scope.public:
        return snapshot
    masked = {k: mask_counts(v, scope) if k in PEOPLE_KEYS else v for k, v in snapshot.items()}
    if "dues_rate" in snapshot:
        masked["dues_rate"] = shown_share(masked.get("dues_paid"), masked.get("members"))
    return masked


def shown_share(part: int | None, whole: int | None) -> float | None:
    """A share of people from two counts as the public level shows them (``public_count``), two decimals.

    A share from the raw counts would give the hidden ones back (1 of 8 is
    0.125, and no other pair of small counts is), so every public share of
    people is taken from the shown counts; None when either is hidden or the
    whole is zero.
    """
    if not isinstance(part, int) or not isinstance(whole, int) or not whole:
        return None
    return round(part / whole, 2)


def public_share(part: int, whole: int) -> float | None:
    """``shown_share`` of two raw counts: each through ``public_count`` first."""
    return shown_share(public_count(part), public_count(whole))
