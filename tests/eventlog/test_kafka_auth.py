"""librdkafka configuration from settings: SASL, TLS, MSK IAM tokens, and no leaked secrets."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from wikistream.errors import ConfigError, EventLogUnavailableError
from wikistream.eventlog.config import KafkaSettings
from wikistream.eventlog.kafka_auth import (
    REDACTED,
    MskIamTokenSource,
    build_client_config,
    redact_config,
)

PASSWORD = "pw-Zq81-very-secret"
FAKE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
FAKE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


@pytest.fixture
def fake_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Static fake credentials: the signer signs locally, nothing reaches AWS."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


def test_plaintext_defaults() -> None:
    conf = build_client_config(KafkaSettings(bootstrap_servers="b1:9092,b2:9092"))
    assert conf["bootstrap.servers"] == "b1:9092,b2:9092"
    assert conf["security.protocol"] == "PLAINTEXT"
    assert "sasl.mechanism" not in conf


def test_scram_password_reaches_librdkafka_but_no_repr_or_redacted_view() -> None:
    settings = KafkaSettings(
        bootstrap_servers="b:9096",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="wikistream",
        sasl_password=SecretStr(PASSWORD),
        ssl_ca_location="/etc/ssl/ca.pem",
    )
    conf = build_client_config(settings)
    assert conf["sasl.password"] == PASSWORD
    assert conf["sasl.mechanism"] == "SCRAM-SHA-512"
    assert conf["ssl.ca.location"] == "/etc/ssl/ca.pem"
    assert redact_config(conf)["sasl.password"] == REDACTED
    assert PASSWORD not in str(redact_config(conf))
    assert PASSWORD not in repr(settings)
    assert PASSWORD not in settings.model_dump_json()


def test_sasl_without_password_is_a_config_error() -> None:
    settings = KafkaSettings(
        bootstrap_servers="b:9096", security_protocol="SASL_SSL", sasl_mechanism="PLAIN"
    )
    with pytest.raises(ConfigError, match="sasl_password") as exc:
        build_client_config(settings)
    assert exc.value.key == "log.kafka.sasl_username"


def test_sasl_mechanism_over_plaintext_is_a_config_error() -> None:
    settings = KafkaSettings(
        bootstrap_servers="b:9092",
        sasl_mechanism="PLAIN",
        sasl_username="u",
        sasl_password=SecretStr(PASSWORD),
    )
    with pytest.raises(ConfigError, match="use SASL_SSL") as exc:
        build_client_config(settings)
    assert PASSWORD not in str(exc.value)


def test_sasl_protocol_without_mechanism_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no sasl_mechanism"):
        build_client_config(KafkaSettings(bootstrap_servers="b:1", security_protocol="SASL_SSL"))


def test_msk_iam_builds_oauthbearer_over_tls(fake_aws: None) -> None:
    settings = KafkaSettings(bootstrap_servers="b-1.msk:9098", msk_iam=True, aws_region="eu-west-1")
    conf = build_client_config(settings)
    assert conf["security.protocol"] == "SASL_SSL"
    assert conf["sasl.mechanism"] == "OAUTHBEARER"
    assert isinstance(conf["oauth_cb"], MskIamTokenSource)
    assert redact_config(conf)["oauth_cb"] == REDACTED


def test_msk_iam_token_is_signed_locally_with_expiry(
    fake_aws: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    source = MskIamTokenSource("us-east-1")
    token, expiry = source("")
    assert len(token) > 100
    assert 60 < expiry - time.time() <= 3600
    assert FAKE_SECRET not in token
    assert FAKE_SECRET not in caplog.text
    assert token not in caplog.text
    assert token not in repr(source)


def test_msk_iam_region_from_environment(fake_aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "ap-south-1")
    conf = build_client_config(KafkaSettings(bootstrap_servers="b:9098", msk_iam=True))
    assert conf["oauth_cb"].region == "ap-south-1"


def test_msk_iam_without_region_is_a_config_error(
    fake_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(ConfigError, match="AWS_REGION") as exc:
        build_client_config(KafkaSettings(bootstrap_servers="b:9098", msk_iam=True))
    assert exc.value.key == "log.kafka.aws_region"


def test_msk_iam_without_credentials_fails_without_secrets(
    fake_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    source = MskIamTokenSource("us-east-1")
    with pytest.raises(EventLogUnavailableError, match="cannot sign an MSK IAM token") as exc:
        source("")
    assert exc.value.retryable
    assert exc.value.__cause__ is None


def test_transaction_timeout_must_cover_append_timeout() -> None:
    with pytest.raises(ValueError, match="transaction_timeout_s"):
        KafkaSettings(append_timeout_s=90, transaction_timeout_s=60)


def test_librdkafka_accepts_the_msk_iam_token(fake_aws: None) -> None:
    from confluent_kafka import KafkaError, Producer

    from tests.kafka_broker import free_port

    settings = KafkaSettings(
        bootstrap_servers=f"127.0.0.1:{free_port()}", msk_iam=True, aws_region="us-east-1"
    )
    conf = build_client_config(settings)
    source: MskIamTokenSource = conf["oauth_cb"]
    calls: list[float] = []

    def counting(config: str | None) -> tuple[str, float]:
        token, expiry = source(config)
        calls.append(expiry)
        return token, expiry

    errors: list[KafkaError] = []
    conf.update({"oauth_cb": counting, "error_cb": errors.append, "log_level": 0})
    producer = Producer(conf)
    deadline = time.monotonic() + 5
    while not calls and time.monotonic() < deadline:
        producer.poll(0.1)
    assert calls, "librdkafka never asked for an MSK IAM token"
    token_errors = [e for e in errors if "token" in e.str().lower() or "oauth" in e.str().lower()]
    assert token_errors == []


def test_event_log_serves_the_msk_iam_token_before_admin_requests(
    fake_aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.kafka_broker import free_port
    from wikistream.eventlog.kafka import KafkaEventLog

    calls: list[str] = []
    original = MskIamTokenSource.__call__

    def counting(self: MskIamTokenSource, config: str | None = None) -> tuple[str, float]:
        calls.append(self.region)
        return original(self, config)

    monkeypatch.setattr(MskIamTokenSource, "__call__", counting)
    settings = KafkaSettings(
        bootstrap_servers=f"127.0.0.1:{free_port()}",
        msk_iam=True,
        aws_region="eu-central-1",
        request_timeout_s=1.0,
        extra={"log_level": "0"},
    )
    log = KafkaEventLog(settings, retention_days=7.0)
    try:
        with pytest.raises(EventLogUnavailableError):
            log.committed("bronze", "raw-events")
    finally:
        log.close()
    assert calls
    assert set(calls) == {"eu-central-1"}
