"""Prefect tasks of the reprice: thin wrappers around usage_etl.repricing.reprice. Retries only on I/O.

A day's store step is safe to retry as a whole: it compares the store with the new prices again, so a retry after
a failed commit changes what is still old and nothing else.
"""
from __future__ import annotations

from datetime import date

import duckdb
from prefect import task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from usage_etl.repricing import reprice
from usage_etl.repricing.reprice import DayWindow, Restatement, RepriceSummary

IO_RETRY_DELAYS = [2, 10, 30]
TRANSIENT_ERRORS = (OperationalError, duckdb.IOException)


def is_transient(_task, _task_run, state) -> bool:
    """Retry a failed store step only when the database or the disk failed, not when the step is wrong."""
    try:
        state.result()
    except TRANSIENT_ERRORS:
        return True
    except BaseException:
        return False
    return False


@task(cache_policy=NO_CACHE)
def list_reprice_days(con: duckdb.DuckDBPyConnection, timezone: str, since: date | None,
                      client_id: str | None) -> list[date]:
    """List the local days with calls to re-cost."""
    return reprice.list_days(con, timezone, since, client_id)


@task(cache_policy=NO_CACHE, retries=len(IO_RETRY_DELAYS), retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=is_transient)
def start_reprice_run(engine: Engine, since: date | None, client_id: str | None) -> int:
    """Record the start of the run in the usage database."""
    return reprice.start_run(engine, since, client_id)


@task(cache_policy=NO_CACHE)
def price_day(con: duckdb.DuckDBPyConnection, engine: Engine, window: DayWindow, client_id: str | None) -> int:
    """Price one day's calls again with today's prices."""
    return reprice.price_day(con, engine, window, client_id)


@task(cache_policy=NO_CACHE, retries=len(IO_RETRY_DELAYS), retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=is_transient)
def restate_usage_db(con: duckdb.DuckDBPyConnection, engine: Engine, run_id: int, window: DayWindow,
                     client_id: str | None) -> list[Restatement]:
    """Update one day of the usage database and record its restatement, in one transaction."""
    return reprice.restate_usage_db_day(con, engine, run_id, window, client_id)


@task(cache_policy=NO_CACHE, retries=len(IO_RETRY_DELAYS), retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=is_transient)
def restate_warehouse(con: duckdb.DuckDBPyConnection, run_id: int, window: DayWindow,
                      client_id: str | None) -> list[Restatement]:
    """Update one day of the warehouse and record its restatement, in one transaction."""
    return reprice.restate_warehouse_day(con, run_id, window, client_id)


@task(cache_policy=NO_CACHE, retries=len(IO_RETRY_DELAYS), retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=is_transient)
def refresh_models(con: duckdb.DuckDBPyConnection, timezone: str) -> None:
    """Rebuild the warehouse models the reports read."""
    reprice.refresh_models(con, timezone)


@task(cache_policy=NO_CACHE, retries=len(IO_RETRY_DELAYS), retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=is_transient)
def finish_reprice_run(engine: Engine, summary: RepriceSummary) -> None:
    """Record that the run finished."""
    reprice.finish_run(engine, summary)


@task(cache_policy=NO_CACHE, retries=len(IO_RETRY_DELAYS), retry_delay_seconds=IO_RETRY_DELAYS,
      retry_condition_fn=is_transient)
def check_prices_changed(engine: Engine) -> bool:
    """Say whether prices changed since the last full reprice."""
    return reprice.prices_changed_since_last_reprice(engine)
