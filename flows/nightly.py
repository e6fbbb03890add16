"""The nightly flow: ingest what is new, re-cost past days when prices changed, then render and email yesterday's
reports (weekly ones on Mondays)."""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from prefect import flow

from flows.ingest import ingest
from usage_etl.settings import Settings


@flow(name="nightly", log_prints=False)
def nightly(raw_logs: str | None = None, as_of: str | None = None, settings: Settings | None = None) -> dict:
    """Ingest, reprice if prices changed, then report on yesterday (and on the last full week when today is Monday).

    Args:
        raw_logs: the raw-logs root; USAGE_ETL_RAW_LOGS when None.
        as_of: run as if today were this local day (YYYY-MM-DD); today in USAGE_ETL_TIMEZONE when None.
        settings: the job's settings; read from the environment when None.
    """
    from flows.reports import daily_reports, weekly_reports
    from flows.reprice import reprice_if_prices_changed

    settings = settings or Settings()
    today = date.fromisoformat(as_of) if as_of else datetime.now(ZoneInfo(settings.timezone)).date()
    summary = ingest(raw_logs=raw_logs, settings=settings)
    restated = reprice_if_prices_changed(settings=settings)
    yesterday = today - timedelta(days=1)
    reports = [daily_reports(report_date=yesterday.isoformat(), send_email=True, settings=settings)]
    if today.weekday() == 0:
        year, week, _ = yesterday.isocalendar()
        reports.append(weekly_reports(week=f"{year}-W{week:02d}", send_email=True, settings=settings))
    return {"ingest": summary, "reprice": restated, "reports": reports}


if __name__ == "__main__":
    nightly()
