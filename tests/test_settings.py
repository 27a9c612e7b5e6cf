from __future__ import annotations

from pathlib import Path

import pytest

from wikistream.errors import ConfigError
from wikistream.settings import load_settings


def test_defaults_and_data_dir(tmp_path: Path) -> None:
    s = load_settings(overrides={"data_dir": tmp_path})
    assert s.data_dir == tmp_path
    assert len(s.ingest.target_domains) == 18
    assert s.lake.commit_rows == 50_000
    assert s.observe.metrics_host == "127.0.0.1"


def test_file_env_flag_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text('environment = "file"\n[ingest]\nidle_timeout_s = 5\ncontact = "file@x"\n')
    monkeypatch.setenv("WIKISTREAM_INGEST__CONTACT", "env@x")
    monkeypatch.setenv("WIKISTREAM_ENVIRONMENT", "env")
    s = load_settings(cfg, {"environment": "flag"})
    assert s.ingest.idle_timeout_s == 5
    assert s.ingest.contact == "env@x"
    assert s.environment == "flag"


def test_config_file_found_in_data_dir(tmp_path: Path) -> None:
    (tmp_path / "wikistream.toml").write_text("[lake]\ncommit_rows = 7\n")
    assert load_settings(overrides={"data_dir": tmp_path}).lake.commit_rows == 7


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("[ingest]\nidle_timeout = 5\n", "ingest.idle_timeout"),
        ("[ingest]\nidle_timeout_s = -1\n", "ingest.idle_timeout_s"),
        ("[log]\nbackend = 'redis'\n", "log.backend"),
        ("bogus = 1\n", "bogus"),
    ],
)
def test_bad_file_key_is_named(tmp_path: Path, toml: str, key: str) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text(toml)
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert err.value.key == key
    assert key in str(err.value)


def test_unknown_env_section_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WIKISTREAM_INGSET__CONTACT", "x")
    with pytest.raises(ConfigError, match="WIKISTREAM_INGSET__CONTACT"):
        load_settings()


def test_env_list_value(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("WIKISTREAM_INGEST__TARGET_DOMAINS", '["en.wikipedia.org"]')
    assert load_settings(overrides={"data_dir": tmp_path}).ingest.target_domains == [
        "en.wikipedia.org"
    ]


def test_invalid_toml_is_config_error(tmp_path: Path) -> None:
    cfg = tmp_path / "w.toml"
    cfg.write_text("[ingest\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(cfg)
