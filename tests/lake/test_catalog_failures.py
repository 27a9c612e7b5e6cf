"""Catalog failures against real servers: classified, actionable, and never echoing a secret."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from tests.contract.catalog_backends import make_backend, rows_for, wipe_catalog
from tests.services.ports import free_port
from tests.services.postgres import PostgresServer
from tests.services.seaweed import SeaweedServer
from wikistream.errors import CatalogError, CatalogUnavailableError
from wikistream.lake.catalog import ensure_table, open_catalog
from wikistream.lake.schemas import SILVER
from wikistream.settings import Settings, load_settings

WRONG_SECRET = "wrong-Secret-Value-4kT8pQ"
WRONG_PASSWORD = "wrong-Password-2mV6"


def settings_for(tmp_path: Path, lake: dict[str, Any]) -> Settings:
    return load_settings(overrides={"data_dir": tmp_path / "data", "lake": lake})


def assert_clean(message: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in message


def test_unknown_catalog_type_is_a_settings_error(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path, {"catalog": {"type": "nosuch", "s3.secret-access-key": "x" * 12}}
    )
    with pytest.raises(CatalogError) as caught:
        open_catalog(settings)
    assert not isinstance(caught.value, CatalogUnavailableError)
    assert "wikistream catalog show" in str(caught.value)
    assert_clean(str(caught.value), "x" * 12)


@pytest.mark.integration
def test_unreachable_rest_catalog_is_retryable(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    settings = settings_for(
        tmp_path,
        {"catalog": {"type": "rest", "uri": f"http://127.0.0.1:{port}", "token": WRONG_SECRET}},
    )
    with pytest.raises(CatalogUnavailableError) as caught:
        open_catalog(settings)
    message = str(caught.value)
    assert caught.value.retryable
    assert f"127.0.0.1:{port}" in message
    assert "running and reachable" in message
    assert_clean(message, WRONG_SECRET)
    assert caught.value.__cause__ is None  # the original (which may echo secrets) is dropped


@pytest.mark.integration
def test_rest_catalog_rejecting_the_signature_is_a_credentials_error(
    tmp_path: Path, seaweed: SeaweedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", seaweed.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", WRONG_SECRET)
    settings = settings_for(
        tmp_path,
        {
            "catalog": {"type": "rest", "uri": seaweed.rest_uri, "rest.sigv4-enabled": "true"},
            "s3": {"endpoint": seaweed.s3_endpoint, "region": seaweed.region},
        },
    )
    with pytest.raises(CatalogError) as caught:
        open_catalog(settings)
    message = str(caught.value)
    assert not caught.value.retryable
    assert "credentials were rejected" in message
    assert "AWS_SECRET_ACCESS_KEY" in message  # says where to look
    assert_clean(message, WRONG_SECRET, seaweed.secret_key, seaweed.access_key)


@pytest.mark.integration
def test_postgres_wrong_password_is_a_credentials_error(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    uri = postgres.uri("postgres", password=WRONG_PASSWORD)
    settings = settings_for(tmp_path, {"catalog": {"type": "sql", "uri": uri}})
    with pytest.raises(CatalogError) as caught:
        open_catalog(settings)
    message = str(caught.value)
    assert not caught.value.retryable
    assert "credentials were rejected" in message
    assert "postgresql+psycopg2://wikistream:**********@127.0.0.1" in message
    assert_clean(message, WRONG_PASSWORD, postgres.password)


@pytest.mark.integration
def test_postgres_down_is_retryable(tmp_path: Path, postgres: PostgresServer) -> None:
    uri = f"postgresql+psycopg2://wikistream:{postgres.password}@127.0.0.1:{free_port()}/x"
    settings = settings_for(tmp_path, {"catalog": {"type": "sql", "uri": uri}})
    with pytest.raises(CatalogUnavailableError) as caught:
        open_catalog(settings)
    assert_clean(str(caught.value), postgres.password)


@pytest.mark.integration
def test_s3_warehouse_with_wrong_secret_fails_at_first_write(
    tmp_path: Path, seaweed: SeaweedServer
) -> None:
    settings = settings_for(
        tmp_path,
        {
            "warehouse": f"s3://{seaweed.data_bucket}/wrong-secret",
            "s3": {
                "endpoint": seaweed.s3_endpoint,
                "access_key_id": seaweed.access_key,
                "secret_access_key": WRONG_SECRET,
            },
        },
    )
    catalog = open_catalog(settings)  # the SQLite catalog itself is fine
    with pytest.raises(CatalogError) as caught:
        ensure_table(catalog, SILVER)
    message = str(caught.value)
    assert "credentials were rejected" in message
    assert "table silver.cleaned_events" in message
    assert_clean(message, WRONG_SECRET, seaweed.access_key)


@pytest.mark.integration
def test_s3_warehouse_in_missing_bucket_says_so(tmp_path: Path, seaweed: SeaweedServer) -> None:
    settings = settings_for(
        tmp_path,
        {
            "warehouse": "s3://no-such-bucket-here/wh",
            "s3": {
                "endpoint": seaweed.s3_endpoint,
                "access_key_id": seaweed.access_key,
                "secret_access_key": seaweed.secret_key,
            },
        },
    )
    with pytest.raises(CatalogError) as caught:
        ensure_table(open_catalog(settings), SILVER)
    assert "bucket does not exist" in str(caught.value)
    assert_clean(str(caught.value), seaweed.secret_key)


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["postgres-s3", "rest-s3", "glue-s3"])
def test_debug_logs_of_a_real_session_hold_no_credential(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    chosen = make_backend(backend, request, tmp_path, monkeypatch)
    caplog.set_level(logging.DEBUG)
    catalog = open_catalog(chosen.settings)
    try:
        table = ensure_table(catalog, SILVER)
        table.append(rows_for(SILVER, 3, event_date="2026-05-01"))
        assert catalog.load_table(SILVER.identifier).scan().to_arrow().num_rows == 3
    finally:
        wipe_catalog(catalog)
    if backend != "postgres-s3":  # boto3 / requests log every request at DEBUG
        assert any(r.name.startswith(("botocore", "urllib3")) for r in caplog.records)
    assert_clean(caplog.text, *chosen.secrets)
