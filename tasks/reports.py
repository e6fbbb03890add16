"""Prefect tasks of the reports: thin wrappers around usage_etl.reporting. Retries only on I/O."""
from __future__ import annotations

from pathlib import Path

import duckdb
from prefect import task
from prefect.cache_policies import NO_CACHE

from usage_etl import warehouse
from usage_etl.reporting import figures as report_figures
from usage_etl.reporting.formatting import decimal_text
from usage_etl.reporting.periods import Period
from usage_etl.reporting.render import render_report, save_report
from usage_etl.reporting.rendered import RenderedReport
from usage_etl.settings import Settings, SmtpSettings
from usage_etl.warehouse_models import ensure_warehouse_models

IO_RETRY_DELAYS = [2, 10, 30]


@task(cache_policy=NO_CACHE, retries=len(IO_RETRY_DELAYS), retry_delay_seconds=IO_RETRY_DELAYS)
def open_report_warehouse(path: Path, timezone: str, memory_limit: str) -> duckdb.DuckDBPyConnection:
    """Open the warehouse (DuckDB capped at `memory_limit`) and make sure its report models exist."""
    con = warehouse.open_warehouse(path, memory_limit)
    ensure_warehouse_models(con, timezone)
    return con


@task(cache_policy=NO_CACHE)
def compute_report_figures(con: duckdb.DuckDBPyConnection, period: Period, client_id: str | None,
                           timezone: str) -> list[dict]:
    """Compute the figures of each report to render: one client, the operator only, or every client and the operator."""
    if client_id == report_figures.OPERATOR:
        return [report_figures.operator_report(con, period, timezone)]
    if client_id is not None:
        return [report_figures.client_report(con, period, client_id, timezone)]
    clients = report_figures.list_clients(con, period)
    return ([report_figures.client_report(con, period, c, timezone) for c in clients]
            + [report_figures.operator_report(con, period, timezone)])


@task(cache_policy=NO_CACHE)
def render_reports(figures: list[dict], locale: str) -> list[RenderedReport]:
    """Render every report's HTML, text and charts."""
    return [render_report(f, locale) for f in figures]


@task(cache_policy=NO_CACHE, retries=len(IO_RETRY_DELAYS), retry_delay_seconds=IO_RETRY_DELAYS)
def save_reports(reports: list[RenderedReport], figures: list[dict], reports_dir: Path) -> list[RenderedReport]:
    """Write each report's HTML and JSON under the reports folder."""
    return [save_report(r, f, reports_dir) for r, f in zip(reports, figures)]


@task(cache_policy=NO_CACHE)
def deliver(reports: list[RenderedReport], settings: Settings, resend: bool):
    """Email the reports to their recipients (retries live in delivery, per message)."""
    from usage_etl.db.engine import open_usage_db
    from usage_etl.reporting.delivery import deliver_reports

    engine = open_usage_db(settings.db_url)
    try:
        return deliver_reports(reports, engine, SmtpSettings(), Path(settings.reports_dir) / "outbox", resend=resend)
    finally:
        engine.dispose()


@task(cache_policy=NO_CACHE)
def publish_report_artifacts(period: Period, figures: list[dict], reports: list[RenderedReport], delivery) -> None:
    """Leave the run's summary (markdown) and per-client cost (table) as Prefect artifacts."""
    from prefect.artifacts import create_markdown_artifact, create_table_artifact

    create_markdown_artifact(key=f"{period.kind}-reports-summary", markdown=report_summary_markdown(
        period, figures, reports, delivery), description=f"usage-etl {period.kind} reports {period.label}")
    create_table_artifact(key=f"{period.kind}-reports-cost", table=cost_table(figures),
                          description=f"cost per client, {period.label}")


def cost_table(figures: list[dict]) -> list[dict]:
    """Return one row per report: client, cost (decimal string), requests, tokens, unpriced calls, errors."""
    return [{"client_id": f["client_id"], "cost_usd": decimal_text(f["total_cost_usd"]), "requests": f["requests"],
             "tokens": f["total_tokens"], "unpriced_calls": f["unpriced_calls"], "errors": f["errors"]}
            for f in figures]


def report_summary_markdown(period: Period, figures: list[dict], reports: list[RenderedReport], delivery) -> str:
    """Return the run's summary as markdown."""
    lines = [f"# {period.kind} reports {period.label}", "", f"{len(reports)} report(s) rendered.", ""]
    lines += [f"- `{r.client_id}`: {r.html_path}" for r in reports]
    if delivery is not None:
        lines += ["", f"Delivery: {delivery}"]
    return "\n".join(lines) + "\n"
