"""Who is anonymous: IPv4/IPv6 addresses and temporary accounts, on real user names."""

from __future__ import annotations

import gzip
import ipaddress
import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.lake.bronze_rows import bronze_table, event, recentchange_row
from tests.lake.conftest import Lake
from wikistream.lake import transform
from wikistream.lake.schemas import SILVER
from wikistream.lake.silver import clean_batch
from wikistream.lake.users import UserKind, classify_user, normalize_user
from wikistream.settings import Settings


def is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def sql_kinds(settings: Settings, lake: Lake, names: list[str | None]) -> dict[str | None, str]:
    """Run the silver SQL model on one bronze row per name; return name → user_kind."""
    rows = [event(i, user=name) for i, name in enumerate(names)]
    silver = lake.table(SILVER)
    with transform.connect(settings) as con:
        out, _ = clean_batch(con, bronze_table(rows), _empty(silver))
    offsets = out["log_offset"].to_pylist()
    kinds = out["user_kind"].to_pylist()
    return {names[o]: k for o, k in zip(offsets, kinds, strict=True)}


def _empty(silver: object) -> pa.Table:
    from wikistream.lake.silver import empty_existing

    return empty_existing(silver)  # type: ignore[arg-type]


def test_2026_stream_sample_has_14_temporary_account_events(shared_data: Path, lake: Lake) -> None:
    lines = (shared_data / "recentchange-2026-02-26.jsonl").read_text().splitlines()
    lake.append(recentchange_row(line, offset) for offset, line in enumerate(lines))
    result = lake.silver()
    assert result.rows_in == 50
    assert result.rows_out == 50
    rows = lake.rows(SILVER)
    kinds = Counter(r["user_kind"] for r in rows)
    assert kinds["temporary"] == 14
    temporary_users = {r["user_normalized"] for r in rows if r["user_kind"] == "temporary"}
    assert temporary_users == {"~2026-12881-95", "~2026-12646-40", "~2026-81302-9"}
    # anonymity = ip or temporary; the seed's IPv4-only rule would have found none here
    assert all(r["is_anonymous"] == (r["user_kind"] != "registered") for r in rows)
    assert sum(r["is_anonymous"] for r in rows) == 14
    # the non-Wikipedia wikis of the sample fall back to region `other`, two-letter language
    commons = [r for r in rows if r["domain"] == "commons.wikimedia.org"]
    assert commons
    assert all(r["region"] == "other" and r["language"] == "co" for r in commons)


def test_wikiticker_ipv4_and_ipv6_editors_are_ip(
    shared_data: Path, settings: Settings, lake: Lake
) -> None:
    with gzip.open(shared_data / "wikiticker-2015-09-12-sampled.json.gz", "rt") as handle:
        records = [json.loads(line) for line in handle]
    names = sorted({r["user"] for r in records})
    kinds = sql_kinds(settings, lake, list(names))
    flagged_anonymous = {r["user"] for r in records if r["isAnonymous"]}
    ipv6 = {n for n in names if ":" in n and is_ip(n)}
    assert len(flagged_anonymous) == 2904
    assert len(ipv6) > 50
    assert all(kinds[n] == "ip" for n in flagged_anonymous)  # all IPv4 in this file
    assert all(kinds[n] == "ip" for n in ipv6)  # the file itself flags these non-anonymous
    # every name the stdlib parses as an address is `ip`; no other name is
    assert {n for n in names if kinds[n] == "ip"} == {n for n in names if is_ip(n)}
    assert all(classify_user(n) == kinds[n] for n in names)
    assert not any(kinds[n] == "temporary" for n in names)  # no temporary accounts in 2015


def test_edge_names_in_sql_and_python_agree(settings: Settings, lake: Lake) -> None:
    cases = {
        "255.255.255.255": "ip",
        "256.1.1.1": "registered",  # the seed's \d{1,3} shape test called this anonymous
        "1.2.3": "registered",
        "1.2.3.4.5": "registered",
        "2001:DB8:0:0:8:800:200C:417A": "ip",
        "2001:db8::1": "ip",
        "::1": "ip",
        "2001:DB8::8::1": "registered",
        "~2025-12345-6": "temporary",
        "~2026-81302-9": "temporary",
        "~2025": "registered",
        "~Someone": "registered",
        "Deadbeef": "registered",
    }
    kinds = sql_kinds(settings, lake, list(cases))
    assert kinds == cases
    assert {name: str(classify_user(name)) for name in cases} == cases


def test_missing_user_has_no_kind_and_is_not_anonymous(settings: Settings, lake: Lake) -> None:
    lake.append([event(1, user=None)])
    lake.silver()
    (row,) = lake.rows(SILVER)
    assert row["user_normalized"] is None
    assert row["user_kind"] is None
    assert row["is_anonymous"] is False


def test_control_characters_are_stripped_then_spaces_trimmed(lake: Lake) -> None:
    lake.append([event(1, user="  Bob\x00\x1f\x7fby\t "), event(2, user="\x01")])
    lake.silver()
    names = [r["user_normalized"] for r in lake.rows(SILVER)]
    assert names == ["Bobby", ""]  # tab is a control char; an all-control name becomes ''
    assert normalize_user("  Bob\x00\x1f\x7fby\t ") == "Bobby"


@settings(max_examples=200, deadline=None)
@given(st.ip_addresses())
def test_every_ip_address_is_classified_ip(address: ipaddress.IPv4Address) -> None:
    text = str(address)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return  # ::ffff:1.2.3.4 forms are never MediaWiki user names
    if "." in text and ":" in text:
        return
    assert classify_user(text) is UserKind.ip
    assert classify_user(address.exploded.upper()) is UserKind.ip


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=20))
def test_random_names_are_ip_only_when_they_parse_as_addresses(name: str) -> None:
    if classify_user(name) is UserKind.ip:
        assert is_ip(name)
