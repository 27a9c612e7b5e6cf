"""librdkafka client configuration from :class:`KafkaSettings`: bootstrap, TLS, SASL, MSK IAM.

Secrets (the SASL password, MSK IAM tokens) go only into the dict handed to librdkafka; every
message, log line and repr uses :func:`redact_config`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from wikistream.errors import ConfigError, DependencyMissingError, EventLogUnavailableError
from wikistream.eventlog.config import KafkaSettings

log = logging.getLogger(__name__)

_SECRET_KEYS = ("password", "secret", "token", "key.pem", "oauth_cb", "sasl.oauthbearer.config")
REDACTED = "***"


class MskIamTokenSource:
    """librdkafka ``oauth_cb``: a fresh AWS MSK IAM token (SigV4-signed URL) for a region."""

    def __init__(self, region: str) -> None:
        try:
            from aws_msk_iam_sasl_signer import MSKAuthTokenProvider
        except ImportError as exc:
            raise DependencyMissingError(
                "MSK IAM authentication", "kafka", "aws_msk_iam_sasl_signer"
            ) from exc
        self.region = region
        self._provider = MSKAuthTokenProvider

    def __call__(self, _oauthbearer_config: str | None = None) -> tuple[str, float]:
        """Return ``(token, expiry as epoch seconds)`` as librdkafka's oauth_cb contract asks."""
        try:
            token, expiry_ms = self._provider.generate_auth_token(self.region)
        except Exception as exc:  # botocore raises many types; none may carry secrets out
            # Only the exception type crosses: botocore messages can echo credential sources.
            raise EventLogUnavailableError(
                f"cannot sign an MSK IAM token for region {self.region!r} "
                f"({type(exc).__name__}); check the AWS credentials of this process "
                "(AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or an instance role)"
            ) from None
        return str(token), float(expiry_ms) / 1000.0

    def __repr__(self) -> str:
        return f"MskIamTokenSource(region={self.region!r})"


def _msk_region(settings: KafkaSettings) -> str:
    region = (
        settings.aws_region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    )
    if not region:
        raise ConfigError(
            "log.kafka.msk_iam is on but no AWS region is known; set "
            "WIKISTREAM_LOG__KAFKA__AWS_REGION=us-east-1 (or AWS_REGION)",
            key="log.kafka.aws_region",
        )
    return region


def build_client_config(settings: KafkaSettings) -> dict[str, Any]:
    """Return the librdkafka properties shared by producer, consumers and admin client."""
    conf: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "client.id": settings.client_id,
        "security.protocol": settings.security_protocol,
        "socket.keepalive.enable": True,
    }
    if settings.ssl_ca_location:
        conf["ssl.ca.location"] = settings.ssl_ca_location
    if settings.msk_iam:
        # MSK IAM is OAUTHBEARER over TLS whatever security_protocol says (port 9098).
        conf["security.protocol"] = "SASL_SSL"
        conf["sasl.mechanism"] = "OAUTHBEARER"
        conf["oauth_cb"] = MskIamTokenSource(_msk_region(settings))
    elif settings.sasl_mechanism is not None:
        if not settings.security_protocol.startswith("SASL_"):
            raise ConfigError(
                f"log.kafka.sasl_mechanism is {settings.sasl_mechanism!r} but "
                f"security_protocol is {settings.security_protocol!r}; use SASL_SSL "
                "(or SASL_PLAINTEXT on a trusted network)",
                key="log.kafka.security_protocol",
            )
        conf["sasl.mechanism"] = settings.sasl_mechanism
        if settings.sasl_mechanism != "OAUTHBEARER":
            if not settings.sasl_username or settings.sasl_password is None:
                raise ConfigError(
                    f"SASL {settings.sasl_mechanism} needs log.kafka.sasl_username and "
                    "log.kafka.sasl_password (WIKISTREAM_LOG__KAFKA__SASL_PASSWORD)",
                    key="log.kafka.sasl_username",
                )
            conf["sasl.username"] = settings.sasl_username
            conf["sasl.password"] = settings.sasl_password.get_secret_value()
    elif settings.security_protocol.startswith("SASL_"):
        raise ConfigError(
            f"log.kafka.security_protocol is {settings.security_protocol!r} but no "
            "sasl_mechanism is set; set log.kafka.sasl_mechanism (or msk_iam = true)",
            key="log.kafka.sasl_mechanism",
        )
    conf.update(settings.extra)
    return conf


def redact_config(conf: Mapping[str, Any]) -> dict[str, str]:
    """Return ``conf`` as strings with passwords, tokens and callbacks replaced by ``***``."""
    out: dict[str, str] = {}
    for key, value in conf.items():
        if any(marker in key for marker in _SECRET_KEYS) or callable(value):
            out[key] = REDACTED
        else:
            out[key] = str(value)
    return out
