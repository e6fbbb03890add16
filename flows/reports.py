"""Report flows: open the warehouse → compute each report's figures → render → save → deliver.

`daily_reports` covers one local day (default yesterday in USAGE_ETL_TIMEZONE); `weekly_reports` one ISO week
(default the last full one). Each renders every client's report and the operator's `_all`, unless told one client.
"""
from __future__ import annotations

from prefect import flow

from tasks.reports import (
    compute_report_figures,
    deliver,
    open_report_warehouse,
    publish_report_artifacts,
    render_reports,
    save_reports,
)
from usage_etl.reporting.formatting import decimal_text
from usage_etl.reporting.periods import Period, choose_daily_period, choose_weekly_period
from usage_etl.settings import Settings


@flow(name="daily-reports", log_prints=False)
def daily_reports(report_date: str | None = None, client_id: str | None = None, send_email: bool = False,
                  resend: bool = False, settings: Settings | None = None) -> dict:
    """Render, save and optionally email one day's cost reports.

    Args:
        report_date: the local day, YYYY-MM-DD; yesterday in USAGE_ETL_TIMEZONE when None.
        client_id: only this client's report ('_all': only the operator's); every client's and the operator's when None.
        send_email: email the rendered reports to their recipients.
        resend: send again reports already sent.
        settings: the job's settings; read from the environment when None.
    """
    settings = settings or Settings()
    return run_reports(choose_daily_period(report_date, settings.timezone), client_id, send_email, resend, settings)


@flow(name="weekly-reports", log_prints=False)
def weekly_reports(week: str | None = None, client_id: str | None = None, send_email: bool = False,
                   resend: bool = False, settings: Settings | None = None) -> dict:
    """Render, save and optionally email one ISO week's cost reports.

    Args:
        week: the ISO week, YYYY-Www; the last full week in USAGE_ETL_TIMEZONE when None.
        client_id: only this client's report ('_all': only the operator's); every client's and the operator's when None.
        send_email: email the rendered reports to their recipients.
        resend: send again reports already sent.
        settings: the job's settings; read from the environment when None.
    """
    settings = settings or Settings()
    return run_reports(choose_weekly_period(week, settings.timezone), client_id, send_email, resend, settings)


def run_reports(period: Period, client_id: str | None, send_email: bool, resend: bool, settings: Settings) -> dict:
    """Run the report steps of one period, top to bottom."""
    con = open_report_warehouse(settings.warehouse, settings.timezone, settings.warehouse_memory)
    try:
        figures = compute_report_figures(con, period, client_id, settings.timezone)
    finally:
        con.close()
    reports = render_reports(figures, settings.locale)
    reports = save_reports(reports, figures, settings.reports_dir)
    delivery = deliver(reports, settings, resend) if send_email else None
    publish_report_artifacts(period, figures, reports, delivery)
    return {
        "kind": period.kind,
        "period": period.label,
        "reports": {r.client_id: str(r.html_path) for r in reports},
        "total_cost_usd": {f["client_id"]: decimal_text(f["total_cost_usd"]) for f in figures},
        "delivery": delivery,
    }


if __name__ == "__main__":
    daily_reports()
