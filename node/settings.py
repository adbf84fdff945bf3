"""Typed node settings, read once from the environment (``MAILLON_*``) and ``maillon.toml``.

Nothing here runs at import time: call :func:`load_settings` and pass the object on.
Every field is documented in ``docs/configuration.md`` (a test keeps the two in step).
"""

from __future__ import annotations

import secrets
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)


class Settings(BaseSettings):
    """One node's configuration."""

    model_config = SettingsConfigDict(
        env_prefix="MAILLON_", toml_file="maillon.toml", extra="forbid", frozen=True
    )

    database_url: str = Field(
        default="sqlite:///maillon.db",
        description="SQLAlchemy URL: `sqlite:///path.db` (embedded) or "
        "`postgresql+psycopg://user@host/db`.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public base URL of the node; canonical object URLs (ActivityPub ids) "
        "are built from it. Changing it after federating breaks peers' references.",
    )
    secret_key: str = Field(
        default_factory=lambda: secrets.token_urlsafe(32),
        description="Node secret (sessions, key encryption). Set it in production: the "
        "default is random per process.",
    )
    search: Literal["embedded", "meilisearch"] = Field(
        default="embedded", description="Search backend."
    )
    search_path: str | None = Field(
        default=None,
        description="File of the embedded search index; default: beside the SQLite database "
        "(`<name>.search.db`), or `maillon-search.db` with PostgreSQL.",
    )
    meili_url: str = Field(default="http://127.0.0.1:7700", description="Meilisearch URL.")
    meili_key: str | None = Field(default=None, description="Meilisearch API key.")
    geocoder: Literal["offline", "ban", "nominatim"] = Field(
        default="offline",
        description="`offline` uses the shipped gazetteer of French communes; `ban` "
        "(French national address API) or `nominatim` call `geocoder_url`, falling back "
        "to offline.",
    )
    geocoder_url: str | None = Field(
        default=None, description="Base URL of the online geocoder (`ban`/`nominatim`)."
    )
    max_body_bytes: int = Field(
        default=1_000_000, gt=0, description="Largest accepted request body; larger → 413."
    )
    login_attempts_per_minute: int = Field(
        default=10, gt=0, description="Failed logins allowed per client address and account."
    )
    workers: int = Field(
        default=1, ge=0, description="Job worker threads run inside `maillon serve`."
    )
    job_lease_seconds: int = Field(
        default=300, gt=0, description="How long a claimed job stays locked before it returns."
    )
    timezone: str = Field(
        default="Europe/Paris", description="Default IANA time zone of the territory."
    )
    language: Literal["fr", "en"] = Field(default="fr", description="Default UI language.")
    web_templates: str | None = Field(
        default=None,
        description="Directory overriding the web templates by file name (branding); its "
        "`static/` folder is served first under `/static`.",
    )
    tile_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="Map tile URL template (`{z}/{x}/{y}`) the web pages' maps load.",
    )
    tile_attribution: str = Field(
        default="© OpenStreetMap contributors",
        description="Attribution shown on the maps for the tile server.",
    )
    federation: Literal["open", "allowlist"] = Field(
        default="open",
        description="`open`: federate with every node not blocked; `allowlist`: only with "
        "the nodes an admin allowed (`maillon peers allow`).",
    )
    federation_allow_private: bool = Field(
        default=False,
        description="Allow outbound federation requests to private and loopback addresses "
        "(tests, closed networks). Off: such URLs are refused (SSRF guard).",
    )
    federation_clock_skew_seconds: int = Field(
        default=3600,
        gt=0,
        description="How far a signed request's `Date`/`created` may be from our clock.",
    )
    federation_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one outbound federation request."
    )
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines of `maillon serve` and `maillon worker`: `text` for people, "
        "`json` (one object per line, with the request id) for log collectors.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO",
        description="Lowest level logged; `INFO` includes one access line per request.",
    )

    @field_validator("database_url")
    @classmethod
    def _psycopg_driver(cls, value: str) -> str:
        """``postgresql://`` means psycopg 3, the driver Maillon ships (not psycopg2)."""
        for scheme in ("postgresql://", "postgres://"):
            if value.startswith(scheme):
                return "postgresql+psycopg://" + value.removeprefix(scheme)
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(**overrides: object) -> Settings:
    """Read the environment and ``maillon.toml`` (if present) into a Settings object."""
    return Settings(**overrides)  # type: ignore[arg-type]
