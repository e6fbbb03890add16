"""The usage database's tables (PostgreSQL in production, SQLite embedded), one SQLAlchemy metadata.

Grain and invariants, tested in tests/db/test_schema_invariants.py:
- usage_logs: one row per API call (event_id). cost_usd is NULL only when cost_status is
  'unpriced' or 'no_usage'; it is 0 when is_error; total_tokens = prompt_tokens + completion_tokens
  whenever the provider reported both.
- pricing_config: one row per (client_id, provider, model, effective_from); windows of one
  (client_id, provider, model) never overlap. A price change is a new row; rows are never overwritten,
  except that an open window's effective_to is set when it ends (logged in pricing_changes).
- pricing_changes: one row per creation or end of a pricing_config window.
- catalogue_prices_seen: one row per (catalogue_version, provider, model) listed by `prices catalogue`.
- rejected_lines: one row per (raw_file, raw_line) that could not be loaded.
- ingest_files: one row per raw file; read_offset is the byte just after the last complete line loaded.
- reprice_runs: one row per `usage-etl reprice` run; prices_fingerprint is the price state it applied.
- price_restatements: one row per (run_id, client_id, day) whose costs that run changed in this database;
  new_cost_usd - old_cost_usd is the change of the client's day total; calls_changed > 0.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    Index,
)
from sqlalchemy.types import TypeDecorator

COST_SCALE = 12
metadata = MetaData()


class ExactDecimal(TypeDecorator):
    """NUMERIC on PostgreSQL; TEXT on SQLite, whose NUMERIC affinity would turn money into floats."""

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 24, scale: int = COST_SCALE):
        super().__init__()
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect):
        """Store text on SQLite, exact NUMERIC elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(48))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value, dialect):
        """Write the decimal's exact text on SQLite."""
        if value is None:
            return None
        value = Decimal(value)
        if dialect.name == "sqlite":
            return format(value, "f")
        return value

    def process_result_value(self, value, dialect):
        """Read back a Decimal on every dialect."""
        if value is None:
            return None
        return Decimal(value) if not isinstance(value, Decimal) else value


def _tz_datetime() -> DateTime:
    return DateTime(timezone=True)


def _key_text(length: int) -> String:
    """An identifier column: compared byte by byte on PostgreSQL (COLLATE "C"), cheaper to index than a locale's
    rules and the same order as a UTF-8 "C.UTF-8" database. SQLite compares bytes already."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


usage_logs = Table(
    "usage_logs",
    metadata,
    Column("event_id", _key_text(128), primary_key=True),
    Column("client_id", _key_text(128), nullable=False),
    Column("conversation_id", String(256)),
    Column("phone", String(64)),
    Column("source", String(32), nullable=False),
    Column("provider", String(32), nullable=False),
    Column("endpoint", String(64), nullable=False),
    Column("model", String(128)),
    Column("prompt_tokens", BigInteger),
    Column("completion_tokens", BigInteger),
    Column("total_tokens", BigInteger),
    Column("cached_tokens", BigInteger),
    Column("cache_write_tokens", BigInteger),
    Column("reasoning_tokens", BigInteger),
    Column("audio_prompt_tokens", BigInteger),
    Column("audio_completion_tokens", BigInteger),
    Column("audio_seconds", ExactDecimal(18, 3)),
    Column("cost_usd", ExactDecimal(24, COST_SCALE)),
    Column("price_source", String(16)),
    Column("cost_status", String(16), nullable=False),
    Column("is_error", Boolean, nullable=False),
    Column("error_status", Integer),
    Column("error_type", String(128)),
    Column("created_at", _tz_datetime(), nullable=False),
    Column("raw_file", _key_text(512), nullable=False),
    Column("raw_line", BigInteger, nullable=False),
    Column("ingested_at", _tz_datetime(), nullable=False),
    Column("extras", JSON),
    # The dashboard's per-client queries need the b-tree. Rows arrive in time order, file by file, so a BRIN
    # index (a few pages) serves all-client time ranges and a backfill's delete of whole files, for a fraction
    # of a b-tree's cost on every loaded row; SQLite has no BRIN and gets b-trees.
    Index("ix_usage_logs_client_created", "client_id", "created_at"),
    Index("ix_usage_logs_created", "created_at", postgresql_using="brin"),
    Index("ix_usage_logs_raw_file", "raw_file", postgresql_using="brin"),
)

pricing_config = Table(
    "pricing_config",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("client_id", String(128)),  # NULL: a global price, for every client
    Column("provider", String(32), nullable=False),
    Column("model", String(128), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("prompt_price", ExactDecimal(24, 12), nullable=False),
    Column("completion_price", ExactDecimal(24, 12)),
    Column("cached_prompt_price", ExactDecimal(24, 12)),
    Column("effective_from", _tz_datetime(), nullable=False),
    Column("effective_to", _tz_datetime()),
    Column("note", Text),
    Column("created_at", _tz_datetime(), nullable=False),
    Index("ix_pricing_config_lookup", "provider", "model", "client_id", "effective_from"),
)

# Every creation or end of a pricing_config window, so repricing can tell whether prices moved since a run.
pricing_changes = Table(
    "pricing_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pricing_config_id", Integer, nullable=False),
    Column("action", String(16), nullable=False),  # 'created' / 'ended'
    Column("effective_at", _tz_datetime(), nullable=False),  # the window's start (created) or new end (ended)
    Column("changed_at", _tz_datetime(), nullable=False),
    Index("ix_pricing_changes_changed_at", "changed_at"),
)

# The genai-prices catalogue's prices as last seen per catalogue version, to list changes after an upgrade.
catalogue_prices_seen = Table(
    "catalogue_prices_seen",
    metadata,
    Column("catalogue_version", String(32), primary_key=True),
    Column("provider", String(32), primary_key=True),
    Column("model", String(128), primary_key=True),
    Column("input_per_token", ExactDecimal(38, 18)),
    Column("output_per_token", ExactDecimal(38, 18)),
    Column("cached_input_per_token", ExactDecimal(38, 18)),
    Column("cache_write_per_token", ExactDecimal(38, 18)),
    Column("audio_input_per_token", ExactDecimal(38, 18)),
    Column("audio_output_per_token", ExactDecimal(38, 18)),
    Column("per_second", ExactDecimal(38, 18)),
    Column("recorded_at", _tz_datetime(), nullable=False),
)

rejected_lines = Table(
    "rejected_lines",
    metadata,
    Column("raw_file", String(512), primary_key=True),
    Column("raw_line", BigInteger, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("raw_text", Text, nullable=False),
    Column("rejected_at", _tz_datetime(), nullable=False),
)

ingest_files = Table(
    "ingest_files",
    metadata,
    Column("raw_file", String(512), primary_key=True),
    Column("read_offset", BigInteger, nullable=False),
    Column("lines_read", BigInteger, nullable=False),
    Column("head_hash", String(64)),
    Column("updated_at", _tz_datetime(), nullable=False),
)

ingest_runs = Table(
    "ingest_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("started_at", _tz_datetime(), nullable=False),
    Column("finished_at", _tz_datetime()),
    Column("summary", JSON),
)

report_recipients = Table(
    "report_recipients",
    metadata,
    Column("client_id", String(128), primary_key=True),  # '_all' is the operator
    Column("email", String(320), primary_key=True),
    Column("name", String(256)),
)

email_deliveries = Table(
    "email_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("report_kind", String(16), nullable=False),
    Column("period", String(16), nullable=False),
    Column("client_id", String(128), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("status", String(16), nullable=False),  # sent / failed / outbox
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("sent_at", _tz_datetime(), nullable=False),
    UniqueConstraint("report_kind", "period", "client_id", "recipient", name="uq_email_delivery"),
)

schema_version = Table(
    "schema_version",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", _tz_datetime(), nullable=False),
)

reprice_runs = Table(
    "reprice_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("started_at", _tz_datetime(), nullable=False),
    Column("finished_at", _tz_datetime()),  # NULL: the run did not finish
    Column("since", Date),
    Column("client_id", String(128)),
    Column("prices_fingerprint", String(64), nullable=False),
    Column("calls_changed", BigInteger),
)

price_restatements = Table(
    "price_restatements",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("reprice_runs.id"), nullable=False),
    Column("restated_at", _tz_datetime(), nullable=False),
    Column("client_id", String(128), nullable=False),
    Column("day", Date, nullable=False),  # local day in USAGE_ETL_TIMEZONE
    Column("calls_changed", BigInteger, nullable=False),
    Column("old_cost_usd", ExactDecimal(24, COST_SCALE), nullable=False),
    Column("new_cost_usd", ExactDecimal(24, COST_SCALE), nullable=False),
    UniqueConstraint("run_id", "client_id", "day", name="uq_price_restatement"),
)
