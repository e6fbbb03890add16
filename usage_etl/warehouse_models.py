"""The warehouse models reports read, rebuilt from usage_logs after a load that changed it: daily_costs and conversations."""
from __future__ import annotations

import duckdb

from usage_etl import warehouse

MODEL_STATEMENTS = ("build_daily_costs.sql", "build_conversations.sql")


def refresh_warehouse_models(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """Rebuild daily_costs and conversations from usage_logs in one transaction; days are local to `timezone`."""
    with warehouse.transaction(con):
        con.execute(warehouse.read_sql("build_daily_costs.sql"), {"timezone": timezone})
        con.execute(warehouse.read_sql("build_conversations.sql"))
        con.execute("delete from model_state")
        con.execute("insert into model_state values (?, false)", [timezone])


def models_are_current(con: duckdb.DuckDBPyConnection, timezone: str) -> bool:
    """Tell whether the models exist, were built in `timezone` and usage_logs has not changed since."""
    present = {row[0] for row in con.execute(
        "select table_name from information_schema.tables where table_schema = 'main'").fetchall()}
    if not {"daily_costs", "conversations"} <= present:
        return False
    state = con.execute("select timezone, stale from model_state").fetchall()
    return state == [(timezone, False)]


def ensure_warehouse_models(con: duckdb.DuckDBPyConnection, timezone: str) -> bool:
    """Rebuild the models unless they are current (a run that loaded nothing costs no rebuild); say if it did."""
    if models_are_current(con, timezone):
        return False
    refresh_warehouse_models(con, timezone)
    return True
