"""The wikis the generator writes events for, each with its share of the stream."""

from __future__ import annotations

from dataclasses import dataclass

from wikistream.ingest import calibration as cal
from wikistream.ingest.config import SEED_TARGET_DOMAINS


@dataclass(frozen=True, slots=True)
class Wiki:
    """One wiki: how events name it and how often it appears."""

    index: int
    domain: str
    wiki_id: str
    lang: str
    project: str  # "wikipedia", "wikidata", "commons" or "other"
    script: str
    weight: float
    is_target: bool
    patrolled: bool
    server_url: str  # https://<domain>


def _wikipedia_id(lang: str) -> str:
    return f"{lang.replace('-', '_')}wiki"


def build_wikis(target_domains: tuple[str, ...] = SEED_TARGET_DOMAINS) -> tuple[Wiki, ...]:
    """Return every generated wiki with weights summing to 1, targets holding ``TARGET_SHARE``.

    ``target_domains`` only decides which wikis count as targets in the manifest; the stream mix
    is always the calibrated one, so a different target list sees a different target share.
    """
    rows: list[tuple[str, str, str, str, float]] = []
    total_targets = sum(cal.TARGET_WIKIPEDIA_COUNTS.values())
    for lang, count in cal.TARGET_WIKIPEDIA_COUNTS.items():
        share = cal.TARGET_SHARE * count / total_targets
        rows.append((f"{lang}.wikipedia.org", _wikipedia_id(lang), lang, "wikipedia", share))
    rows.append(
        (
            "www.wikidata.org",
            "wikidatawiki",
            "wikidata",
            "wikidata",
            cal.PROJECT_SHARES["www.wikidata.org"],
        )
    )
    rows.append(
        (
            "commons.wikimedia.org",
            "commonswiki",
            "commons",
            "commons",
            cal.PROJECT_SHARES["commons.wikimedia.org"],
        )
    )
    total_other = sum(cal.OTHER_WIKIPEDIA_COUNTS.values())
    for lang, count in cal.OTHER_WIKIPEDIA_COUNTS.items():
        share = cal.OTHER_WIKIPEDIA_SHARE * count / total_other
        rows.append((f"{lang}.wikipedia.org", _wikipedia_id(lang), lang, "wikipedia", share))
    total_projects = sum(weight for _, weight in cal.OTHER_PROJECT_WEIGHTS.values())
    for domain, (wiki_id, weight) in cal.OTHER_PROJECT_WEIGHTS.items():
        share = cal.OTHER_PROJECT_SHARE * weight / total_projects
        rows.append((domain, wiki_id, domain.split(".")[0], "other", share))
    norm = sum(row[4] for row in rows)
    targets = frozenset(target_domains)
    return tuple(
        Wiki(
            index=i,
            domain=domain,
            wiki_id=wiki_id,
            lang=lang,
            project=project,
            script=cal.LANGUAGE_SCRIPTS.get(lang, "latin"),
            weight=share / norm,
            is_target=domain in targets,
            patrolled=wiki_id in cal.PATROLLED_WIKIS,
            server_url=f"https://{domain}",
        )
        for i, (domain, wiki_id, lang, project, share) in enumerate(rows)
    )
