"""Credentials never leave through properties, URIs, error texts or settings dumps."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from wikistream.lake.redact import redact, redact_uri, secret_values
from wikistream.redaction import MASK, redact_secrets_in_logs, redact_text
from wikistream.settings import load_settings

SECRET = "fake-Secret-Key-9f8e7d6c"
PASSWORD = "p@ss:w0rd-Fake"


def test_redact_masks_every_credential_property() -> None:
    props = {
        "type": "rest",
        "uri": "https://s3tables.us-east-1.amazonaws.com/iceberg",
        "s3.access-key-id": "AKIAFAKE",
        "s3.secret-access-key": SECRET,
        "s3.session-token": "tok",
        "client.secret-access-key": SECRET,
        "glue.secret-access-key": SECRET,
        "credential": "client:secret",
        "token": "bearer",
        "header.Authorization": "Bearer x",
        "adls.account-key": "k",
        "s3.endpoint": "http://127.0.0.1:8333",
        "s3.connect-timeout": "5",
    }
    safe = redact(props)
    for key in props:
        if key in {"type", "uri", "s3.endpoint", "s3.connect-timeout"}:
            assert safe[key] == props[key]
        else:
            assert safe[key] == MASK, key
    assert props["s3.secret-access-key"] == SECRET  # a copy: the input is untouched


def test_redact_masks_the_password_in_a_database_uri() -> None:
    uri = "postgresql+psycopg2://wikistream:s3cr3t-pw@db.internal:5432/catalog"
    assert redact({"uri": uri})["uri"] == (
        f"postgresql+psycopg2://wikistream:{MASK}@db.internal:5432/catalog"
    )
    assert redact_uri("sqlite:////data/catalog.db") == "sqlite:////data/catalog.db"
    assert redact_uri("http://user@host/x") == "http://user@host/x"


def test_redact_masks_secret_query_parameters() -> None:
    uri = "https://catalog.example/v1?warehouse=w&token=abc123&X-Amz-Signature=deadbeef"
    safe = redact_uri(uri)
    assert "abc123" not in safe
    assert "deadbeef" not in safe
    assert "warehouse=w" in safe


def test_redact_text_scrubs_known_secrets_and_uri_passwords() -> None:
    text = (
        "Could not initialize catalog with the following properties: "
        f"{{'s3.secret-access-key': '{SECRET}', 'uri': 'postgresql://u:{PASSWORD}@h/db'}}"
    )
    secrets = secret_values(
        {"s3.secret-access-key": SECRET, "uri": f"postgresql://u:{PASSWORD}@h/db"}
    )
    safe = redact_text(text, secrets)
    assert SECRET not in safe
    assert PASSWORD not in safe
    assert "w0rd" not in safe  # the part after its unescaped "@" too
    assert "postgresql://u:" in safe


def test_url_escaped_secrets_are_scrubbed_as_well() -> None:
    escaped = "postgresql://u:p%40ss%3Aw0rd-Fake@h/db"
    assert "w0rd" not in redact_text(f"cannot connect to {escaped}", [PASSWORD])
    assert "w0rd" not in redact_text("token p%40ss%3Aw0rd-Fake rejected", [PASSWORD])


def test_secret_values_include_the_aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    assert SECRET in secret_values({})
    assert SECRET not in secret_values({}, include_env=False)


def test_short_values_are_not_searched_in_free_text() -> None:
    assert redact_text("a bad request", ["a"]) == "a bad request"


def test_settings_json_dump_shows_no_credentials(tmp_path: Path) -> None:
    settings = load_settings(
        overrides={
            "data_dir": tmp_path,
            "lake": {
                "catalog": {
                    "type": "sql",
                    "uri": f"postgresql://wikistream:{PASSWORD}@db:5432/catalog",
                    "s3.secret-access-key": SECRET,
                },
                "s3": {"access_key_id": "AKIAFAKE", "secret_access_key": SECRET},
            },
        }
    )
    dumped = settings.model_dump_json()
    assert SECRET not in dumped
    assert PASSWORD not in dumped
    assert "AKIAFAKE" not in dumped
    lake = json.loads(dumped)["lake"]
    assert lake["catalog"]["type"] == "sql"
    assert lake["catalog"]["uri"].startswith("postgresql://wikistream:")
    # the python dump keeps the real values for code that builds the catalog
    assert settings.model_dump()["lake"]["catalog"]["s3.secret-access-key"] == SECRET


def test_log_filter_masks_messages_and_tracebacks() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("botocore.endpoint.test-redact")
    logging.getLogger().addHandler(handler)
    try:
        redact_secrets_in_logs([SECRET])
        logger.warning("Sending headers={'X-Amz-Security-Token': %r}", SECRET)
        try:
            raise RuntimeError(f"signing failed with {SECRET}")
        except RuntimeError:
            logger.exception("request failed")
    finally:
        logging.getLogger().removeHandler(handler)
    text = stream.getvalue()
    assert SECRET not in text
    assert "X-Amz-Security-Token" in text  # the record itself is kept
    assert "RuntimeError: signing failed with **********" in text
