"""Prefect tasks of the ingest: thin wrappers around usage_etl.ingest. Retries only on I/O."""
from __future__ import annotations

from pathlib import Path

import duckdb
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine

from usage_etl import ingest, rawlog, warehouse
from usage_etl.ingest import Batch, BatchCounts
from usage_etl.usage_db import UsageDbTransaction

IO_RETRY_DELAYS = [2, 10, 30]


@task(cache_policy=NO_CACHE)
def list_raw_files(root: Path, since=None, until=None) -> list[str]:
    """List the raw log files, optionally only the day partitions in [since, until]."""
    return rawlog.discover_files(root, since, until)


@task(cache_policy=NO_CACHE)
def parse_lines(con: duckdb.DuckDBPyConnection, batch: Batch) -> BatchCounts:
    """Stage and parse one batch of raw lines."""
    ingest.stage_batch(con, batch)
    return ingest.parse_batch(con, batch)


@task(cache_policy=NO_CACHE)
def price_lines(con: duckdb.DuckDBPyConnection, engine: Engine, counts: BatchCounts) -> BatchCounts:
    """Price the parsed calls with the prices in force at each call."""
    ingest.price_batch(con, engine)
    ingest.new_call_counts(con, counts)
    return counts


@task(cache_policy=NO_CACHE, retries=len(IO_RETRY_DELAYS), retry_delay_seconds=IO_RETRY_DELAYS)
def load_into_warehouse(con: duckdb.DuckDBPyConnection) -> int:
    """Add the priced batch to the DuckDB warehouse in one transaction."""
    with warehouse.transaction(con):
        return ingest.load_warehouse(con)


@task(cache_policy=NO_CACHE)
def add_to_warehouse(con: duckdb.DuckDBPyConnection) -> int:
    """Add the priced batch inside an already open warehouse transaction (backfill of one day)."""
    return ingest.load_warehouse(con)


@task(cache_policy=NO_CACHE)
def export_for_usage_db(con: duckdb.DuckDBPyConnection, batch: Batch) -> ingest.UsageDbLoad:
    """Take the priced batch out of DuckDB, for the usage database."""
    return ingest.export_for_usage_db(con, batch)


@task(cache_policy=NO_CACHE, retries=len(IO_RETRY_DELAYS), retry_delay_seconds=IO_RETRY_DELAYS)
def load_into_usage_db(usage_db, load: ingest.UsageDbLoad, counts: BatchCounts) -> BatchCounts:
    """Write an exported batch and its file offsets into the usage database in one transaction.

    Touches no DuckDB connection, so the flow runs it in a thread while the next batch is parsed.
    """
    with usage_db.transaction() as tx:
        ingest.write_usage_db(tx, load, counts)
    return counts


@task(cache_policy=NO_CACHE)
def add_to_usage_db(con: duckdb.DuckDBPyConnection, tx: UsageDbTransaction, batch: Batch, counts: BatchCounts) -> BatchCounts:
    """Load the priced batch inside an already open usage-database transaction (backfill of one day)."""
    ingest.load_usage_db(con, tx, batch, counts)
    return counts


@task(cache_policy=NO_CACHE, retries=len(IO_RETRY_DELAYS), retry_delay_seconds=IO_RETRY_DELAYS)
def refresh_models(con: duckdb.DuckDBPyConnection, timezone: str) -> bool:
    """Rebuild the warehouse's daily costs and conversations if usage_logs changed since their last build."""
    from usage_etl.warehouse_models import ensure_warehouse_models

    return ensure_warehouse_models(con, timezone)


@task(cache_policy=NO_CACHE, retries=len(IO_RETRY_DELAYS), retry_delay_seconds=IO_RETRY_DELAYS)
def save_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    """Write the run's committed rows into the warehouse file now (a checkpoint) rather than when it closes."""
    warehouse.checkpoint(con)


@task(cache_policy=NO_CACHE)
def publish_summary(kind: str, summary: ingest.IngestSummary) -> None:
    """Leave the run's summary as a Prefect artifact."""
    from prefect.artifacts import create_markdown_artifact

    rows = "\n".join(f"| {k} | {v} |" for k, v in summary.to_dict().items() if k != "top_reject_reasons")
    reasons = "\n".join(f"- {n} × {r}" for r, n in summary.reject_reasons.most_common(5)) or "- none"
    create_markdown_artifact(
        key=f"{kind}-summary",
        markdown=f"# {kind} run\n\n| figure | value |\n|---|---|\n{rows}\n\n## Top reject reasons\n{reasons}\n",
        description=f"usage-etl {kind} summary",
    )
