"""One typed settings tree, loaded once: defaults < TOML file < ``WIKISTREAM_*`` env < CLI flags.

Environment variables use ``__`` between levels: ``WIKISTREAM_INGEST__CONTACT=me@example.org``,
``WIKISTREAM_LOG__BACKEND=kafka``. A TOML file is found at ``--config``, ``$WIKISTREAM_CONFIG`` or
``<data-dir>/wikistream.toml``. Unknown keys are errors that name the key.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from wikistream.errors import ConfigError
from wikistream.eventlog.config import EventLogSettings
from wikistream.ingest.config import IngestSettings
from wikistream.lake.config import LakeSettings
from wikistream.observe.config import ObserveSettings
from wikistream.orchestrate.config import OrchestrateSettings
from wikistream.quality.config import QualitySettings
from wikistream.serve.config import ServeSettings
from wikistream.spark.config import SparkSettings

ENV_PREFIX = "WIKISTREAM_"
DEFAULT_DATA_DIR = Path("wikistream-data")
CONFIG_FILE_NAME = "wikistream.toml"


class Settings(BaseSettings):
    """Everything WikiStream can be told; every stored file lives under ``data_dir``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=False
    )

    data_dir: Path = DEFAULT_DATA_DIR
    environment: str = "dev"
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    log: EventLogSettings = Field(default_factory=EventLogSettings)
    lake: LakeSettings = Field(default_factory=LakeSettings)
    quality: QualitySettings = Field(default_factory=QualitySettings)
    orchestrate: OrchestrateSettings = Field(default_factory=OrchestrateSettings)
    observe: ObserveSettings = Field(default_factory=ObserveSettings)
    serve: ServeSettings = Field(default_factory=ServeSettings)
    spark: SparkSettings = Field(default_factory=SparkSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings merges file < env < flags itself, so only init values are used here.
        return (init_settings,)

    def path(self, *parts: str) -> Path:
        """Return a path under the data dir, creating the data dir on first use."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return self.data_dir.joinpath(*parts)


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}", key=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}", key=str(path)) from exc


def _check_env_keys() -> None:
    """Refuse ``WIKISTREAM_*`` variables that name no setting (pydantic ignores them)."""
    known = set(Settings.model_fields) | {"config"}
    for name in os.environ:
        if not name.startswith(ENV_PREFIX):
            continue
        top = name[len(ENV_PREFIX) :].split("__", 1)[0].lower()
        if top not in known:
            raise ConfigError(
                f"unknown setting in environment variable {name}; known sections: "
                f"{', '.join(sorted(known))}",
                key=name,
            )


def _describe(exc: ValidationError) -> tuple[str, str]:
    first = exc.errors()[0]
    key = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        return key, f"unknown setting '{key}'"
    return key, f"invalid setting '{key}': {first['msg']} (got {first.get('input')!r})"


def load_settings(
    config_file: Path | None = None, overrides: dict[str, Any] | None = None
) -> Settings:
    """Load and validate settings; raise :class:`ConfigError` naming the bad key."""
    _check_env_keys()
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    if config_file is None and os.environ.get(f"{ENV_PREFIX}CONFIG"):
        config_file = Path(os.environ[f"{ENV_PREFIX}CONFIG"])
    if config_file is None:
        data_dir = Path(
            overrides.get("data_dir") or os.environ.get(f"{ENV_PREFIX}DATA_DIR") or DEFAULT_DATA_DIR
        )
        candidate = data_dir / CONFIG_FILE_NAME
        config_file = candidate if candidate.is_file() else None
    file_values = _read_toml(config_file) if config_file is not None else {}
    merged = _deep_merge(_deep_merge(file_values, _env_nested()), overrides)
    try:
        return Settings(**merged)
    except ValidationError as exc:
        key, message = _describe(exc)
        raise ConfigError(message, key=key) from exc


def _env_nested() -> dict[str, Any]:
    """Collect ``WIKISTREAM_A__B=v`` variables into ``{"a": {"b": "v"}}``."""
    result: dict[str, Any] = {}
    for name, value in os.environ.items():
        if not name.startswith(ENV_PREFIX) or name == f"{ENV_PREFIX}CONFIG":
            continue
        parts = name[len(ENV_PREFIX) :].lower().split("__")
        node = result
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"environment variable {name} conflicts with another", key=name)
        node[parts[-1]] = _maybe_json(value)
    return result


def _maybe_json(value: str) -> Any:
    """Env values that look like JSON lists/objects are parsed (e.g. target_domains)."""
    stripped = value.strip()
    if stripped[:1] in "[{":
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value
