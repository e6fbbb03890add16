"""Settings, read once from the environment at the edge and passed down as arguments."""
from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

# DuckDB's own memory (the rest of the process is ~0.4 GB more): past it, joins and aggregates spill to a temp
# folder beside the warehouse file, so rebuilding the models over months of history stays within it. At 512MB a
# 64 MiB batch already spills (a one-day ingest took 25% longer); at 1GB it does not.
DEFAULT_MEMORY_LIMIT = "1GB"


class Settings(BaseSettings):
    """The job's settings: every one comes from a `USAGE_ETL_*` environment variable."""

    model_config = SettingsConfigDict(env_prefix="USAGE_ETL_", extra="ignore")

    db_url: str = "sqlite:///warehouse/usage.sqlite"
    warehouse: Path = Path("warehouse/usage.duckdb")
    raw_logs: Path = Path("raw_logs")
    reports_dir: Path = Path("reports/out")
    timezone: str = "America/Sao_Paulo"
    locale: str = "pt_BR"
    # 128 MiB is ~120,000 calls, about one DuckDB row group (122,880 rows): the warehouse then writes most of a
    # batch straight into its file instead of through its WAL first (one-day ingest ~10% faster, ~130 MB more peak)
    batch_bytes: int = Field(default=128 * 1024 * 1024, description="raw bytes read per batch")
    warehouse_memory: str = Field(default=DEFAULT_MEMORY_LIMIT, description="DuckDB's memory limit, like 1GB")


class SmtpSettings(BaseSettings):
    """SMTP settings from `SMTP_*`; with no host, emails go to the outbox folder."""

    model_config = SettingsConfigDict(env_prefix="SMTP_", extra="ignore")

    host: str | None = None
    port: int = 587
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = True
    from_: str = Field(default="usage-etl@localhost", validation_alias="SMTP_FROM")

    @property
    def configured(self) -> bool:
        """Say whether a real SMTP server is configured."""
        return bool(self.host)
