"""The warehouse models reports read, daily_costs and conversations, kept up to date with usage_logs.

A full rebuild reads the whole history. After a load, a backfill or a reprice, only the local days and the
conversations of the hours that changed (model_changes) are rebuilt, so a nightly run's refresh costs what the
night added, not what the warehouse holds.
"""
from __future__ import annotations

from datetime import timedelta

import duckdb

from usage_etl import warehouse

# Any local day lies within this much of the UTC hours it is made of (offsets reach 14 h, a day can last 25 h).
DAY_MARGIN = timedelta(days=2)


def refresh_warehouse_models(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """Rebuild daily_costs and conversations from all of usage_logs in one transaction; days are local to `timezone`."""
    with warehouse.transaction(con):
        con.execute("create or replace table daily_costs as " + _model_sql("select_daily_costs.sql", "main.usage_logs"),
                    {"timezone": timezone})
        con.execute("create or replace table conversations as "
                    + _model_sql("select_conversations.sql", "main.usage_logs"))
        _mark_current(con, timezone)


def update_warehouse_models(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """Rebuild, in one transaction, only the days and conversations of the hours model_changes lists."""
    with warehouse.transaction(con):
        first_hour, last_hour = con.execute("select min(hour), max(hour) from model_changes").fetchone()
        bounds = {"first_at": first_hour - DAY_MARGIN, "last_at": last_hour + DAY_MARGIN}
        con.execute("create or replace temp table changed_days as " + warehouse.read_sql("select_changed_days.sql"),
                    {"timezone": timezone})
        con.execute(warehouse.read_sql("delete_changed_daily_costs.sql"))
        day_calls = f"({warehouse.read_sql('select_changed_day_calls.sql')})"
        con.execute("insert into daily_costs " + _model_sql("select_daily_costs.sql", day_calls),
                    {"timezone": timezone, **bounds})
        con.execute("create or replace temp table changed_conversations as "
                    + warehouse.read_sql("select_changed_conversations.sql"),
                    {"first_at": first_hour, "last_at": last_hour + timedelta(hours=1)})
        con.execute(warehouse.read_sql("delete_changed_conversations.sql"))
        from_at = con.execute("select min(from_at) from changed_conversations").fetchone()[0]
        conversation_calls = f"({warehouse.read_sql('select_changed_conversation_calls.sql')})"
        con.execute("insert into conversations " + _model_sql("select_conversations.sql", conversation_calls),
                    {"from_at": from_at or first_hour})
        _mark_current(con, timezone)
        con.execute("drop table changed_days")
        con.execute("drop table changed_conversations")


def ensure_warehouse_models(con: duckdb.DuckDBPyConnection, timezone: str) -> bool:
    """Bring the models up to date unless they are (a run that loaded nothing costs nothing); say if it did.

    Only what changed is rebuilt when the models were built in `timezone` and the changes were listed;
    otherwise (never built, another time zone, changes from before model_changes existed) all of it.
    """
    built, state = _models_exist(con), _state(con)
    if built and state == [(timezone, False)]:  # current: built in `timezone`, usage_logs unchanged since
        return False
    listed = con.execute("select count(*) from model_changes").fetchone()[0]
    if built and state == [(timezone, True)] and listed:
        update_warehouse_models(con, timezone)
    else:
        refresh_warehouse_models(con, timezone)
    return True


def _model_sql(name: str, calls: str) -> str:
    return warehouse.read_sql(name).replace("{calls}", calls)


def _models_exist(con: duckdb.DuckDBPyConnection) -> bool:
    present = {row[0] for row in con.execute(
        "select table_name from information_schema.tables where table_schema = 'main'").fetchall()}
    return {"daily_costs", "conversations"} <= present


def _state(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("select timezone, stale from model_state").fetchall()


def _mark_current(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """Record the models as built in `timezone` and matching usage_logs (in the rebuild's transaction)."""
    con.execute("delete from model_state")
    con.execute("insert into model_state values (?, false)", [timezone])
    con.execute("delete from model_changes")
