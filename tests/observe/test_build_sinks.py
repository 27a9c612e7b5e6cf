"""build_sinks chooses sinks from settings; secrets stay out of every repr."""

from __future__ import annotations

import pytest

from wikistream.errors import ConfigError
from wikistream.observe.sinks import SmtpAlertSink, WebhookAlertSink, build_sinks
from wikistream.settings import Settings, load_settings


def test_default_is_the_log_sink_only(settings: Settings) -> None:
    assert [s.name for s in build_sinks(settings.observe)] == ["log"]


def test_env_configures_webhook_and_email(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIKISTREAM_OBSERVE__WEBHOOK_URL", "https://hooks.example.org/T1/B2/tok3n")
    monkeypatch.setenv("WIKISTREAM_OBSERVE__WEBHOOK_ATTEMPTS", "5")
    monkeypatch.setenv("WIKISTREAM_OBSERVE__SMTP_HOST", "smtp.example.org")
    monkeypatch.setenv("WIKISTREAM_OBSERVE__SMTP_PORT", "587")
    monkeypatch.setenv("WIKISTREAM_OBSERVE__SMTP_TO", '["a@example.org", "b@example.org"]')
    monkeypatch.setenv("WIKISTREAM_OBSERVE__SMTP_USERNAME", "alerts")
    monkeypatch.setenv("WIKISTREAM_OBSERVE__SMTP_PASSWORD", "pw-s3cret")
    monkeypatch.setenv("WIKISTREAM_OBSERVE__SMTP_STARTTLS", "true")
    settings = load_settings()
    _log, webhook, email = build_sinks(settings.observe)
    assert isinstance(webhook, WebhookAlertSink)
    assert webhook.attempts == 5
    assert isinstance(email, SmtpAlertSink)
    assert (email.host, email.port, email.recipients, email.starttls) == (
        "smtp.example.org",
        587,
        ["a@example.org", "b@example.org"],
        True,
    )
    for text in (repr(settings), str(settings.observe), repr(webhook), repr(email)):
        assert "tok3n" not in text
        assert "pw-s3cret" not in text


def test_email_without_recipients_is_refused(settings: Settings) -> None:
    settings.observe.smtp_host = "smtp.example.org"
    with pytest.raises(ConfigError) as info:
        build_sinks(settings.observe)
    assert info.value.key == "observe.smtp_to"
