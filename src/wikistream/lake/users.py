"""Who made an edit: a registered account, an IP address, or a Wikimedia temporary account.

The patterns are the single source of truth: the silver SQL model receives them as parameters and
:func:`classify_user` applies the same rules in Python (for tests, docs and ad-hoc checks). They use
no backslashes (``[.]`` instead of ``\\.``) so the same text is a valid regex in RE2 (DuckDB) and in
Java (Spark SQL string literals treat backslashes as escapes).
"""

from __future__ import annotations

import re
from enum import StrEnum

_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4_PATTERN = f"^({_OCTET}[.]){{3}}{_OCTET}$"
"""Dotted-quad IPv4 with every octet 0–255 (no leading zeros, as MediaWiki prints them)."""

_H = "[0-9A-Fa-f]{1,4}"
IPV6_PATTERN = (
    "^("
    f"({_H}:){{7}}{_H}"
    f"|({_H}:){{1,7}}:"
    f"|({_H}:){{1,6}}:{_H}"
    f"|({_H}:){{1,5}}(:{_H}){{1,2}}"
    f"|({_H}:){{1,4}}(:{_H}){{1,3}}"
    f"|({_H}:){{1,3}}(:{_H}){{1,4}}"
    f"|({_H}:){{1,2}}(:{_H}){{1,5}}"
    f"|{_H}:(:{_H}){{1,6}}"
    f"|:((:{_H}){{1,7}}|:)"
    ")$"
)
"""IPv6 in full (MediaWiki's form: ``2001:DB8:0:0:0:0:0:1``) or ``::``-compressed notation."""

TEMPORARY_PATTERN = "^~[0-9]{4}-[0-9]+(-[0-9]+)*$"
"""Wikimedia temporary accounts (2025 rollout): ``~2025-12345-6``, ``~2026-81302-9``."""


class UserKind(StrEnum):
    """The three kinds of editor silver distinguishes (``silver.cleaned_events.user_kind``)."""

    registered = "registered"
    ip = "ip"
    temporary = "temporary"


_IPV4 = re.compile(IPV4_PATTERN)
_IPV6 = re.compile(IPV6_PATTERN)
_TEMPORARY = re.compile(TEMPORARY_PATTERN)


def classify_user(user_normalized: str | None) -> UserKind | None:
    """Return the kind of an already normalized user name; ``None`` for a missing name."""
    if user_normalized is None:
        return None
    if _IPV4.search(user_normalized) or _IPV6.search(user_normalized):
        return UserKind.ip
    if _TEMPORARY.search(user_normalized):
        return UserKind.temporary
    return UserKind.registered


CONTROL_CHARACTERS = (*range(0x00, 0x20), 0x7F)
"""Code points removed from user names before trimming (SEED-FACTS §3.3 step 2)."""


def normalize_user(user: str | None) -> str | None:
    """Strip control characters U+0000–U+001F and U+007F, then ASCII spaces at both ends."""
    if user is None:
        return None
    return user.translate({c: None for c in CONTROL_CHARACTERS}).strip(" ")
