"""WebhookAlertSink against a real HTTP receiver on loopback."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator

import pytest

from tests.observe.conftest import FakeClock
from tests.webhook_receiver import WebhookReceiver
from wikistream.errors import AlertDeliveryError
from wikistream.observe.alerts import Alert, AlertEvaluator, AlertStatus, Finding, Severity
from wikistream.observe.sinks import LogAlertSink, WebhookAlertSink
from wikistream.observe.state import PipelineState

TOKEN = "T0001/B0002/s3cr3tW3bh00kT0k3n"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = WebhookReceiver(f"/services/{TOKEN}")
    yield r
    r.close()


def make_alert(clock: FakeClock, status: AlertStatus = AlertStatus.FIRING) -> Alert:
    return Alert(
        name="dq_gate_failure",
        key="dq_gate_failure:bronze:bronze.raw_events",
        severity=Severity.CRITICAL,
        status=status,
        title="DQ Gate FAILED: BRONZE (bronze.raw_events)",
        summary="1 of 4 checks failed",
        details={
            "alert_type": "DATA_QUALITY_GATE_FAILURE",
            "run_id": "dq-1",
            "layer": "bronze",
            "table": "bronze.raw_events",
            "action_required": "Downstream processing blocked.",
        },
        started_at=clock.now,
        at=clock.now,
    )


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_posts_slack_blocks_and_structured_payload(
    receiver: WebhookReceiver, clock: FakeClock
) -> None:
    WebhookAlertSink(receiver.url).send(make_alert(clock))
    (body,) = receiver.bodies
    assert receiver.paths == [f"/services/{TOKEN}"]
    assert receiver.headers[0]["Content-Type"] == "application/json"
    assert body["text"].startswith("🚨 WikiStream CRITICAL: DQ Gate FAILED: BRONZE")
    assert body["blocks"][0]["type"] == "header"
    fields = [f["text"] for f in body["blocks"][2]["fields"]]
    assert "*Severity*\nCRITICAL" in fields
    assert "*layer*\nbronze" in fields
    assert body["blocks"][3]["elements"][0]["text"] == "Downstream processing blocked."
    assert body["wikistream"]["alert_type"] == "DATA_QUALITY_GATE_FAILURE"
    assert body["wikistream"]["run_id"] == "dq-1"
    assert body["wikistream"]["status"] == "firing"


def test_details_that_json_cannot_encode_are_sent_as_text(
    receiver: WebhookReceiver, clock: FakeClock
) -> None:
    alert = make_alert(clock)
    odd = Alert(**{**{f: getattr(alert, f) for f in alert.__slots__}, "details": {"at": clock.now}})
    WebhookAlertSink(receiver.url).send(odd)
    assert receiver.bodies[0]["wikistream"]["at"] == "2026-02-26 12:00:00+00:00"


def test_server_errors_are_retried_with_backoff(
    receiver: WebhookReceiver, clock: FakeClock
) -> None:
    receiver.statuses = [500, 503]
    sleeps = Sleeps()
    WebhookAlertSink(receiver.url, attempts=3, backoff_s=0.5, sleep=sleeps).send(make_alert(clock))
    assert len(receiver.bodies) == 3
    assert sleeps == [0.5, 1.0]


def test_429_honours_retry_after(receiver: WebhookReceiver, clock: FakeClock) -> None:
    receiver.statuses = [429]
    sleeps = Sleeps()
    WebhookAlertSink(receiver.url, backoff_s=0.1, sleep=sleeps).send(make_alert(clock))
    assert sleeps == [2.0]


def test_persistent_500_raises_after_retries_and_the_evaluator_keeps_working(
    receiver: WebhookReceiver, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    receiver.statuses = [500] * 10
    sink = WebhookAlertSink(receiver.url, attempts=3, backoff_s=0, sleep=Sleeps())
    with pytest.raises(AlertDeliveryError, match="after 3 attempt") as info:
        sink.send(make_alert(clock))
    assert info.value.retryable
    assert "HTTP 500" in str(info.value)
    assert len(receiver.bodies) == 3

    class Always:
        name = "always"

        def evaluate(self, state: PipelineState) -> list[Finding]:
            return [Finding("always", "always", Severity.WARNING, "t", "s", {})]

    logged = logging.getLogger("test.alerts")
    evaluator = AlertEvaluator([Always()], [sink, LogAlertSink(logged)], cooldown_s=0)
    with caplog.at_level(logging.DEBUG):
        for _ in range(2):
            sent = evaluator.evaluate(PipelineState(at=clock.now, started_at=clock.now))
            clock.advance(1)
            assert len(sent) == 1
    assert evaluator.delivery_failures == {"webhook": 2, "log": 0}
    assert sum("WikiStream WARNING: t" in r.getMessage() for r in caplog.records) == 2


def test_connection_refused_raises_after_retries(clock: FakeClock) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens
    sleeps = Sleeps()
    sink = WebhookAlertSink(f"http://127.0.0.1:{port}/hook/{TOKEN}", backoff_s=0.2, sleep=sleeps)
    with pytest.raises(AlertDeliveryError, match="ConnectError"):
        sink.send(make_alert(clock))
    assert sleeps == [0.2, 0.4]


def test_client_error_is_not_retried(receiver: WebhookReceiver, clock: FakeClock) -> None:
    receiver.statuses = [404]
    with pytest.raises(AlertDeliveryError, match="HTTP 404") as info:
        WebhookAlertSink(receiver.url, sleep=Sleeps()).send(make_alert(clock))
    assert not info.value.retryable
    assert len(receiver.bodies) == 1


def test_slow_receiver_times_out(receiver: WebhookReceiver, clock: FakeClock) -> None:
    receiver.delay_s = 1.0
    sink = WebhookAlertSink(receiver.url, timeout_s=0.2, attempts=2, backoff_s=0, sleep=Sleeps())
    with pytest.raises(AlertDeliveryError, match="ReadTimeout"):
        sink.send(make_alert(clock))


def test_webhook_token_never_reaches_logs_errors_or_repr(
    receiver: WebhookReceiver, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    secret_part = TOKEN.rsplit("/", 1)[1]
    with caplog.at_level(logging.DEBUG):
        sink = WebhookAlertSink(receiver.url, backoff_s=0, sleep=Sleeps())
        sink.send(make_alert(clock))
        receiver.statuses = [500] * 3
        with pytest.raises(AlertDeliveryError) as info:
            sink.send(make_alert(clock, AlertStatus.RESOLVED))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        dead = WebhookAlertSink(f"http://127.0.0.1:{port}/services/{TOKEN}", sleep=Sleeps())
        with pytest.raises(AlertDeliveryError) as refused:
            dead.send(make_alert(clock))
    assert any("HTTP Request: POST" in r.getMessage() for r in caplog.records)  # httpx did log
    for text in (caplog.text, str(info.value), str(refused.value), repr(sink), repr(dead)):
        assert secret_part not in text
    assert "127.0.0.1" in repr(sink)


def test_webhook_url_must_be_http(clock: FakeClock) -> None:
    from wikistream.errors import ConfigError

    with pytest.raises(ConfigError, match=r"observe\.webhook_url"):
        WebhookAlertSink("hooks.slack.com/services/x")
