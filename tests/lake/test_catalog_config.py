"""Catalog properties from settings alone: defaults, shortcuts, AWS environment, S3 Tables, Glue."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from wikistream.errors import ConfigError, DependencyMissingError
from wikistream.lake.catalog import catalog_properties, open_catalog
from wikistream.lake.catalog_config import build_catalog_properties, check_dependencies
from wikistream.lake.config import LakeSettings
from wikistream.settings import Settings, load_settings

SECRET = "fake-Secret-Key-9f8e7d6c"


def lake(**values: object) -> LakeSettings:
    return LakeSettings.model_validate(values)


def test_default_is_sqlite_catalog_with_local_warehouse(tmp_path: Path) -> None:
    props = build_catalog_properties(lake(), tmp_path, env={})
    assert props == {
        "type": "sql",
        "uri": f"sqlite:///{(tmp_path / 'catalog.db').resolve()}",
        "warehouse": (tmp_path / "warehouse").resolve().as_uri(),
    }


def test_extra_properties_alone_refine_the_default_catalog(tmp_path: Path) -> None:
    props = build_catalog_properties(lake(catalog={"echo": "false"}), tmp_path, env={})
    assert props["type"] == "sql"
    assert props["echo"] == "false"


def test_warehouse_shortcut_puts_the_default_catalog_on_s3(tmp_path: Path) -> None:
    env = {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
        "AWS_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "AKIAENVONLY",
        "AWS_SECRET_ACCESS_KEY": SECRET,
    }
    props = build_catalog_properties(lake(warehouse="s3://lake/wh"), tmp_path, env=env)
    assert props["type"] == "sql"
    assert props["warehouse"] == "s3://lake/wh"
    assert props["s3.endpoint"] == "http://127.0.0.1:9000"
    assert props["s3.region"] == "eu-west-1"
    # credentials stay in the environment, where pyarrow/boto3 read them: never in properties
    assert SECRET not in props.values()
    assert "AKIAENVONLY" not in props.values()


def test_s3_specific_endpoint_variable_wins(tmp_path: Path) -> None:
    env = {"AWS_ENDPOINT_URL": "http://generic:1", "AWS_ENDPOINT_URL_S3": "http://s3only:2"}
    props = build_catalog_properties(lake(warehouse="s3://b"), tmp_path, env=env)
    assert props["s3.endpoint"] == "http://s3only:2"


def test_custom_endpoint_without_region_gets_a_default_region(tmp_path: Path) -> None:
    # otherwise pyiceberg asks AWS itself which region the bucket is in
    props = build_catalog_properties(
        lake(warehouse="s3://b", s3={"endpoint": "http://127.0.0.1:8333"}), tmp_path, env={}
    )
    assert props["s3.region"] == "us-east-1"


def test_local_warehouse_takes_no_s3_environment(tmp_path: Path) -> None:
    props = build_catalog_properties(lake(), tmp_path, env={"AWS_ENDPOINT_URL": "http://x:1"})
    assert "s3.endpoint" not in props


def test_explicit_catalog_properties_beat_settings_and_environment(tmp_path: Path) -> None:
    settings = lake(
        catalog={"type": "sql", "uri": "sqlite:///x.db", "s3.region": "ap-south-1"},
        warehouse="s3://b",
        s3={"region": "eu-north-1"},
    )
    props = build_catalog_properties(settings, tmp_path, env={"AWS_REGION": "us-west-2"})
    assert props["s3.region"] == "ap-south-1"


def test_s3_settings_credentials_become_properties(tmp_path: Path) -> None:
    settings = lake(
        warehouse="s3://b",
        s3={
            "endpoint": "http://127.0.0.1:8333",
            "access_key_id": "AKIASETTING",
            "secret_access_key": SECRET,
            "connect_timeout_s": 3,
        },
    )
    props = build_catalog_properties(settings, tmp_path, env={})
    assert props["s3.access-key-id"] == "AKIASETTING"
    assert props["s3.secret-access-key"] == SECRET
    assert props["s3.connect-timeout"] == "3.0"
    assert "client.secret-access-key" not in props  # no SigV4/Glue: boto3 is not involved


def test_sigv4_rest_catalog_gets_client_credentials_and_signing_region(tmp_path: Path) -> None:
    settings = lake(
        catalog={"type": "rest", "uri": "http://127.0.0.1:8181", "rest.sigv4-enabled": "true"},
        s3={"region": "eu-central-1", "access_key_id": "AKIAX", "secret_access_key": SECRET},
    )
    props = build_catalog_properties(settings, tmp_path, env={})
    assert props["client.secret-access-key"] == SECRET
    assert props["client.region"] == "eu-central-1"
    assert props["rest.signing-region"] == "eu-central-1"


def test_s3_tables_arn_selects_the_sigv4_rest_endpoint(tmp_path: Path) -> None:
    arn = "arn:aws:s3tables:eu-west-3:111122223333:bucket/wikistream-tables"
    props = build_catalog_properties(lake(s3_tables_arn=arn), tmp_path, env={})
    assert props == {
        "type": "rest",
        "uri": "https://s3tables.eu-west-3.amazonaws.com/iceberg",
        "warehouse": arn,
        "rest.sigv4-enabled": "true",
        "rest.signing-name": "s3tables",
        "rest.signing-region": "eu-west-3",
        "client.region": "eu-west-3",
        "s3.region": "eu-west-3",
    }


def test_s3_tables_arn_in_china_uses_the_china_domain(tmp_path: Path) -> None:
    arn = "arn:aws-cn:s3tables:cn-north-1:111122223333:bucket/lake"
    props = build_catalog_properties(lake(s3_tables_arn=arn), tmp_path, env={})
    assert props["uri"] == "https://s3tables.cn-north-1.amazonaws.com.cn/iceberg"


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:s3:::my-bucket",
        "arn:aws:s3tables:us-east-1:123:bucket/x",
        "s3://bucket",
        "arn:aws:s3tables:us-east-1:111122223333:bucket/UPPER",
    ],
)
def test_bad_s3_tables_arn_names_the_setting(tmp_path: Path, arn: str) -> None:
    with pytest.raises(ConfigError) as caught:
        build_catalog_properties(lake(s3_tables_arn=arn), tmp_path, env={})
    assert caught.value.key == "lake.s3_tables_arn"
    assert "arn:aws:s3tables:<region>" in str(caught.value)


def test_s3_tables_arn_with_another_catalog_type_is_refused(tmp_path: Path) -> None:
    settings = lake(
        s3_tables_arn="arn:aws:s3tables:us-east-1:111122223333:bucket/lake",
        catalog={"type": "glue"},
    )
    with pytest.raises(ConfigError, match="S3 Tables is a REST catalog"):
        build_catalog_properties(settings, tmp_path, env={})


def test_two_different_warehouses_are_refused(tmp_path: Path) -> None:
    settings = lake(warehouse="s3://a", catalog={"type": "sql", "uri": "x", "warehouse": "s3://b"})
    with pytest.raises(ConfigError) as caught:
        build_catalog_properties(settings, tmp_path, env={})
    assert caught.value.key == "lake.warehouse"


def test_glue_catalog_gets_region_from_the_environment(tmp_path: Path) -> None:
    props = build_catalog_properties(
        lake(catalog={"type": "glue"}, warehouse="s3://lake/wh"),
        tmp_path,
        env={"AWS_DEFAULT_REGION": "sa-east-1"},
    )
    assert props["glue.region"] == "sa-east-1"
    assert props["s3.region"] == "sa-east-1"


def test_settings_env_variables_reach_the_properties(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIKISTREAM_LAKE__WAREHOUSE", "s3://lake/prod")
    monkeypatch.setenv("WIKISTREAM_LAKE__S3__ENDPOINT", "http://127.0.0.1:8333")
    monkeypatch.setenv("WIKISTREAM_LAKE__S3__SECRET_ACCESS_KEY", SECRET)
    settings = load_settings(overrides={"data_dir": tmp_path})
    assert SECRET not in repr(settings)
    props = catalog_properties(settings)
    assert props["warehouse"] == "s3://lake/prod"
    assert props["s3.secret-access-key"] == SECRET


@pytest.mark.parametrize(
    ("props", "extra", "module"),
    [
        ({"type": "glue"}, "aws", "boto3"),
        ({"type": "rest", "uri": "http://x", "rest.sigv4-enabled": "true"}, "aws", "boto3"),
        ({"type": "sql", "uri": "postgresql+psycopg2://u@h/db"}, "postgres", "psycopg2"),
        ({"type": "sql", "uri": "postgresql://u@h/db"}, "postgres", "psycopg2"),
    ],
)
def test_missing_optional_module_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, props: dict[str, str], extra: str, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # as if not installed
    with pytest.raises(DependencyMissingError) as caught:
        check_dependencies(props)
    assert caught.value.extra == extra
    assert f"pip install 'wikistream[{extra}]'" in str(caught.value)


def test_open_catalog_reports_missing_boto3_for_glue(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    settings.lake.catalog = {"type": "glue", "glue.region": "us-east-1"}
    with pytest.raises(DependencyMissingError, match=r"wikistream\[aws\]"):
        open_catalog(settings)


def test_sqlite_and_unsigned_rest_need_no_extra() -> None:
    check_dependencies({"type": "sql", "uri": "sqlite:///x.db"})
    check_dependencies({"type": "rest", "uri": "http://127.0.0.1:8181"})


def test_toml_booleans_and_numbers_become_property_strings(tmp_path: Path) -> None:
    config = tmp_path / "wikistream.toml"
    config.write_text(
        '[lake.catalog]\ntype = "rest"\nuri = "http://127.0.0.1:8181"\n'
        '"rest.sigv4-enabled" = true\n"s3.connect-timeout" = 5\n'
    )
    settings = load_settings(config, overrides={"data_dir": tmp_path})
    assert settings.lake.catalog["rest.sigv4-enabled"] == "true"
    assert settings.lake.catalog["s3.connect-timeout"] == "5"


def test_a_table_as_catalog_property_is_refused_with_its_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(overrides={"data_dir": tmp_path, "lake": {"catalog": {"uri": {"a": 1}}}})
    assert caught.value.key == "lake.catalog.uri"


def test_file_warehouse_with_escaped_characters_is_created(settings: Settings) -> None:
    target = settings.data_dir / "my lake"
    settings.lake.warehouse = target.resolve().as_uri()  # file:///…/my%20lake
    open_catalog(settings)
    assert target.is_dir()
