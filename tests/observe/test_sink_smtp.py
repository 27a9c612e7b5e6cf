"""SmtpAlertSink against a real SMTP server (aiosmtpd) on loopback, plain and STARTTLS + AUTH."""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import json
import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from tests.observe.conftest import FakeClock
from wikistream.errors import AlertDeliveryError, ConfigError
from wikistream.observe.alerts import Alert, AlertStatus, Severity
from wikistream.observe.sinks import SmtpAlertSink

PASSWORD = "pa55-w0rd-n0t-f0r-l0gs"


@dataclass
class Inbox:
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(msg, EmailMessage)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def plain_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            b"alerts",
            PASSWORD.encode(),
        )
        return AuthResult(success=ok, handled=False)

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    )
    controller.start()
    yield inbox, controller.port, cert
    controller.stop()


def make_alert(clock: FakeClock) -> Alert:
    return Alert(
        name="dq_gate_failure",
        key="dq_gate_failure:silver:silver.cleaned_events",
        severity=Severity.CRITICAL,
        status=AlertStatus.FIRING,
        title="DQ Gate FAILED: SILVER (silver.cleaned_events) with a long tail " + "z" * 80,
        summary="2 of 10 checks failed on silver.cleaned_events",
        details={"alert_type": "DATA_QUALITY_GATE_FAILURE", "layer": "silver", "run_id": "dq-7"},
        started_at=clock.now,
        at=clock.now,
    )


def test_plain_smtp_delivers_subject_and_body(
    plain_server: tuple[Inbox, int], clock: FakeClock
) -> None:
    inbox, port = plain_server
    alert = make_alert(clock)
    sink = SmtpAlertSink("127.0.0.1", port, "wikistream@example.org", ["a@example.org", "b@x.org"])
    sink.send(alert)
    ((sender, rcpts, msg),) = inbox.messages
    assert sender == "wikistream@example.org"
    assert rcpts == ["a@example.org", "b@x.org"]
    assert msg["Subject"] == alert.subject()
    assert len(msg["Subject"]) <= 100
    assert msg["Subject"].startswith("🚨 WikiStream CRITICAL: DQ Gate FAILED: SILVER")
    assert msg["X-WikiStream-Alert"] == alert.key
    body = msg.get_content()
    assert "2 of 10 checks failed" in body
    payload = json.loads(body.split("-- payload --", 1)[1])
    assert payload["alert_type"] == "DATA_QUALITY_GATE_FAILURE"
    assert payload["run_id"] == "dq-7"


def test_starttls_and_login(
    tls_server: tuple[Inbox, int, Path], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    inbox, port, cert = tls_server
    trust = ssl.create_default_context(cafile=str(cert))
    sink = SmtpAlertSink(
        "127.0.0.1",
        port,
        "wikistream@example.org",
        ["oncall@example.org"],
        username="alerts",
        password=SecretStr(PASSWORD),
        starttls=True,
        ssl_context=trust,
    )
    with caplog.at_level(logging.DEBUG):
        sink.send(make_alert(clock))
    assert len(inbox.messages) == 1
    assert PASSWORD not in caplog.text
    assert PASSWORD not in repr(sink)


def test_server_requiring_tls_refuses_plain_clients(
    tls_server: tuple[Inbox, int, Path], clock: FakeClock
) -> None:
    _, port, _ = tls_server
    sink = SmtpAlertSink("127.0.0.1", port, "w@example.org", ["o@example.org"])
    with pytest.raises(AlertDeliveryError, match=r"530.*Must issue a STARTTLS command first"):
        sink.send(make_alert(clock))


def test_wrong_password_fails_without_echoing_it(
    tls_server: tuple[Inbox, int, Path], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    inbox, port, cert = tls_server
    wrong = PASSWORD + "-wrong"
    sink = SmtpAlertSink(
        "127.0.0.1",
        port,
        "w@example.org",
        ["o@example.org"],
        username="alerts",
        password=SecretStr(wrong),
        starttls=True,
        ssl_context=ssl.create_default_context(cafile=str(cert)),
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(AlertDeliveryError) as info:
        sink.send(make_alert(clock))
    assert "SMTPAuthenticationError" in str(info.value)
    assert wrong not in str(info.value)
    assert info.value.__cause__ is None
    assert wrong not in caplog.text
    assert inbox.messages == []


def test_untrusted_certificate_is_refused(
    tls_server: tuple[Inbox, int, Path], clock: FakeClock
) -> None:
    _, port, _ = tls_server
    sink = SmtpAlertSink("127.0.0.1", port, "w@example.org", ["o@example.org"], starttls=True)
    with pytest.raises(AlertDeliveryError, match="SSLCertVerificationError"):
        sink.send(make_alert(clock))


def test_connection_refused(clock: FakeClock) -> None:
    sink = SmtpAlertSink("127.0.0.1", free_port(), "w@example.org", ["o@example.org"])
    with pytest.raises(AlertDeliveryError, match="ConnectionRefusedError"):
        sink.send(make_alert(clock))


def test_incomplete_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="smtp_to") as info:
        SmtpAlertSink("127.0.0.1", 25, "w@example.org", [])
    assert info.value.key == "observe.smtp_to"
    with pytest.raises(ConfigError, match="both"):
        SmtpAlertSink("127.0.0.1", 25, "w@example.org", ["o@example.org"], username="u")
