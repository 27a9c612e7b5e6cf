"""SnsAlertSink against moto's threaded server on loopback: topic → SQS queue → message."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.observe.conftest import FakeClock
from wikistream.errors import AlertDeliveryError, ConfigError, DependencyMissingError
from wikistream.observe.alerts import Alert, AlertStatus, Severity
from wikistream.observe.sinks import SnsAlertSink, build_sinks
from wikistream.settings import Settings

REGION = "eu-west-1"

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials so nothing can reach real AWS."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def topic_and_queue(moto_endpoint: str, aws_env: None) -> tuple[str, Any, str]:
    sns = boto3.client("sns", region_name=REGION, endpoint_url=moto_endpoint)
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=moto_endpoint)
    topic_arn = sns.create_topic(Name="wikistream-alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName=f"alerts-{id(sns)}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return topic_arn, sqs, queue_url


def make_alert(clock: FakeClock) -> Alert:
    return Alert(
        name="stage_restart",
        key="stage_restart:bronze",
        severity=Severity.INFO,
        status=AlertStatus.FIRING,
        title="Stage bronze restarted",
        summary="bronze was restarted 1 time(s) in the last 10 min",
        details={"alert_type": "STAGE_RESTART", "stage": "bronze", "restarts_in_window": 1},
        started_at=clock.now,
        at=clock.now,
    )


def test_publish_reaches_a_subscribed_queue(
    topic_and_queue: tuple[str, Any, str], moto_endpoint: str, clock: FakeClock
) -> None:
    topic_arn, sqs, queue_url = topic_and_queue
    sink = SnsAlertSink(topic_arn, endpoint_url=moto_endpoint)
    assert sink.region == REGION  # taken from the ARN
    alert = make_alert(clock)
    sink.send(alert)
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2).get("Messages", [])
    assert len(messages) == 1
    envelope = json.loads(messages[0]["Body"])
    assert envelope["TopicArn"] == topic_arn
    assert envelope["Subject"] == alert.subject(limit=99)
    assert envelope["Subject"].startswith("ℹ️ WikiStream INFO: Stage bronze restarted")
    payload = json.loads(envelope["Message"])
    assert payload["alert_type"] == "STAGE_RESTART"
    assert payload["stage"] == "bronze"
    assert payload["severity"] == "INFO"
    assert envelope["MessageAttributes"]["severity"]["Value"] == "INFO"


def test_build_sinks_adds_sns_from_settings(
    topic_and_queue: tuple[str, Any, str], moto_endpoint: str, settings: Settings, clock: FakeClock
) -> None:
    topic_arn, sqs, queue_url = topic_and_queue
    settings.observe.sns_topic_arn = topic_arn
    settings.observe.sns_endpoint_url = moto_endpoint
    sinks = build_sinks(settings.observe)
    assert [s.name for s in sinks] == ["log", "sns"]
    sinks[1].send(make_alert(clock))
    messages = sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=2).get("Messages", [])
    assert len(messages) == 1


def test_missing_topic_is_a_delivery_error(
    moto_endpoint: str, aws_env: None, clock: FakeClock
) -> None:
    sink = SnsAlertSink(f"arn:aws:sns:{REGION}:123456789012:nope", endpoint_url=moto_endpoint)
    with pytest.raises(AlertDeliveryError, match="SNS publish to arn:aws:sns:eu-west-1"):
        sink.send(make_alert(clock))


def test_bad_arn_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not an SNS topic ARN") as info:
        SnsAlertSink("wikistream-alerts")
    assert info.value.key == "observe.sns_topic_arn"


def test_missing_boto3_names_the_aws_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)  # import boto3 now raises ImportError
    with pytest.raises(DependencyMissingError, match=r"wikistream\[aws\]") as info:
        SnsAlertSink("arn:aws:sns:us-east-1:123456789012:wikistream-alerts")
    assert info.value.extra == "aws"
    assert info.value.module == "boto3"
