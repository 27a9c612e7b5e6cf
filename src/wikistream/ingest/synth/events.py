"""Turn draws into recentchange events laid out exactly like the live stream's (1.0.0 format).

Key order follows the 2026 sample: ``$schema``, ``meta`` (uri, request_id, id, domain, stream, dt,
topic, partition, offset), ``id``, ``type``, ``namespace``, ``title``, ``title_url``, ``comment``,
``timestamp``, ``user``, ``bot``, then the type's own fields, then ``server_url``, ``server_name``,
``server_script_path``, ``wiki``, ``parsedcomment``. ``timestamp`` is ``floor(meta.dt)``.
"""

from __future__ import annotations

import random
import time
from typing import Any

from wikistream.ingest import calibration as cal
from wikistream.ingest.synth import comments, names
from wikistream.ingest.synth.draws import (
    Weighted,
    draw_edit_delta,
    draw_large_deletion,
    draw_new_length,
    draw_small_delta,
)
from wikistream.ingest.synth.logs import log_fields
from wikistream.ingest.synth.pages import Page, PageBook
from wikistream.ingest.synth.planted import PlantedUser
from wikistream.ingest.synth.tally import DAY_MS, LARGE_DELETION, Tally
from wikistream.ingest.synth.users import User, UserPool
from wikistream.ingest.synth.wikis import Wiki

Event = dict[str, Any]
_V4 = 4 << 76
_V4_MASK = ~(0xF << 76)
_VARIANT = 0x2 << 62
_VARIANT_MASK = ~(0x3 << 62)
_LOW_128 = (1 << 128) - 1
_VARIANT_CHARS = "89ab"


def uuid4_text(bits: int) -> str:
    """Format 128 random bits as a version-4 UUID string."""
    h = ((bits & _V4_MASK & _VARIANT_MASK) | _V4 | _VARIANT).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid4_pair(bits: int) -> tuple[str, str]:
    """Format 256 random bits as two version-4 UUID strings (one hex conversion for both)."""
    h = bits.to_bytes(32, "big").hex()
    # The variant digits (hex 16 and 48) are replaced, so their own low bits pick 8, 9, a or b.
    v1, v2 = _VARIANT_CHARS[bits >> 188 & 3], _VARIANT_CHARS[bits >> 60 & 3]
    return (
        f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{v1}{h[17:20]}-{h[20:32]}",
        f"{h[32:40]}-{h[40:44]}-4{h[45:48]}-{v2}{h[49:52]}-{h[52:]}",
    )


class EventFactory:
    """Builds organic, planted and canary events and counts them in a :class:`Tally`."""

    def __init__(
        self, wikis: tuple[Wiki, ...], pages: PageBook, users: UserPool, tally: Tally
    ) -> None:
        self.wikis = wikis
        self.pages = pages
        self.users = users
        self.tally = tally
        self._wiki_mix = Weighted(wikis, [w.weight for w in wikis])
        self._type_mix = Weighted(list(cal.TYPE_MIX), list(cal.TYPE_MIX.values()))
        self._log_mix = Weighted(cal.LOG_KINDS, [k.share for k in cal.LOG_KINDS])
        self._sec = -1
        self._sec_text = ""

    # -- common parts -------------------------------------------------------------------------

    def _dt(self, ms: int) -> str:
        sec = ms // 1000
        if sec != self._sec:
            self._sec = sec
            self._sec_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
        return f"{self._sec_text}.{ms % 1000:03d}Z"

    def _meta(self, rng: random.Random, wiki: Wiki, url: str, ms: int, offset: int) -> Event:
        request_id, event_id = uuid4_pair(rng.getrandbits(256))
        return {
            "uri": url,
            "request_id": request_id,
            "id": event_id,
            "domain": wiki.domain,
            "stream": cal.STREAM,
            "dt": self._dt(ms),
            "topic": cal.TOPIC,
            "partition": 0,
            "offset": offset,
        }

    @staticmethod
    def _tail(wiki: Wiki, parsed: str) -> Event:
        return {
            "server_url": wiki.server_url,
            "server_name": wiki.domain,
            "server_script_path": "/w",
            "wiki": wiki.wiki_id,
            "parsedcomment": parsed,
        }

    # -- organic events -----------------------------------------------------------------------

    def organic(self, rng: random.Random, ms: int, offset: int) -> Event:
        """Return one organic event of a drawn wiki, type and editor at time ``ms``."""
        wiki = self._wiki_mix.pick(rng.random())
        kind = self._type_mix.pick(rng.random())
        user = self.users.draw(rng, ms // DAY_MS)
        if kind == "categorize":
            return self._categorize(rng, wiki, user, ms, offset)
        if kind == "edit":
            return self._edit(rng, wiki, user, ms, offset)
        if kind == "log":
            return self._log(rng, wiki, user, ms, offset)
        return self._new(rng, wiki, user, ms, offset)

    def _edit(self, rng: random.Random, wiki: Wiki, user: User, ms: int, offset: int) -> Event:
        page = self.pages.draw(rng, wiki)
        delta = draw_edit_delta(rng)
        if delta < LARGE_DELETION and not self.users.allow_large_deletion(user, ms // DAY_MS):
            delta = -rng.randint(600, 4999)
        if rng.random() < 0.03 and not user.is_bot:
            reverted = self.users.sample("ipv4" if rng.random() < 0.5 else "temporary", offset)
            restored = self.users.sample("registered", offset >> 3)
            comment = comments.revert_comment(reverted.name, restored.name)
        else:
            comment = comments.edit_comment(rng, page, wiki.project, user.is_bot)
        minor = rng.random() < (cal.MINOR_SHARE["bot"] if user.is_bot else cal.MINOR_SHARE["human"])
        event = self._revision_event(
            rng, wiki, page, user.name, user.is_bot, ms, offset, delta, comment, minor
        )
        self.tally.add(wiki, 0, user.kind, ms, delta)
        return event

    def _revision_event(
        self,
        rng: random.Random,
        wiki: Wiki,
        page: Page,
        user_name: str,
        is_bot: bool,
        ms: int,
        offset: int,
        delta: int,
        comment: comments.Comment,
        minor: bool,
    ) -> Event:
        old_len = page.length
        if old_len + delta < 0:
            # The page grew through edits outside the generated stream.
            old_len = -delta + rng.randint(0, 2000)
        counters = self.pages.counters[wiki.index]
        rev_old, rev_new = page.revision, counters.next_revision()
        page.length, page.revision = old_len + delta, rev_new
        rc_id = counters.next_rc_id()
        url = page.url
        notify = f"{wiki.server_url}/w/index.php?diff={rev_new}&oldid={rev_old}"
        event: Event = {
            "$schema": cal.SCHEMA_URI,
            "meta": self._meta(rng, wiki, url, ms, offset),
            "id": rc_id,
            "type": "edit",
            "namespace": page.namespace,
            "title": page.title,
            "title_url": url,
            "comment": comment[0],
            "timestamp": ms // 1000,
            "user": user_name,
            "bot": is_bot,
            "notify_url": f"{notify}&rcid={rc_id}" if wiki.patrolled else notify,
            "minor": minor,
        }
        if wiki.patrolled:
            event["patrolled"] = rng.random() < cal.PATROLLED_TRUE_SHARE
        event["length"] = {"old": old_len, "new": old_len + delta}
        event["revision"] = {"old": rev_old, "new": rev_new}
        event.update(self._tail(wiki, comment[1]))
        return event

    def _new(self, rng: random.Random, wiki: Wiki, user: User, ms: int, offset: int) -> Event:
        counters = self.pages.counters[wiki.index]
        if wiki.project == "wikidata":
            namespace, title = 0, f"Q{counters.revision // 18}"
            comment = comments.new_item_comment()
        else:
            namespace = 14 if wiki.project == "commons" else 0
            body = names.make_page_name(rng, wiki.script)
            title = names.namespace_prefix(wiki.lang, namespace) + body
            comment = comments.new_page_comment(rng, body)
        rev, rc_id = counters.next_revision(), counters.next_rc_id()
        url = f"{wiki.server_url}/wiki/{names.url_path(title)}"
        event: Event = {
            "$schema": cal.SCHEMA_URI,
            "meta": self._meta(rng, wiki, url, ms, offset),
            "id": rc_id,
            "type": "new",
            "namespace": namespace,
            "title": title,
            "title_url": url,
            "comment": comment[0],
            "timestamp": ms // 1000,
            "user": user.name,
            "bot": user.is_bot,
            "notify_url": f"{wiki.server_url}/w/index.php?oldid={rev}&rcid={rc_id}",
            "minor": False,
        }
        if wiki.patrolled:
            event["patrolled"] = user.is_bot
        event["length"] = {"new": draw_new_length(rng)}
        event["revision"] = {"new": rev}
        event.update(self._tail(wiki, comment[1]))
        self.tally.add(wiki, 1, user.kind, ms, None)
        return event

    def _categorize(
        self, rng: random.Random, wiki: Wiki, user: User, ms: int, offset: int
    ) -> Event:
        category = self.pages.draw(rng, wiki, 14)
        member = self.pages.draw(rng, wiki)
        comment = comments.categorize_comment(member, added=rng.random() < 0.8)
        url = category.url
        self.tally.add(wiki, 3, user.kind, ms, None)
        return {
            "$schema": cal.SCHEMA_URI,
            "meta": self._meta(rng, wiki, url, ms, offset),
            "id": self.pages.counters[wiki.index].next_rc_id(),
            "type": "categorize",
            "namespace": 14,
            "title": category.title,
            "title_url": url,
            "comment": comment[0],
            "timestamp": ms // 1000,
            "user": user.name,
            "bot": user.is_bot,
            "notify_url": f"{wiki.server_url}/w/index.php?diff={member.revision}&oldid=0",
            "server_url": wiki.server_url,
            "server_name": wiki.domain,
            "server_script_path": "/w",
            "wiki": wiki.wiki_id,
            "parsedcomment": comment[1],
        }

    def _log(self, rng: random.Random, wiki: Wiki, user: User, ms: int, offset: int) -> Event:
        kind = self._log_mix.pick(rng.random())
        counters = self.pages.counters[wiki.index]
        fields = log_fields(rng, kind, wiki, user, self.pages, self.users, offset)
        url = f"{wiki.server_url}/wiki/{names.url_path(fields.title)}"
        event: Event = {"$schema": cal.SCHEMA_URI, "meta": self._meta(rng, wiki, url, ms, offset)}
        if kind.has_rc_id:
            event["id"] = counters.next_rc_id()
        event.update(
            type="log",
            namespace=fields.namespace,
            title=fields.title,
            title_url=url,
            comment=fields.comment[0],
            timestamp=ms // 1000,
            user=user.name,
            bot=user.is_bot,
            log_id=counters.next_log_id(),
            log_type=kind.log_type,
            log_action=kind.log_action,
            log_params=fields.params,
            log_action_comment=fields.action_comment,
        )
        event.update(self._tail(wiki, fields.comment[1]))
        self.tally.add(wiki, 2, user.kind, ms, None)
        return event

    # -- planted and canary events ------------------------------------------------------------

    def planted(self, rng: random.Random, user: PlantedUser, ms: int, offset: int) -> Event:
        """Return the next edit of a planted user (a large deletion when its quota says so)."""
        wiki = user.next_wiki()
        page = self.pages.draw(rng, wiki, 0)
        delta = draw_large_deletion(rng) if user.take_deletion(rng) else draw_small_delta(rng)
        comment = comments.vandal_comment(rng)
        event = self._revision_event(
            rng, wiki, page, user.name, False, ms, offset, delta, comment, False
        )
        user.emitted += 1
        if user.first_dt is None:
            user.first_dt = event["meta"]["dt"]
        user.last_dt = event["meta"]["dt"]
        self.tally.add(wiki, 0, user.kind, ms, delta)
        return event

    def canary(self, rng: random.Random, ms: int, offset: int) -> Event:
        """Return a canary event: only ``$schema`` and ``meta`` with ``domain: canary``."""
        self.tally.canaries += 1
        ids = rng.getrandbits(256)
        return {
            "$schema": cal.CANARY_SCHEMA_URI,
            "meta": {
                "dt": self._dt(ms),
                "stream": cal.STREAM,
                "domain": "canary",
                "request_id": uuid4_text(ids >> 128),
                "id": uuid4_text(ids & _LOW_128),
                "topic": cal.TOPIC,
                "partition": 0,
                "offset": offset,
            },
        }
