"""Topic statistics for the Kafka event log, read from the records themselves.

Offsets alone over-count a transactional topic (every commit marker takes an offset), so small
topics are counted by reading them; beyond ``exact_limit`` offsets the count is the offset span,
an upper bound, and the size is unknown (None).
"""

from __future__ import annotations

from collections.abc import Mapping

from confluent_kafka import Consumer, Message

from wikistream.eventlog.base import TopicStats
from wikistream.eventlog.kafka_scan import find_last, scan, to_log_record


def topic_stats(
    consumer: Consumer,
    topic: str,
    kafka_topic: str,
    lows: Mapping[int, int],
    ends: Mapping[int, int],
    deadline: float,
    *,
    exact_limit: int,
) -> TopicStats:
    """Return :class:`TopicStats` of one topic given its earliest and (estimated) end offsets."""
    span = sum(max(0, ends[p] - lows[p]) for p in lows)
    first: dict[int, Message] = {}
    last: dict[int, Message] = {}
    if span <= exact_limit:
        count = 0
        size = 0
        for msg in scan(consumer, kafka_topic, dict(lows), deadline):
            part = int(msg.partition() or 0)
            first.setdefault(part, msg)
            last[part] = msg
            count += 1
            size += len(msg.value() or b"")
        return _build(topic, first, last, count, size)
    for msg in scan(consumer, kafka_topic, dict(lows), deadline, stop=lambda _p: True):
        first.setdefault(int(msg.partition() or 0), msg)
    last = find_last(consumer, kafka_topic, lows, ends, deadline)
    bound = sum(
        int(m.offset() or 0) - int(first.get(p, m).offset() or 0) + 1 for p, m in last.items()
    )
    return _build(topic, first, last, bound, None)


def _build(
    topic: str,
    first: Mapping[int, Message],
    last: Mapping[int, Message],
    count: int,
    size: int | None,
) -> TopicStats:
    firsts = {p: to_log_record(topic, m) for p, m in first.items()}
    lasts = {p: to_log_record(topic, m) for p, m in last.items()}
    return TopicStats(
        topic=topic,
        records=count,
        first_offsets={p: r.offset for p, r in sorted(firsts.items())},
        last_offsets={p: r.offset for p, r in sorted(lasts.items())},
        oldest=min((r.timestamp for r in firsts.values()), default=None),
        newest=max((r.timestamp for r in lasts.values()), default=None),
        size_bytes=size,
    )
