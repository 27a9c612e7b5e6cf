"""The fields of ``log`` events: page, reason, ``log_params`` and ``log_action_comment`` per kind.

``log_params`` keeps the shapes seen in real data: an array (delete, review), an object (move,
block, patrol, upload, newusers) or a string (protect).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from wikistream.ingest.calibration import LogKind
from wikistream.ingest.synth import comments, names
from wikistream.ingest.synth.pages import PageBook
from wikistream.ingest.synth.users import User, UserPool
from wikistream.ingest.synth.wikis import Wiki

_BASE36 = "0123456789abcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True, slots=True)
class LogFields:
    """What one log event says beyond the common fields."""

    title: str
    namespace: int
    comment: comments.Comment
    params: Any
    action_comment: str


def _mw_time(rng: random.Random) -> str:
    day = f"2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return f"{day}{rng.randint(0, 23):02d}{rng.randint(0, 59):02d}{rng.randint(0, 59):02d}"


def log_fields(
    rng: random.Random,
    kind: LogKind,
    wiki: Wiki,
    user: User,
    pages: PageBook,
    users: UserPool,
    salt: int,
) -> LogFields:
    """Return the kind-specific fields of a log event by ``user`` on ``wiki``."""
    params: Any
    user_ns = names.namespace_prefix(wiki.lang, 2)
    kind_name = kind.log_type
    if kind_name == "newusers":
        title = user_ns + user.name
        return LogFields(
            title, 2, ("", ""), {"userid": rng.randint(1, 50_000_000)},
            f"User account {user.name} was created automatically",
        )  # fmt: skip
    if kind_name in ("thanks", "block", "rights"):
        other = users.sample("ipv4" if kind_name == "block" else "registered", salt)
        title = user_ns + other.name
        if kind_name == "thanks":
            return LogFields(title, 2, ("", ""), {}, f"{user.name} thanked {other.name}")
        if kind_name == "block":
            reason = comments.block_reason(rng)
            params = {"duration": rng.choice(("31 hours", "1 week", "3 months", "infinite")),
                      "flags": "anononly,nocreate", "sitewide": True}  # fmt: skip
            return LogFields(
                title, 2, reason, params,
                f"blocked [[{title}|{other.name}]] with an expiration time of "
                f"{params['duration']} (anon. only, account creation disabled): {reason[0]}",
            )  # fmt: skip
        group = rng.choice(("rollbacker", "autopatrolled", "extendedconfirmed", "reviewer"))
        params = {"oldgroups": [], "newgroups": [group], "oldmetadata": [],
                  "newmetadata": [{"expiry": None}]}  # fmt: skip
        return LogFields(
            title, 2, ("", ""), params,
            f"changed group membership for {title} from (none) to {group}",
        )  # fmt: skip
    page = pages.draw(rng, wiki, kind.namespace)
    if kind_name == "upload":
        page = pages.draw(rng, wiki, 6)
        params = {"img_sha1": "".join(rng.choice(_BASE36) for _ in range(31)),
                  "img_timestamp": _mw_time(rng)}  # fmt: skip
        reason = ("Uploaded own work with UploadWizard", "Uploaded own work with UploadWizard")
        return LogFields(page.title, 6, reason, params, f'uploaded "[[{page.title}]]": {reason[0]}')
    if kind_name == "delete":
        reason = comments.delete_reason(rng)
        return LogFields(
            page.title, page.namespace, reason, [],
            f"deleted &quot;[[{page.title}]]&quot;: {reason[0]}",
        )  # fmt: skip
    if kind_name == "patrol":
        params = {
            "curid": page.revision,
            "previd": page.revision - rng.randint(1, 9999),
            "auto": 0,
        }
        return LogFields(
            page.title, page.namespace, ("", ""), params,
            f"marked revision {page.revision} of page [[{page.title}]] patrolled",
        )  # fmt: skip
    if kind_name == "review":
        params = [page.revision, page.revision - rng.randint(1, 99999), _mw_time(rng)]
        return LogFields(
            page.title, page.namespace, ("", ""), params,
            f"{user.name} reviewed a version of [[{page.title}]]",
        )  # fmt: skip
    if kind_name == "abusefilter":
        number = rng.randint(1, 1300)
        params = {"action": "edit", "filter": str(number), "actions": "", "log": salt}
        return LogFields(
            page.title, page.namespace, ("", ""), params,
            f"{user.name} triggered [[Special:AbuseFilter/{number}|filter {number}]], performing "
            f'the action "edit" on [[{page.title}]]. Actions taken: none',
        )  # fmt: skip
    if kind_name == "move":
        target = page.title + " (" + names.make_word(rng, wiki.script) + ")"
        params = {"target": target, "noredir": "0"}
        return LogFields(
            page.title, page.namespace, ("", ""), params, f"moved [[{page.title}]] to [[{target}]]"
        )
    # protect
    description = "[edit=autoconfirmed] (expires 00:00, 1 June 2026 (UTC))"
    return LogFields(
        page.title, page.namespace, ("Persistent vandalism", "Persistent vandalism"), description,
        f'protected "[[{page.title}]] {description}": Persistent vandalism',
    )  # fmt: skip
