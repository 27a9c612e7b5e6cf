"""Where alerts go: the log (always), a Slack-compatible webhook, e-mail (SMTP), AWS SNS.

Every sink follows :class:`~wikistream.observe.alerts.AlertSink`: ``send`` delivers or raises
:class:`AlertDeliveryError` with a message that names the target but never its secret (webhook
tokens live in the URL path; SMTP passwords in settings).
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from wikistream.errors import AlertDeliveryError, ConfigError, DependencyMissingError
from wikistream.observe.alerts import Alert, AlertSink, AlertStatus, Severity
from wikistream.redaction import MASK, redact_secret_in_library_logs

if TYPE_CHECKING:  # httpx (~15 MB) is imported when a webhook is sent, not by every process
    import httpx

    from wikistream.observe.config import ObserveSettings

logger = logging.getLogger(__name__)
alert_logger = logging.getLogger("wikistream.alerts")

SNS_SUBJECT_LIMIT = 99  # SNS: "less than 100 characters"
MAX_RETRY_AFTER_S = 30.0


class LogAlertSink:
    """Write alerts to the ``wikistream.alerts`` logger (always on; never fails)."""

    name = "log"

    def __init__(self, log: logging.Logger | None = None) -> None:
        self._log = log or alert_logger

    def send(self, alert: Alert) -> None:
        """Log one line: level by severity, then the JSON payload."""
        if alert.status is AlertStatus.RESOLVED or alert.severity is Severity.INFO:
            level = logging.INFO
        else:
            level = logging.WARNING if alert.severity is Severity.WARNING else logging.ERROR
        payload = json.dumps(alert.payload(), ensure_ascii=False, default=str)
        self._log.log(level, "%s | %s", alert.subject(limit=1000), payload)


def _slack_body(alert: Alert) -> dict[str, Any]:
    subject = alert.subject()
    fields = [
        {"type": "mrkdwn", "text": f"*Severity*\n{alert.severity.value}"},
        {"type": "mrkdwn", "text": f"*Status*\n{alert.status.value}"},
    ]
    for key in ("layer", "table", "stage", "run_id"):
        if alert.details.get(key):
            fields.append({"type": "mrkdwn", "text": f"*{key}*\n{alert.details[key]}"})
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": subject[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": alert.summary[:3000]}},
        {"type": "section", "fields": fields[:10]},
    ]
    action = alert.details.get("action_required")
    if action:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": str(action)[:3000]}]}
        )
    return {"text": f"{subject}\n{alert.summary}", "blocks": blocks, "wikistream": alert.payload()}


class WebhookAlertSink:
    """POST Slack-compatible JSON (``text`` + ``blocks``) plus the structured payload.

    Connection errors, timeouts, HTTP 429 and 5xx are retried with exponential backoff; other
    4xx answers (a revoked or mistyped URL) fail at once.
    """

    name = "webhook"

    def __init__(
        self,
        url: SecretStr | str,
        *,
        timeout_s: float = 10.0,
        attempts: int = 3,
        backoff_s: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._url = url if isinstance(url, SecretStr) else SecretStr(url)
        parts = urlsplit(self._url.get_secret_value())
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError(
                "observe.webhook_url must be an http(s) URL such as "
                "https://hooks.slack.com/services/...",
                key="observe.webhook_url",
            )
        self.target = f"{parts.scheme}://{parts.netloc}/…"  # the path holds the token
        self.timeout_s, self.attempts, self.backoff_s = timeout_s, max(1, attempts), backoff_s
        self._sleep = sleep
        self._transport = transport
        redact_secret_in_library_logs(self._url.get_secret_value(), self.target)

    def __repr__(self) -> str:
        return f"WebhookAlertSink(target={self.target!r}, attempts={self.attempts})"

    def send(self, alert: Alert) -> None:
        """POST the alert; raise AlertDeliveryError once retries are exhausted."""
        import httpx

        # default=str: details may hold datetimes or Decimals; a payload must never fail to encode.
        body = json.dumps(_slack_body(alert), ensure_ascii=False, default=str).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        problem = "no attempt made"
        with httpx.Client(timeout=self.timeout_s, transport=self._transport) as client:
            for attempt in range(1, self.attempts + 1):
                wait = self.backoff_s * 2 ** (attempt - 1)
                try:
                    response = client.post(
                        self._url.get_secret_value(), content=body, headers=headers
                    )
                except httpx.TransportError as exc:
                    problem = f"{type(exc).__name__}: {self._scrub(str(exc)) or 'no detail'}"
                else:
                    if response.is_success:
                        return
                    problem = f"HTTP {response.status_code}: {self._scrub(response.text[:200])}"
                    if response.status_code != 429 and response.status_code < 500:
                        raise self._error(problem, attempt, retryable=False)
                    wait = max(wait, _retry_after(response))
                if attempt < self.attempts:
                    logger.info(
                        "webhook %s attempt %d/%d failed (%s); retrying in %.1fs",
                        self.target,
                        attempt,
                        self.attempts,
                        problem,
                        wait,
                    )
                    self._sleep(wait)
        raise self._error(problem, self.attempts, retryable=True)

    def _scrub(self, text: str) -> str:
        return text.replace(self._url.get_secret_value(), self.target).strip()

    def _error(self, problem: str, attempts: int, *, retryable: bool) -> AlertDeliveryError:
        error = AlertDeliveryError(
            f"webhook {self.target} did not accept the alert after {attempts} attempt(s): "
            f"{problem}; check observe.webhook_url and that the receiver is up"
        )
        error.retryable = retryable
        return error


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(MAX_RETRY_AFTER_S, max(0.0, float(response.headers.get("Retry-After", 0))))
    except ValueError:
        return 0.0


class SmtpAlertSink:
    """Send each alert as a plain-text e-mail (subject ≤ 100 characters, like the seed)."""

    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: list[str],
        *,
        username: str | None = None,
        password: SecretStr | None = None,
        starttls: bool = False,
        timeout_s: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        if not recipients:
            raise ConfigError(
                "observe.smtp_host is set but observe.smtp_to is empty; set "
                "WIKISTREAM_OBSERVE__SMTP_TO='[\"oncall@example.org\"]'",
                key="observe.smtp_to",
            )
        if (username is None) != (password is None):
            raise ConfigError(
                "set both observe.smtp_username and observe.smtp_password, or neither",
                key="observe.smtp_password",
            )
        self.host, self.port, self.sender, self.recipients = host, port, sender, list(recipients)
        self._username, self._password = username, password
        self.starttls, self.timeout_s = starttls, timeout_s
        self._ssl_context = ssl_context
        if password is not None:
            redact_secret_in_library_logs(password.get_secret_value(), MASK)

    def __repr__(self) -> str:
        return (
            f"SmtpAlertSink(host={self.host!r}, port={self.port}, to={self.recipients!r}, "
            f"starttls={self.starttls}, auth={'yes' if self._username else 'no'})"
        )

    def message(self, alert: Alert) -> EmailMessage:
        """Build the e-mail: text body, then the JSON payload."""
        msg = EmailMessage()
        msg["Subject"] = alert.subject()
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = make_msgid(domain="wikistream.local")
        msg["X-WikiStream-Alert"] = alert.key
        payload = json.dumps(alert.payload(), indent=2, ensure_ascii=False, default=str)
        msg.set_content(f"{alert.text()}\n\n-- payload --\n{payload}\n")
        return msg

    def send(self, alert: Alert) -> None:
        """Deliver over SMTP (STARTTLS and login when configured)."""
        msg = self.message(alert)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                smtp.ehlo()
                if self.starttls:
                    smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                    smtp.ehlo()
                if self._username is not None and self._password is not None:
                    smtp.login(self._username, self._password.get_secret_value())
                smtp.send_message(msg)
        except (smtplib.SMTPException, OSError) as exc:
            detail = str(exc)
            if self._password is not None:
                detail = detail.replace(self._password.get_secret_value(), "**********")
            raise AlertDeliveryError(
                f"e-mail alert via {self.host}:{self.port} failed: {type(exc).__name__}: "
                f"{detail}; check observe.smtp_host/smtp_port/smtp_starttls and the credentials"
            ) from None  # the chained exception could carry the AUTH exchange


class SnsAlertSink:
    """Publish each alert to an SNS topic: subject line + JSON payload (needs the ``aws`` extra)."""

    name = "sns"

    def __init__(
        self,
        topic_arn: str,
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: Any = None,
    ) -> None:
        parts = topic_arn.split(":")
        if len(parts) < 6 or parts[0] != "arn" or parts[2] != "sns":
            raise ConfigError(
                f"observe.sns_topic_arn {topic_arn!r} is not an SNS topic ARN "
                "(arn:aws:sns:<region>:<account>:<topic>)",
                key="observe.sns_topic_arn",
            )
        self.topic_arn = topic_arn
        self.region = region or parts[3]  # the topic's own region, never a hard-coded one
        if client is None:
            try:
                import boto3
                from botocore.config import Config
            except ImportError as exc:
                raise DependencyMissingError("the SNS alert sink", "aws", "boto3") from exc
            # Bounded: an unreachable endpoint must not hold the alert thread for minutes.
            config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 3})
            client = boto3.client(
                "sns", region_name=self.region, endpoint_url=endpoint_url, config=config
            )
        self._client = client

    def __repr__(self) -> str:
        return f"SnsAlertSink(topic_arn={self.topic_arn!r}, region={self.region!r})"

    def send(self, alert: Alert) -> None:
        """Publish; severity and alert_type also go in message attributes for filtering."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self._client.publish(
                TopicArn=self.topic_arn,
                Subject=alert.subject(limit=SNS_SUBJECT_LIMIT),
                Message=json.dumps(alert.payload(), ensure_ascii=False, default=str),
                MessageAttributes={
                    "severity": {"DataType": "String", "StringValue": alert.severity.value},
                    "alert_type": {"DataType": "String", "StringValue": alert.alert_type},
                    "status": {"DataType": "String", "StringValue": alert.status.value},
                },
            )
        except (BotoCoreError, ClientError) as exc:
            raise AlertDeliveryError(
                f"SNS publish to {self.topic_arn} failed: {type(exc).__name__}: {exc}; check "
                "AWS credentials, observe.aws_region and the topic policy"
            ) from exc


def build_sinks(cfg: ObserveSettings) -> list[AlertSink]:
    """The log sink plus every sink the settings configure."""
    sinks: list[AlertSink] = [LogAlertSink()]
    if cfg.webhook_url is not None and cfg.webhook_url.get_secret_value():
        sinks.append(
            WebhookAlertSink(
                cfg.webhook_url,
                timeout_s=cfg.webhook_timeout_s,
                attempts=cfg.webhook_attempts,
                backoff_s=cfg.webhook_backoff_s,
            )
        )
    if cfg.smtp_host:
        sinks.append(
            SmtpAlertSink(
                cfg.smtp_host,
                cfg.smtp_port,
                cfg.smtp_from,
                cfg.smtp_to,
                username=cfg.smtp_username,
                password=cfg.smtp_password,
                starttls=cfg.smtp_starttls,
                timeout_s=cfg.smtp_timeout_s,
            )
        )
    if cfg.sns_topic_arn:
        sinks.append(
            SnsAlertSink(
                cfg.sns_topic_arn, region=cfg.aws_region, endpoint_url=cfg.sns_endpoint_url
            )
        )
    return sinks
