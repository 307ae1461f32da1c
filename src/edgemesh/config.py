"""Site settings, read from the environment (EDGEMESH_*) with sane defaults."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    """Where a site keeps its database and files unless told otherwise."""
    return Path.cwd() / ".edgemesh"


class Settings(BaseSettings):
    """Everything a site needs to know to run; one instance per process."""

    model_config = SettingsConfigDict(env_prefix="EDGEMESH_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    host: str = "127.0.0.1"
    coordinator_port: int = 4301
    inference_port: int = 4302
    control_plane_port: int = 4303
    portal_port: int = 4310

    unit_price_mc: int = Field(default=1000, ge=0)
    coordinator_fee_bps: int = Field(default=1000, ge=0, le=10_000)
    lease_seconds: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    max_units_per_workload: int = Field(default=100_000, ge=1)
    max_pull: int = Field(default=32, ge=1)
    max_body_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)

    def resolved_database_url(self) -> str:
        """The configured database URL, or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'edgemesh.db'}"
