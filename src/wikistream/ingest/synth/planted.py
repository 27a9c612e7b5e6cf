"""Planted users whose activity the seed's risk rules score HIGH or MEDIUM (SEED-FACTS §4.3).

* vandal: > 1 300 edits within one UTC day on ≥ 6 target wikis with ≥ 4 deletions of more than
  5 000 bytes → velocity 40 + deletions 30 + cross-domain 10 (+ anonymous 20 for an IP) ⇒ HIGH,
  alert triggered. Vandals alternate between IPv4 and registered accounts.
* medium: 650–850 edits on 1–3 target wikis with exactly 2 large deletions → 25 + 15 = 40 ⇒
  MEDIUM, no alert (registered accounts).

All planted events are ``edit`` events, non-bot, on target wikis, placed by selection sampling in
one window that lies inside a single UTC day, so each user's counts land on one ``stat_date``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from wikistream.ingest.synth import names
from wikistream.ingest.synth.wikis import Wiki

VANDAL_MIN_EDITS = 1301
MEDIUM_EDITS = (650, 850)
PLANTED_IPV4_NETS = ("198.51.100", "203.0.113")
"""TEST-NET ranges (RFC 5737): organic IPs are never drawn from them."""


@dataclass(slots=True)
class PlantedUser:
    """One planted user with its quota and what has been emitted so far."""

    name: str
    kind: str  # "ipv4" or "registered"
    role: str  # "vandal" or "medium"
    edits: int
    large_deletions: int
    wikis: tuple[Wiki, ...]
    emitted: int = 0
    deletions_emitted: int = 0
    first_dt: str | None = field(default=None)
    last_dt: str | None = field(default=None)

    def next_wiki(self) -> Wiki:
        """Return the wiki of the next edit (round-robin, so every wiki is used)."""
        return self.wikis[self.emitted % len(self.wikis)]

    def take_deletion(self, rng: random.Random) -> bool:
        """Decide whether the next edit is a large deletion; exact count by selection sampling."""
        left = self.edits - self.emitted
        wanted = self.large_deletions - self.deletions_emitted
        if wanted > 0 and rng.random() * left < wanted:
            self.deletions_emitted += 1
            return True
        return False


def seed_risk(total: int, anonymous: int, large_deletions: int, domains: int) -> dict[str, Any]:
    """Return what the seed's gold job computes for one user-day (SEED-FACTS §4.3)."""
    e = round(total / 24.0, 6)
    velocity = 40 if e > 50 else 25 if e > 25 else 10 if e > 10 else 0
    deletions = 30 if large_deletions > 3 else 15 if large_deletions > 1 else 0
    anon = 20 if anonymous > 0.5 * total else 0
    cross = 10 if domains > 5 and e > 20 else 0
    score = min(100, max(0, velocity + deletions + anon + cross))
    level_velocity = 40 if e > 50 else 25 if e > 25 else 0
    if level_velocity + deletions + anon + cross >= 70:
        level = "HIGH"
    elif level_velocity + deletions + anon >= 40:
        level = "MEDIUM"
    else:
        level = "LOW"
    return {
        "edits_per_hour_avg": e,
        "risk_score": float(score),
        "risk_level": level,
        "alert_triggered": e > 50 and large_deletions > 3,
    }


def plan_users(
    rng: random.Random, vandals: int, medium: int, targets: tuple[Wiki, ...]
) -> list[PlantedUser]:
    """Return the planted users with their quotas and wikis."""
    users: list[PlantedUser] = []
    taken: set[str] = set()
    for i in range(vandals):
        kind = "ipv4" if i % 2 == 0 else "registered"
        wikis = tuple(rng.sample(targets, min(len(targets), rng.randint(6, 9))))
        users.append(
            PlantedUser(
                name=_name(rng, kind, taken),
                kind=kind,
                role="vandal",
                edits=VANDAL_MIN_EDITS + rng.randint(20, 200),
                large_deletions=rng.randint(4, 7),
                wikis=wikis,
            )
        )
    for _ in range(medium):
        wikis = tuple(rng.sample(targets, rng.randint(1, 3)))
        users.append(
            PlantedUser(
                name=_name(rng, "registered", taken),
                kind="registered",
                role="medium",
                edits=rng.randint(*MEDIUM_EDITS),
                large_deletions=2,
                wikis=wikis,
            )
        )
    return users


def _name(rng: random.Random, kind: str, taken: set[str]) -> str:
    while True:
        if kind == "ipv4":
            name = f"{rng.choice(PLANTED_IPV4_NETS)}.{rng.randint(1, 254)}"
        else:
            # Organic registered names never contain "-", so these cannot collide with them.
            name = f"{names.make_word(rng, 'latin')}-{rng.randint(10, 9999)}"
        if name not in taken:
            taken.add(name)
            return name


class PlantSchedule:
    """Spreads the planted users' edits over event slots [start, end) of one UTC day."""

    def __init__(self, users: list[PlantedUser], start: int, end: int) -> None:
        self.users = users
        self.start = start
        self.end = end
        self._left = sum(u.edits for u in users)

    @property
    def total(self) -> int:
        """Planted events in the whole schedule."""
        return sum(u.edits for u in self.users)

    def pick(self, rng: random.Random, slot: int) -> PlantedUser | None:
        """Return the planted user who edits at ``slot``, or None for an organic event.

        Selection sampling: each remaining slot is planted with probability left/slots-left, so
        exactly ``total`` slots are planted and the last ones are forced when needed.
        """
        if self._left == 0 or slot < self.start or slot >= self.end:
            return None
        if rng.random() * (self.end - slot) >= self._left:
            return None
        r = rng.randrange(self._left)
        self._left -= 1
        for user in self.users:
            remaining = user.edits - user.emitted
            if r < remaining:
                return user
            r -= remaining
        raise AssertionError("planted quota bookkeeping is inconsistent")  # pragma: no cover

    def describe(self, user: PlantedUser, date: str) -> dict[str, Any]:
        """Return the manifest entry of one planted user."""
        domains = sorted(w.domain for w in user.wikis)
        anonymous = user.edits if user.kind == "ipv4" else 0
        return {
            "user": user.name,
            "kind": user.kind,
            "role": user.role,
            "date": date,
            "edits": user.edits,
            "large_deletions": user.large_deletions,
            "domains": domains,
            "first_dt": user.first_dt,
            "last_dt": user.last_dt,
            "expected_seed_risk": seed_risk(
                user.edits, anonymous, user.large_deletions, len(domains)
            ),
        }
