"""Pages of each generated wiki, with their current length and latest revision.

Pages are created on first use (named by a seed-derived generator), then remembered, so successive
edits of one page chain: ``length.old`` is the previous ``length.new`` and ``revision.old`` the
previous ``revision.new``. The pool is bounded, so memory does not grow with the event count.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from wikistream.ingest import calibration as cal
from wikistream.ingest.synth import names
from wikistream.ingest.synth.draws import Weighted, draw_page_length, zipf_index
from wikistream.ingest.synth.wikis import Wiki

TOTAL_PAGES = 100_000
"""Pages across all wikis and namespaces, split by wiki weight (at least 50 per namespace)."""


@dataclass(slots=True)
class Page:
    """A page: its title, URL path and mutable state."""

    title: str
    path: str
    url: str  # https://<domain>/wiki/<path>
    namespace: int
    length: int
    revision: int
    link: tuple[str, str] | None = None  # [[:title]] and its <a> tag, made on first use


class WikiCounters:
    """Per-wiki rc ids and revision ids that only grow, like the real ones."""

    __slots__ = ("log_id", "rc_id", "revision")

    def __init__(self, rng: random.Random, wiki: Wiki) -> None:
        scale = {"wikidata": 2_400_000_000, "commons": 1_170_000_000}.get(wiki.project)
        if scale is None:
            scale = int(20_000_000 + 1_300_000_000 * min(1.0, wiki.weight * 8))
        self.revision = int(scale * (0.95 + 0.05 * rng.random()))
        self.rc_id = int(self.revision * (1.2 + rng.random()))
        self.log_id = int(self.revision * (0.1 + 0.1 * rng.random()))

    def next_rc_id(self) -> int:
        """Return the next recentchange id of this wiki."""
        self.rc_id += 1
        return self.rc_id

    def next_log_id(self) -> int:
        """Return the next log id of this wiki."""
        self.log_id += 1
        return self.log_id

    def next_revision(self) -> int:
        """Return the next revision id of this wiki."""
        self.revision += 1
        return self.revision


def _namespaces_for(wiki: Wiki) -> dict[int, float]:
    if wiki.project == "commons":
        return cal.COMMONS_NAMESPACES
    if wiki.project == "wikidata":
        return cal.WIKIDATA_NAMESPACES
    return cal.WIKIPEDIA_NAMESPACES


class PageBook:
    """Every generated page, by wiki and namespace."""

    def __init__(self, seed: int, wikis: tuple[Wiki, ...]) -> None:
        self._names = random.Random(f"{seed}:pages")
        self._wikis = wikis
        # Per wiki: namespace → (pool size, pages made so far); unknown namespaces get 50 pages.
        self._slots: list[dict[int, tuple[int, dict[int, Page]]]] = [
            {ns: (max(50, int(TOTAL_PAGES * w.weight * share)), {})
             for ns, share in _namespaces_for(w).items()}
            for w in wikis
        ]  # fmt: skip
        self._ns_mix = [self._ns_weighted(w) for w in wikis]
        self.counters = [
            WikiCounters(random.Random(f"{seed}:counters:{w.domain}"), w) for w in wikis
        ]

    @staticmethod
    def _ns_weighted(wiki: Wiki) -> Weighted[int]:
        mix = _namespaces_for(wiki)
        return Weighted(list(mix), list(mix.values()))

    def draw(self, rng: random.Random, wiki: Wiki, namespace: int | None = None) -> Page:
        """Return a page of ``wiki`` (namespace drawn from the wiki's mix unless given)."""
        if namespace is None:
            namespace = self._ns_mix[wiki.index].pick(rng.random())
        slots = self._slots[wiki.index]
        slot = slots.get(namespace)
        if slot is None:
            slot = slots[namespace] = (50, {})
        size, by_rank = slot
        rank = zipf_index(rng.random(), size, 0.9)
        page = by_rank.get(rank)
        if page is None:
            page = by_rank[rank] = self._make(wiki, namespace)
        return page

    def _make(self, wiki: Wiki, namespace: int) -> Page:
        rng = self._names
        title = names.namespace_prefix(wiki.lang, namespace) + self._name(rng, wiki, namespace)
        counters = self.counters[wiki.index]
        path = names.url_path(title)
        return Page(
            title=title,
            path=path,
            url=f"{wiki.server_url}/wiki/{path}",
            namespace=namespace,
            length=draw_page_length(rng),
            revision=counters.revision - rng.randint(1, 5_000_000),
        )

    @staticmethod
    def _name(rng: random.Random, wiki: Wiki, namespace: int) -> str:
        if wiki.project == "wikidata":
            if namespace == 0:
                return f"Q{rng.randint(1, 138_000_000)}"
            if namespace == 120:
                return f"P{rng.randint(1, 13_000)}"
            if namespace == 146:
                return f"L{rng.randint(1, 1_500_000)}"
        if namespace == 6:
            ext = rng.choice((".jpg", ".jpg", ".jpg", ".png", ".svg", ".tif", ".pdf"))
            return f"{names.make_page_name(rng, wiki.script)} {rng.randint(1, 999):03d}{ext}"
        if namespace in (2, 3):
            return names.make_registered_name(rng)
        if namespace == 4:
            return f"{names.make_word(rng, 'latin')}/{names.make_page_name(rng, wiki.script)}"
        return names.make_page_name(rng, wiki.script)
