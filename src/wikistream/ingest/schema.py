"""The facts of the official ``mediawiki/recentchange`` JSON schema, as typed msgspec Structs.

Our own copy of ``recentchange.schema.json`` (1.0.1, draft-07, ``additionalProperties: true``)
and of the legacy ``mediawiki/recentchange/2`` schema the 2018 stream used. Decoding an event with
:data:`DECODER` checks the type of every property the schema names, ``minLength``/``maxLength``
and the integer ranges; unknown properties are allowed (and kept verbatim in the log, since the
raw text is stored, not this Struct). What a Struct cannot say — required fields, the
``date-time`` format, ``$schema`` versions — is checked in :mod:`wikistream.ingest.validate`.

Beyond the schema (documented in docs/differences/ingest.md):

* integers the schema leaves unbounded (``id``, ``length.*``, ``revision.*``, ``log_id``,
  ``meta.offset``) must fit a signed 64-bit integer, because bronze stores them as BIGINT;
* ``meta.topic/partition/offset`` (added by EventStreams, not in the schema) must be a string,
  a non-negative integer and a non-negative integer when present: ingest deduplicates on them;
* ``title_url`` and ``notify_url`` (observed, not in the schema) must be strings when present.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import UNSET, UnsetType

# JSON-safe integers: the range the schema gives namespace and timestamp.
Int53 = Annotated[int, msgspec.Meta(ge=-9007199254740991, le=9007199254740991)]
# Everything bronze stores as BIGINT.
Int64 = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]
NonNegInt64 = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]
NonEmptyStr = Annotated[str, msgspec.Meta(min_length=1)]
DateTimeStr = Annotated[str, msgspec.Meta(max_length=128)]
UriStr = Annotated[str, msgspec.Meta(max_length=8192)]


class EventMeta(msgspec.Struct, gc=False):
    """``meta`` of fragment/common 1.0.0, plus EventStreams' position and legacy fields."""

    dt: DateTimeStr | UnsetType = UNSET
    stream: NonEmptyStr | UnsetType = UNSET
    id: str | UnsetType = UNSET
    domain: NonEmptyStr | UnsetType = UNSET
    uri: UriStr | UnsetType = UNSET
    request_id: str | UnsetType = UNSET
    # Added by EventStreams (KafkaSSE); the legacy schema requires topic with minLength 1.
    topic: NonEmptyStr | UnsetType | None = UNSET
    partition: NonNegInt64 | UnsetType | None = UNSET
    offset: NonNegInt64 | UnsetType | None = UNSET
    # Legacy mediawiki/recentchange/2 only.
    schema_uri: str | UnsetType = UNSET


class Sizes(msgspec.Struct, gc=False):
    """``length`` and ``revision``: ``{old, new}``, each an integer or null."""

    new: Int64 | UnsetType | None = UNSET
    old: Int64 | UnsetType | None = UNSET


class RecentChange(msgspec.Struct, gc=False):
    """One recentchange event with every property the schema types (all optional here)."""

    schema: str | UnsetType = msgspec.field(default=UNSET, name="$schema")
    meta: EventMeta | UnsetType = UNSET
    id: Int64 | UnsetType | None = UNSET
    type: str | UnsetType = UNSET
    title: str | UnsetType = UNSET
    title_url: str | UnsetType = UNSET
    namespace: Int53 | UnsetType = UNSET
    comment: str | UnsetType = UNSET
    parsedcomment: str | UnsetType = UNSET
    timestamp: Int53 | UnsetType = UNSET
    user: str | UnsetType = UNSET
    bot: bool | UnsetType = UNSET
    minor: bool | UnsetType = UNSET
    patrolled: bool | UnsetType = UNSET
    notify_url: str | UnsetType = UNSET
    server_url: str | UnsetType = UNSET
    server_name: str | UnsetType = UNSET
    server_script_path: str | UnsetType = UNSET
    wiki: str | UnsetType = UNSET
    length: Sizes | UnsetType = UNSET
    revision: Sizes | UnsetType = UNSET
    log_id: Int64 | UnsetType | None = UNSET
    log_type: str | UnsetType | None = UNSET
    log_action: str | UnsetType = UNSET
    log_params: list[Any] | dict[str, Any] | str | UnsetType = UNSET
    log_action_comment: str | UnsetType | None = UNSET


DECODER: msgspec.json.Decoder[RecentChange] = msgspec.json.Decoder(RecentChange)
"""Typed decoder: raises ``msgspec.ValidationError`` naming the JSON path of the first bad value."""


class _KnownMeta(EventMeta, forbid_unknown_fields=True):
    """:class:`EventMeta` with no other keys."""


class _KnownSizes(Sizes, forbid_unknown_fields=True):
    """:class:`Sizes` with no other keys."""


class KnownRecentChange(RecentChange, forbid_unknown_fields=True):
    """:class:`RecentChange` with no key the schema does not name (every real event so far).

    When this decodes, msgspec has decoded every string of the text, so it has also proven the
    text valid UTF-8; an unknown key anywhere makes it fail (then :data:`DECODER` is used).
    """

    meta: _KnownMeta | UnsetType = UNSET
    length: _KnownSizes | UnsetType = UNSET
    revision: _KnownSizes | UnsetType = UNSET


KNOWN_DECODER: msgspec.json.Decoder[KnownRecentChange] = msgspec.json.Decoder(KnownRecentChange)
"""The fast path of UTF-8 bytes: typed, and no unknown keys (so no separate UTF-8 check)."""

ANY_DECODER: msgspec.json.Decoder[Any] = msgspec.json.Decoder()
"""Untyped decoder, used only on the slow path to explain why an event was refused."""
