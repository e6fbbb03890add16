"""Reprice flows: re-cost stored calls with today's prices, day by day, usage database first, then the warehouse.

`reprice` re-costs every local day (or those from `since`, of one client) and records restatements;
`reprice_if_prices_changed` is what `nightly` runs: a full reprice only when prices changed since the last one.
"""
from __future__ import annotations

from datetime import date

from prefect import flow

from tasks.reprice import (
    check_prices_changed,
    finish_reprice_run,
    list_reprice_days,
    price_day,
    refresh_models,
    restate_usage_db,
    restate_warehouse,
    start_reprice_run,
)
from usage_etl import warehouse
from usage_etl.db.engine import open_usage_db
from usage_etl.repricing.reprice import RepriceSummary, day_window, ensure_restatements_table
from usage_etl.settings import Settings


@flow(name="reprice", log_prints=False)
def reprice(since: date | None = None, client_id: str | None = None,
            settings: Settings | None = None) -> RepriceSummary:
    """Re-cost the stored calls with today's prices and record what changed, per client and local day.

    Args:
        since: first local day (USAGE_ETL_TIMEZONE) to re-cost; every day in the warehouse when None.
        client_id: re-cost only this client's calls; every client when None.
        settings: the job's settings; read from the environment when None.
    """
    settings = settings or Settings()
    engine = open_usage_db(settings.db_url)
    con = warehouse.open_warehouse(settings.warehouse, settings.warehouse_memory)
    try:
        ensure_restatements_table(con)
        summary = RepriceSummary(run_id=start_reprice_run(engine, since, client_id))
        for day in list_reprice_days(con, settings.timezone, since, client_id):
            window = day_window(day, settings.timezone)
            price_day(con, engine, window, client_id)
            summary.add(restate_usage_db(con, engine, summary.run_id, window, client_id))
            summary.add(restate_warehouse(con, summary.run_id, window, client_id))
            summary.days += 1
        if summary.warehouse_changed:
            refresh_models(con, settings.timezone)
        finish_reprice_run(engine, summary)
        return summary
    finally:
        con.close()
        engine.dispose()


@flow(name="reprice-if-prices-changed", log_prints=False)
def reprice_if_prices_changed(settings: Settings | None = None) -> RepriceSummary | None:
    """Re-cost every day when prices were added, ended or changed since the last full reprice; None when not.

    Args:
        settings: the job's settings; read from the environment when None.
    """
    settings = settings or Settings()
    engine = open_usage_db(settings.db_url)
    try:
        changed = check_prices_changed(engine)
    finally:
        engine.dispose()
    return reprice(settings=settings) if changed else None


if __name__ == "__main__":
    reprice()
