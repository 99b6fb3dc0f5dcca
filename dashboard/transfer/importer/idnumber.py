"""National ID numbers (公民身份号码, GB 11643-1999) in a roster: checked, then reduced to what may be kept.

An ID number is sensitive personal information (Personal Information
Protection Law): it is never stored, displayed or exported, and never becomes
a member's key. What is kept is an HMAC-SHA256 of it under the installation's
secret key (``LIANXIN_SECRET_KEY`` or ``var/secret.key``, see access/keys.py) —
enough to recognise the same person when a roster without member codes is
imported again, useless without the key — and its last four characters, for a
person comparing a record with a paper file.

Excel keeps 15 significant digits of a number: an 18-digit ID number typed
into a cell not formatted as text loses its last three digits
(330127198011020014 → 3.30127E+17, or 330127198011020000 when written out).
Such a cell is refused with what happened and how to re-export it, never taken
with wrong digits.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from typing import Literal

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_SHAPE = re.compile(r"[0-9]{17}[0-9X]")
_SCIENTIFIC = re.compile(r"[0-9](\.[0-9]+)?E\+?[0-9]+")

Verdict = Literal["ok", "excel_number", "bad_check", "bad_shape"]


def normalised(text: str) -> str:
    """Full-width digits and x made ASCII, spaces dropped, x upper-cased."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper()


def verdict(text: str) -> Verdict:
    """Whether a (normalised) cell is a valid ID number, and if not, what is wrong."""
    if _SCIENTIFIC.fullmatch(text):
        return "excel_number"
    if not _SHAPE.fullmatch(text):
        return "excel_number" if text.isdigit() and 11 <= len(text) < 18 and len(text.rstrip("0")) <= 15 else "bad_shape"
    if check_digit(text[:17]) == text[17]:
        return "ok"
    return "excel_number" if text.endswith("000") else "bad_check"


def check_digit(first17: str) -> str:
    """The 18th character GB 11643 gives for the first 17 digits (ISO 7064 MOD 11-2)."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def keyed_hash(number: str, key: bytes) -> str:
    """HMAC-SHA256 of a valid ID number under the installation key, as 64 hex characters."""
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()
