"""The warehouse models reports read, rebuilt from usage_logs after every load: daily_costs and conversations."""
from __future__ import annotations

import duckdb

from usage_etl import warehouse

MODEL_STATEMENTS = ("build_daily_costs.sql", "build_conversations.sql")


def refresh_warehouse_models(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """Rebuild daily_costs and conversations from usage_logs in one transaction; days are local to `timezone`."""
    with warehouse.transaction(con):
        con.execute(warehouse.read_sql("build_daily_costs.sql"), {"timezone": timezone})
        con.execute(warehouse.read_sql("build_conversations.sql"))


def ensure_warehouse_models(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """Build the models when a warehouse has none yet (reports on a warehouse no ingest has refreshed)."""
    present = {row[0] for row in con.execute(
        "select table_name from information_schema.tables where table_schema = 'main'").fetchall()}
    if not {"daily_costs", "conversations"} <= present:
        refresh_warehouse_models(con, timezone)
