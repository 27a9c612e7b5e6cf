"""Numbers the synthetic event generator draws from, each calibrated on the real sample files.

Sources (all in ``shared/data``; see its PROVENANCE.md):

* ``recentchange-2026-02-26.jsonl`` — a complete, unfiltered 1.5 s slice of the live stream
  (50 events, 14 wikis): type mix, field layout, topic name, target share, temporary accounts.
* ``recentchange-enwiki-2023-07-29.jsonl`` — 100 enwiki edits: the negative (deletion) tail of
  ``length`` deltas, IP share before temporary accounts, minor-edit share.
* ``wikiticker-2015-09-12-sampled.json.gz`` — 39 244 edits of one day over 51 Wikipedias: the
  per-language mix and the body of the length-delta distribution (its deletions are censored at
  −500 bytes, which is why the deletion tail comes from the 2023 file).
* ``EVENTSTREAMS-NOTES.md`` — whole-stream rates (≈30 events/s), Wikidata share, bot share.

``tests/ingest/test_calibration.py`` re-derives the headline numbers from those files, so a
constant that drifts from its source fails a test.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_URI = "/mediawiki/recentchange/1.0.0"
"""What live events still carry in ``$schema`` (2023 and 2026 samples)."""

CANARY_SCHEMA_URI = "/mediawiki/recentchange/1.0.1"
"""Canaries are built from the latest schema's example, so they name the latest version."""

STREAM = "mediawiki.recentchange"
TOPIC = "codfw.mediawiki.recentchange"
"""The 2026 sample's topic (the active DC changes over time; always partition 0)."""

FIRST_OFFSET = 2_015_394_065
"""First Kafka offset of the 2026 sample; generated files continue from a seed-derived offset."""

DEFAULT_RATE = 30.0
"""Events per second of the whole recentchange stream (26–32/s in 2018, 2023 and 2026)."""

TYPE_MIX: dict[str, float] = {"categorize": 0.54, "edit": 0.38, "log": 0.06, "new": 0.02}
"""Unfiltered 2026 slice: categorize 27, edit 19, log 3, new 1 of 50."""

BOT_SHARE = 0.14
"""Share of events flagged ``bot`` in the 2026 slice (7 of 50)."""

HUMAN_KIND_MIX: dict[str, float] = {
    "registered": 0.78,
    "temporary": 0.12,
    "ipv4": 0.06,
    "ipv6": 0.04,
}
"""Kinds of non-bot editors. Since 2025 most wikis give logged-out editors temporary accounts
(``~2026-12881-95``); IP editors remain on wikis not yet migrated. The 2023 enwiki sample had 27 %
IP edits; the 2026 slice has no IP user and 2 temporary users outside one burst of 12 events."""

TARGET_SHARE = 0.34
"""Share of events on the seed's 18 target wikis. 2026 slice: 27 of 50, but 12 of those are one
temporary user's categorize burst on enwiki; without it 13 of 38 = 0.34."""

PROJECT_SHARES: dict[str, float] = {
    "www.wikidata.org": 0.30,
    "commons.wikimedia.org": 0.20,
}
"""Wikidata ≈ 12 of 32 events/s (2018 rate notes; 3 of 38 in the 2026 slice outside the burst);
Commons is the busiest non-Wikipedia wiki in the 2026 slice (16 of 50). The remaining 16 % go to
other Wikipedias (9 %) and other projects (7 %: ms/jv Wiktionary, … — 4 of 38 in the slice)."""

OTHER_WIKIPEDIA_SHARE = 0.09
OTHER_PROJECT_SHARE = 0.07

# Per-language edit counts of the 2015 wikiticker day. vi (9 747) and uz (983) were inflated by
# single bot runs that day (TuanminhBot alone made 3 385 vi edits), so they are damped; th does not
# occur in the sample and gets a small weight.
TARGET_WIKIPEDIA_COUNTS: dict[str, int] = {
    "en": 11549,
    "de": 2523,
    "fr": 2099,
    "ru": 1386,
    "it": 1383,
    "es": 1256,
    "zh": 1126,
    "vi": 900,
    "ja": 749,
    "pl": 565,
    "ko": 533,
    "pt": 472,
    "nl": 445,
    "ar": 423,
    "he": 246,
    "fa": 219,
    "id": 110,
    "th": 60,
}
OTHER_WIKIPEDIA_COUNTS: dict[str, int] = {
    "ca": 478,
    "hu": 289,
    "uk": 263,
    "el": 251,
    "sv": 244,
    "fi": 244,
    "cs": 222,
    "tr": 208,
    "no": 169,
    "sr": 168,
    "hy": 153,
    "uz": 150,
    "da": 96,
    "ro": 76,
    "bg": 75,
    "gl": 65,
    "ce": 60,
    "et": 52,
    "simple": 39,
    "be": 33,
}
OTHER_PROJECT_WEIGHTS: dict[str, tuple[str, int]] = {
    # domain: (wiki id, relative weight)
    "en.wiktionary.org": ("enwiktionary", 30),
    "fr.wiktionary.org": ("frwiktionary", 12),
    "ms.wiktionary.org": ("mswiktionary", 4),
    "jv.wiktionary.org": ("jvwiktionary", 2),
    "de.wikisource.org": ("dewikisource", 6),
    "meta.wikimedia.org": ("metawiki", 10),
    "species.wikimedia.org": ("specieswiki", 5),
    "www.mediawiki.org": ("mediawikiwiki", 6),
    "en.wikibooks.org": ("enwikibooks", 3),
}

PATROLLED_WIKIS = frozenset(
    {"commonswiki", "wikidatawiki", "frwiki", "ptwiki", "bgwiki", "itwiki", "plwiki", "metawiki"}
)
"""Wikis that send ``patrolled`` (2026 slice: commons, wikidata, fr → true/false; pt, bg false)."""

MINOR_SHARE = {"bot": 0.45, "human": 0.12}
"""wikiticker: 44 % minor overall, dominated by bots; 2023 enwiki humans: 7 of 98."""

PATROLLED_TRUE_SHARE = 0.7

# Length delta of `edit` events: inverse CDF points (quantile, bytes) of the non-new wikiticker
# edits. Deletions below −500 bytes are censored in that file; they are drawn from a Pareto tail
# (DELETION_TAIL_*) fitted on the 2023 enwiki edits (3 of 99 below −500, 1 below −5 000).
EDIT_DELTA_QUANTILES: tuple[tuple[float, int], ...] = (
    (0.0, -500),
    (0.001, -471),
    (0.005, -366),
    (0.01, -273),
    (0.02, -173),
    (0.03, -107),
    (0.05, -52),
    (0.075, -28),
    (0.1, -14),
    (0.15, -4),
    (0.2, 0),
    (0.25, 0),
    (0.3, 2),
    (0.35, 8),
    (0.4, 15),
    (0.5, 18),
    (0.6, 25),
    (0.65, 36),
    (0.75, 40),
    (0.8, 59),
    (0.85, 112),
    (0.9, 237),
    (0.925, 347),
    (0.95, 547),
    (0.97, 894),
    (0.98, 1197),
    (0.99, 1911),
    (0.995, 3097),
    (0.998, 6029),
    (0.999, 9634),
    (0.9995, 13775),
    (1.0, 94187),
)
DELETION_TAIL_SHARE = 0.03
"""Share of edits that remove more than 500 bytes."""
DELETION_TAIL_ALPHA = 1.3
"""Pareto exponent above 500 bytes: P(removed > 5 000 | > 500) = 10^-1.3 ≈ 5 %, so about 0.15 %
of edits are large deletions (< −5 000 bytes, the seed's threshold)."""
DELETION_TAIL_MAX = 250_000

# Size of the page a `new` event creates (wikiticker edits flagged isNew).
NEW_LENGTH_QUANTILES: tuple[tuple[float, int], ...] = (
    (0.0, 0),
    (0.005, 2),
    (0.01, 9),
    (0.05, 23),
    (0.1, 32),
    (0.2, 45),
    (0.3, 68),
    (0.4, 161),
    (0.5, 545),
    (0.6, 982),
    (0.7, 1419),
    (0.8, 2289),
    (0.9, 4588),
    (0.95, 5849),
    (0.98, 10547),
    (0.99, 21845),
    (0.998, 65368),
    (1.0, 199818),
)

# Page sizes before an edit (2023 enwiki `length.old`, every 10th value sorted: 69 … 69 887).
PAGE_LENGTH_QUANTILES: tuple[tuple[float, int], ...] = (
    (0.0, 60),
    (0.1, 2452),
    (0.2, 5111),
    (0.3, 6270),
    (0.4, 9787),
    (0.5, 15597),
    (0.6, 17737),
    (0.7, 33959),
    (0.8, 47352),
    (0.9, 69887),
    (1.0, 250000),
)

# Namespaces of edited pages by project kind (wikiticker: Main 80 %, then Wikipedia, User talk,
# User, Talk, Category, Template; Commons edits are mostly File pages, Wikidata mostly items).
WIKIPEDIA_NAMESPACES: dict[int, float] = {
    0: 0.80,
    4: 0.04,
    3: 0.04,
    2: 0.03,
    1: 0.03,
    14: 0.02,
    10: 0.02,
    118: 0.01,
    6: 0.01,
}
COMMONS_NAMESPACES: dict[int, float] = {6: 0.80, 14: 0.12, 2: 0.03, 4: 0.02, 3: 0.03}
WIKIDATA_NAMESPACES: dict[int, float] = {0: 0.93, 120: 0.03, 146: 0.02, 4: 0.01, 3: 0.01}


@dataclass(frozen=True, slots=True)
class LogKind:
    """One kind of log event: its type/action pair, share among log events, page namespace."""

    log_type: str
    log_action: str
    share: float
    namespace: int
    has_rc_id: bool = True


LOG_KINDS: tuple[LogKind, ...] = (
    LogKind("newusers", "autocreate", 0.22, 2),
    LogKind("upload", "upload", 0.14, 6),
    LogKind("patrol", "patrol", 0.14, 0),
    LogKind("delete", "delete", 0.12, 3),
    LogKind("review", "approve", 0.08, 0, has_rc_id=False),
    LogKind("abusefilter", "hit", 0.08, 0, has_rc_id=False),
    LogKind("move", "move", 0.07, 0),
    LogKind("thanks", "thank", 0.06, 2),
    LogKind("block", "block", 0.04, 2),
    LogKind("protect", "protect", 0.03, 0),
    LogKind("rights", "rights", 0.02, 2),
)
"""2026 slice: review/approve (rc ``id`` absent), delete/delete ×2; Wikidata 2018: abusefilter,
patrol, tag. Shares of the others follow Special:Log volumes of large wikis."""

LANGUAGE_SCRIPTS: dict[str, str] = {
    "ru": "cyrillic",
    "uk": "cyrillic",
    "bg": "cyrillic",
    "sr": "cyrillic",
    "be": "cyrillic",
    "ce": "cyrillic",
    "ja": "japanese",
    "zh": "chinese",
    "ko": "hangul",
    "ar": "arabic",
    "fa": "arabic",
    "he": "hebrew",
    "th": "thai",
    "el": "greek",
    "hy": "armenian",
    "vi": "vietnamese",
}
"""Script used for page titles; every other language gets Latin titles."""
