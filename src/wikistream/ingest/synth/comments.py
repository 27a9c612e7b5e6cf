"""Edit summaries (``comment``) with the HTML MediaWiki renders for them (``parsedcomment``).

Each builder returns both texts, produced side by side from the same pieces, so the pair always
agrees without parsing wikitext.
"""

from __future__ import annotations

import html
import random

from wikistream.ingest.synth.names import url_path
from wikistream.ingest.synth.pages import Page

Comment = tuple[str, str]

_PHRASES = (
    "fix typo", "copyedit", "ref", "Added citation", "update", "rm unsourced claim",
    "expanded section", "clean up", "grammar", "wikilinks", "infobox", "per talk page",
    "Adding short description", "image", "formatting", "updated statistics", "sp", "+cat",
    "Reverted good faith edits", "See talk", "source", "Undo vandalism", "tidy", "added info",
)  # fmt: skip
_BOT_PHRASES = (
    "Bot: Fixing redirect", "Rescuing 1 sources and tagging 0 as dead.) #IABot (v2.0.9.5",
    "Bot: Updating statistics", "Bot: archiving 3 threads", "Removing deleted file",
    "Bot: Migrating interwiki links", "Task 7: dating maintenance tags", "Signing comment",
    "Bot: Updating population data", "Add wikidata item",
)  # fmt: skip
_SECTIONS = (
    "History", "Career", "Early life", "References", "Geography", "Overview", "Reception",
    "Personal life", "Discography", "Demographics", "External links", "Plot", "Awards",
)  # fmt: skip
_WIKIDATA_ACTIONS = (
    ("wbsetclaim-create:2||1", "Created claim"),
    ("wbsetlabel-add:1|en", "Added [en] label"),
    ("wbsetdescription-set:1|en", "Changed [en] description"),
    ("wbsetreference-add:2|", "Added reference to claim"),
    ("wbsetsitelink-add:1|enwiki", "Added link to [enwiki]"),
    ("wbeditentity-update-languages-short:0||nl", "Changed label, description and/or aliases"),
)
_DELETE_REASONS = (
    "[[WP:CSD#G11|G11]]: Unambiguous advertising or promotion",
    "[[WP:CSD#A7|A7]]: No credible indication of importance",
    "[[WP:PROD|Expired PROD]]",
    "Mass deleting IP talk pages",
    "Housekeeping",
)


def link(target: str, text: str | None = None, *, path: str | None = None) -> Comment:
    """Return ``[[target|text]]`` and its rendered ``<a>`` tag.

    Generated titles and user names never contain ``&<>"'``, so they go into the HTML unescaped;
    ``path`` skips URL-encoding when the caller already has it (a :class:`Page`'s ``path``).
    """
    clean = target.lstrip(":")
    shown = clean if text is None else text
    wikitext = f"[[{target}]]" if text is None else f"[[{target}|{text}]]"
    href = url_path(clean) if path is None else path
    return wikitext, f'<a href="/wiki/{href}" title="{clean}">{shown}</a>'


def _plain(text: str) -> Comment:
    return text, html.escape(text)


def _reasoned(reason: str) -> Comment:
    """Render a reason that may start with one ``[[link|text]]``."""
    if not reason.startswith("[["):
        return _plain(reason)
    end = reason.index("]]")
    target, _, text = reason[2:end].partition("|")
    wikitext, rendered = link(target, text or None)
    rest = reason[end + 2 :]
    return wikitext + rest, rendered + html.escape(rest)


def edit_comment(rng: random.Random, page: Page, project: str, is_bot: bool) -> Comment:
    """Return the summary of an edit of ``page``."""
    u = rng.random()
    if project == "wikidata" and u < 0.85:
        magic, description = rng.choice(_WIKIDATA_ACTIONS)
        prop = f"P{rng.randint(17, 9000)}"
        value = f"Q{rng.randint(1, 130_000_000)}"
        prop_w, prop_h = link(f"Property:{prop}", path=f"Property:{prop}")
        value_w, value_h = link(value, path=value)
        return (
            f"/* {magic} */ {prop_w}: {value_w}",
            f'<span dir="auto"><span class="autocomment">{html.escape(description)}: </span>'
            f"</span> {prop_h}: {value_h}",
        )
    if u < 0.2:
        return "", ""
    if is_bot:
        return _plain(rng.choice(_BOT_PHRASES))
    if u < 0.5:
        section = rng.choice(_SECTIONS)
        phrase = rng.choice(_PHRASES) if rng.random() < 0.5 else ""
        anchor = url_path(section)
        tail = f": </span> {html.escape(phrase)}</span>" if phrase else "</span></span>"
        return (
            f"/* {section} */ {phrase}".rstrip(),
            f'<span dir="auto"><span class="autocomment"><a href="/wiki/{page.path}#{anchor}" '
            f'title="{page.title}">→\u200e{section}</a>{tail}',
        )
    return _plain(rng.choice(_PHRASES))


def revert_comment(reverted_user: str, restored_user: str) -> Comment:
    """Return a rollback summary naming the reverted and the restored editor."""
    contrib_w, contrib_h = link(f"Special:Contributions/{reverted_user}", reverted_user)
    talk_w, talk_h = link(f"User talk:{reverted_user}", "talk")
    restored_w, restored_h = link(f"User:{restored_user}", restored_user)
    return (
        f"Reverted edits by {contrib_w} ({talk_w}) to last version by {restored_w}",
        f"Reverted edits by {contrib_h} ({talk_h}) to last version by {restored_h}",
    )


def vandal_comment(rng: random.Random) -> Comment:
    """Return the kind of summary a vandal leaves: mostly none, sometimes a taunt."""
    return _plain(rng.choice(("", "", "", "lol", "fixed", "updated", "this is wrong", ".")))


def new_page_comment(rng: random.Random, subject: str) -> Comment:
    """Return MediaWiki's automatic summary for a page creation (it quotes the first words)."""
    text = f"Created page with ''''{subject}''' is a'"
    rendered = html.escape(text).replace("&#x27;", "&#039;")
    if rng.random() < 0.3:
        arrow_w, arrow_h = link("Special:MyLanguage/COM:AES", "←")
        return arrow_w + text, arrow_h + rendered
    return text, rendered


def new_item_comment() -> Comment:
    """Return Wikibase's automatic summary for a new item."""
    return (
        "/* wbeditentity-create-item:0| */",
        '<span dir="auto"><span class="autocomment">Created a new Item</span></span>',
    )


def categorize_comment(member: Page, added: bool) -> Comment:
    """Return the summary of a category change caused by an edit of ``member``."""
    if member.link is None:
        member.link = link(":" + member.title, path=member.path)
    member_w, member_h = member.link
    verb = "added to category" if added else "removed from category"
    return f"{member_w} {verb}", f"{member_h} {verb}"


def delete_reason(rng: random.Random) -> Comment:
    """Return the reason given for a deletion."""
    return _reasoned(rng.choice(_DELETE_REASONS))


def block_reason(rng: random.Random) -> Comment:
    """Return the reason given for a block."""
    return _reasoned(rng.choice(("[[WP:Vandalism|Vandalism]]", "Spam", "Block evasion", "")))
