"""Registry and service settings: command-line option, then ``RAREDX_*`` environment variable, then default."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_registry_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "raredx" / "registry"


class Settings(BaseSettings):
    """Read from ``RAREDX_<NAME>`` environment variables; the CLI passes its options as arguments."""

    model_config = SettingsConfigDict(env_prefix="RAREDX_", frozen=True, extra="ignore")

    database_url: str | None = Field(default=None, description="SQLAlchemy URL; default SQLite in registry_dir.")
    registry_dir: Path = Field(default_factory=default_registry_dir, description="Where the SQLite registry and the token key live.")
    data_dir: Path | None = Field(default=None, description="Knowledge-base release files (as for raredx diagnose).")
    cache_dir: Path | None = None
    secret_key: str | None = Field(default=None, description="Token-signing key; default: made once and kept in registry_dir.")
    token_minutes: int = Field(default=60, ge=1)
    max_upload_mb: int = Field(default=100, ge=1)
    demo: bool = Field(default=False, description="Demo mode: the demo users' published passwords work.")

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.registry_dir / 'registry.sqlite3'}"

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 2**20
