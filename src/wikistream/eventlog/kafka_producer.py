"""Writing one append to Kafka: a transaction (records + checkpoint) or flush-then-checkpoint.

Unlike the seed's producer, no record is ever dropped: a full local queue waits, and any delivery
failure makes the append raise :class:`EventLogUnavailableError` so the caller retries the same
batch.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from wikistream.errors import EventLogError, EventLogUnavailableError
from wikistream.eventlog.base import NewRecord
from wikistream.eventlog.config import KafkaSettings

log = logging.getLogger(__name__)

Checkpoint = tuple[str, bytes, bytes]  # (kafka topic, key, JSON value)
_PURGED = (KafkaError._PURGE_QUEUE, KafkaError._PURGE_INFLIGHT)


class RecordWriter:
    """Owns the producer of one event log and writes each append all-or-nothing."""

    def __init__(self, settings: KafkaSettings, base: dict[str, Any], *, transactional_id: str):
        self.settings = settings
        self.transactional = settings.append_mode == "transactional"
        self.transactional_id = transactional_id
        self._base = base
        self._producer: Producer | None = None
        self._fatal: KafkaError | None = None

    # -- producer lifecycle ---------------------------------------------------------------
    def _on_error(self, err: KafkaError) -> None:
        if err.fatal():
            self._fatal = err
            log.error("Kafka producer fatal error: %s", err.str())
        else:
            log.debug("Kafka producer error: %s", err.str())

    def _conf(self) -> dict[str, Any]:
        cfg = self.settings
        conf = dict(self._base)
        conf.update(
            {
                "enable.idempotence": True,
                "acks": "all",
                "compression.type": cfg.compression_type,
                "linger.ms": cfg.linger_ms,
                "max.in.flight.requests.per.connection": 5,
                # Java's default partitioner: the same key lands in the same partition whichever
                # client (Spark, Kafka Connect, us) produced it.
                "partitioner": "murmur2_random",
                "message.timeout.ms": int(cfg.append_timeout_s * 1000),
                "error_cb": self._on_error,
            }
        )
        if self.transactional:
            conf["transactional.id"] = self.transactional_id
            conf["transaction.timeout.ms"] = int(cfg.transaction_timeout_s * 1000)
        conf.update(cfg.extra)
        return conf

    def _get(self) -> Producer:
        if self._producer is not None and self._fatal is None:
            return self._producer
        self.drop()
        producer = Producer(self._conf())
        if self.transactional:
            try:
                # Also aborts a transaction a crashed process left open under the same id.
                producer.init_transactions(self.settings.append_timeout_s)
            except KafkaException as exc:
                raise EventLogUnavailableError(
                    f"cannot start Kafka transactions as {self.transactional_id!r} on "
                    f"{self.settings.bootstrap_servers!r}: {exc.args[0].str()}; check the broker; "
                    "if it does not support transactions set log.kafka.append_mode = "
                    '"idempotent"'
                ) from exc
        self._producer = producer
        return producer

    def drop(self) -> None:
        """Forget the producer (after a fatal or unresolved error); the next append makes one."""
        producer, self._producer, self._fatal = self._producer, None, None
        if producer is not None:
            try:
                producer.purge(in_queue=True, in_flight=False)
                producer.flush(0)
            except (KafkaException, RuntimeError) as exc:
                log.debug("discarding a Kafka producer: %s", exc)

    def close(self) -> None:
        """Release the producer; nothing is pending because every append waits for delivery."""
        self.drop()

    # -- writing --------------------------------------------------------------------------
    def write(
        self, items: Sequence[tuple[str, Sequence[NewRecord]]], ckpt: Checkpoint | None
    ) -> None:
        """Write all records and the checkpoint; raise if they are not all durably stored."""
        deadline = time.monotonic() + self.settings.append_timeout_s
        if self.transactional:
            self._write_transaction(items, ckpt, deadline)
        else:
            self._write_flushed(items, ckpt, deadline)

    def _write_transaction(
        self,
        items: Sequence[tuple[str, Sequence[NewRecord]]],
        ckpt: Checkpoint | None,
        deadline: float,
    ) -> None:
        producer = self._get()
        failures: list[str] = []
        try:
            producer.begin_transaction()
            self._produce_all(producer, items, failures, deadline)
            if ckpt is not None:
                self._produce(producer, ckpt[0], ckpt[1], ckpt[2], None, failures, deadline)
            producer.commit_transaction(max(0.1, deadline - time.monotonic()))
        except KafkaException as exc:
            self._abort(producer, deadline)
            err: KafkaError = exc.args[0]
            detail = f"; first delivery error: {failures[0]}" if failures else ""
            raise EventLogUnavailableError(
                f"Kafka transaction of {_count(items)} records failed: {err.str()}{detail}; it "
                "was aborted unless the broker had already accepted its commit; retry the append "
                "(bronze drops a duplicate by event_id)"
            ) from exc
        except BaseException:
            self._abort(producer, deadline)
            raise

    def _abort(self, producer: Producer, deadline: float) -> None:
        if self._fatal is not None:
            self.drop()
            return
        try:
            producer.abort_transaction(max(1.0, deadline - time.monotonic()))
        except KafkaException as exc:
            # Unresolved: a new producer with the same transactional.id aborts it at init.
            log.warning("aborting the Kafka transaction failed (%s); recreating the producer", exc)
            self.drop()

    def _write_flushed(
        self,
        items: Sequence[tuple[str, Sequence[NewRecord]]],
        ckpt: Checkpoint | None,
        deadline: float,
    ) -> None:
        producer = self._get()
        failures: list[str] = []
        try:
            self._produce_all(producer, items, failures, deadline)
        except BaseException:
            # A failed append sends nothing more; purging leaves a sequence gap in the
            # idempotent producer, so it is replaced rather than reused.
            self.drop()
            raise
        self._flush(producer, failures, deadline, "records")
        # Only once every record is confirmed may the checkpoint move past them.
        if ckpt is not None:
            self._produce(producer, ckpt[0], ckpt[1], ckpt[2], None, failures, deadline)
            self._flush(producer, failures, deadline, "the checkpoint")

    def _flush(self, producer: Producer, failures: list[str], deadline: float, what: str) -> None:
        left = producer.flush(max(0.1, deadline - time.monotonic()))
        if left or failures or self._fatal is not None:
            self.drop()  # purges: records not sent by now must not land after we raised
            reason = failures[0] if failures else f"{left} still unconfirmed at the timeout"
            raise EventLogUnavailableError(
                f"Kafka did not confirm {what} ({reason}); some records of this append may be "
                "stored, retry the append (bronze drops the duplicates by event_id)"
            )

    def _produce_all(
        self,
        producer: Producer,
        items: Sequence[tuple[str, Sequence[NewRecord]]],
        failures: list[str],
        deadline: float,
    ) -> None:
        for topic, records in items:
            for record in records:
                self._produce(producer, topic, record.key, record.value, record, failures, deadline)

    def _produce(
        self,
        producer: Producer,
        topic: str,
        key: bytes | None,
        value: bytes,
        record: NewRecord | None,
        failures: list[str],
        deadline: float,
    ) -> None:
        def on_delivery(err: KafkaError | None, _msg: Message) -> None:
            # Purges are our own doing after a failure; the cause is reported elsewhere.
            if err is not None and err.code() not in _PURGED:
                failures.append(f"{topic}: {err.str()}")

        headers: list[tuple[str, str | bytes | None]] | None = (
            [(k, v.encode()) for k, v in record.headers.items()] if record else None
        )
        while True:
            try:
                producer.produce(topic, value, key, headers=headers, on_delivery=on_delivery)
                producer.poll(0)
                return
            except BufferError:
                # Local queue full: wait for deliveries to drain it; never drop the record.
                if time.monotonic() > deadline:
                    raise EventLogUnavailableError(
                        f"the Kafka producer queue stayed full for "
                        f"{self.settings.append_timeout_s}s; the broker is too slow or down"
                    ) from None
                producer.poll(0.05)
            except KafkaException as exc:
                err: KafkaError = exc.args[0]
                if err.code() == KafkaError.MSG_SIZE_TOO_LARGE:
                    raise EventLogError(
                        f"a record of {len(value)} bytes (key {key!r}) exceeds the Kafka message "
                        "size limit; raise message.max.bytes (log.kafka.extra) and the topic's "
                        "max.message.bytes, or send such events to the DLQ"
                    ) from exc
                raise


def _count(items: Sequence[tuple[str, Sequence[NewRecord]]]) -> int:
    return sum(len(records) for _topic, records in items)
