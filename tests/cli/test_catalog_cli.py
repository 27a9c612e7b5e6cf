"""`wikistream catalog show|check` through the real command line, with fake credentials."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.services.postgres import PostgresServer
from tests.services.seaweed import SeaweedServer

SRC = Path(__file__).resolve().parents[2] / "src"
SECRET = "cli-fake-Secret-Key-5rT2wQ"
PASSWORD = "cli-fake-Password-8nB3"


def run_cli(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("WIKISTREAM_", "AWS_"))}
    full_env["PYTHONPATH"] = os.pathsep.join([str(SRC), full_env.get("PYTHONPATH", "")])
    full_env.update(env or {})
    done = subprocess.run(
        [sys.executable, "-m", "wikistream", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def write_config(data_dir: Path, text: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "wikistream.toml").write_text(text)


def test_show_masks_every_credential(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    write_config(
        data_dir,
        f"""
[lake]
warehouse = "s3://lake/wh"
[lake.catalog]
type = "sql"
uri = "postgresql+psycopg2://wikistream:{PASSWORD}@db.internal:5432/catalog"
[lake.s3]
endpoint = "http://127.0.0.1:8333"
access_key_id = "AKIACLIFAKE"
secret_access_key = "{SECRET}"
""",
    )
    code, out, err = run_cli(
        data_dir, "catalog", "show", "--output", "json", env={"AWS_SESSION_TOKEN": SECRET + "tok"}
    )
    assert code == 0, err
    shown: dict[str, Any] = json.loads(out)
    assert shown["type"] == "sql"
    assert shown["warehouse"] == "s3://lake/wh"
    assert shown["s3.endpoint"] == "http://127.0.0.1:8333"
    assert shown["s3.secret-access-key"] == "**********"
    assert shown["uri"] == "postgresql+psycopg2://wikistream:**********@db.internal:5432/catalog"
    for secret in (SECRET, PASSWORD, "AKIACLIFAKE"):
        assert secret not in out + err


def test_check_default_catalog_is_healthy(tmp_path: Path) -> None:
    code, out, err = run_cli(tmp_path / "data", "catalog", "check", "-o", "json")
    assert code == 0, err
    health = json.loads(out)
    assert health["ok"] is True
    assert health["type"] == "sql"
    assert health["warehouse_writable"] is True
    assert health["tables"] == 0
    assert not list((tmp_path / "data" / "warehouse").rglob("*.txt"))  # probe object removed


@pytest.mark.integration
def test_check_postgres_catalog_with_s3_warehouse(
    tmp_path: Path, postgres: PostgresServer, seaweed: SeaweedServer
) -> None:
    uri = postgres.create_database("cli_check")
    data_dir = tmp_path / "data"
    write_config(
        data_dir,
        f"""
[lake]
warehouse = "s3://{seaweed.data_bucket}/cli-check"
[lake.catalog]
type = "sql"
uri = "{uri}"
""",
    )
    code, out, err = run_cli(data_dir, "-v", "catalog", "check", "-o", "json", env=seaweed.env())
    assert code == 0, err
    health = json.loads(out)
    assert health["ok"] is True
    assert health["warehouse_writable"] is True
    assert health["uri"].startswith("postgresql+psycopg2://wikistream:**********@")
    for secret in (postgres.password, seaweed.secret_key):
        assert secret not in out + err


@pytest.mark.integration
def test_check_rest_catalog_with_wrong_secret_fails_cleanly(
    tmp_path: Path, seaweed: SeaweedServer
) -> None:
    data_dir = tmp_path / "data"
    write_config(
        data_dir,
        f"""
[lake.catalog]
type = "rest"
uri = "{seaweed.rest_uri}"
"rest.sigv4-enabled" = "true"
"rest.signing-name" = "s3tables"
""",
    )
    env = {**seaweed.env(), "AWS_SECRET_ACCESS_KEY": SECRET}
    code, out, err = run_cli(data_dir, "-v", "catalog", "check", "-o", "json", env=env)
    assert code == 1
    health = json.loads(out)
    assert health["ok"] is False
    assert health["retryable"] is False
    assert "credentials were rejected" in health["error"]
    for secret in (SECRET, seaweed.secret_key):
        assert secret not in out + err
    code, out, _ = run_cli(data_dir, "catalog", "check", "-o", "json", env=seaweed.env())
    assert code == 0
    assert json.loads(out)["warehouse_writable"] is None  # a table bucket takes no probe object
