"""Three local days of calls loaded by the real ingest steps, prices added through pricing_config, and reprice
run through the same steps as flows/reprice.py (without Prefect).

Time zone America/Sao_Paulo (UTC-3): local day 2026-11-11 is [2026-11-11T03:00Z, 2026-11-12T03:00Z).
Every call is Groq llama-3.3-70b-versatile with 150 prompt + 80 completion tokens:
  catalogue price ($0.59 / $0.79 per 1M tokens): 150 × 0.59e-6 + 80 × 0.79e-6 = $0.0001517 per call;
  NEW_PRICE ($1 / $2 per 1M tokens):             150 × 1e-6   + 80 × 2e-6    = $0.00031 per call.
Calls (event_id: client, logged_at → local day):
  e1 acme 2026-11-10T15:00Z → 10th     e2 beta 2026-11-10T16:00Z → 10th
  e3 acme 2026-11-11T15:00Z → 11th     e4 beta 2026-11-11T16:00Z → 11th
  e5 acme 2026-11-12T01:30Z → 11th (22:30 local)
  e6 acme 2026-11-12T15:00Z → 12th     e7 beta 2026-11-12T16:00Z → 12th
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.flows.conftest import groq_call, line, write
from usage_etl import rawlog, warehouse
from usage_etl.db.engine import open_usage_db
from usage_etl.db.schema import price_restatements, usage_logs
from usage_etl.ingest import load_usage_db, load_warehouse, new_call_counts, parse_batch, plan_batches, price_batch, stage_batch
from usage_etl.pricing.config import ConfigPrice, add_prices
from usage_etl.repricing import reprice
from usage_etl.settings import Settings
from usage_etl.usage_db import UsageDatabase

TZ = "America/Sao_Paulo"
MODEL = "llama-3.3-70b-versatile"
CATALOGUE_COST = Decimal("0.0001517")
NEW_COST = Decimal("0.00031")
DAY_10, DAY_11, DAY_12 = date(2026, 11, 10), date(2026, 11, 11), date(2026, 11, 12)
CALLS = {
    "e1": ("acme", "2026-11-10T15:00:00Z", DAY_10),
    "e2": ("beta", "2026-11-10T16:00:00Z", DAY_10),
    "e3": ("acme", "2026-11-11T15:00:00Z", DAY_11),
    "e4": ("beta", "2026-11-11T16:00:00Z", DAY_11),
    "e5": ("acme", "2026-11-12T01:30:00Z", DAY_11),
    "e6": ("acme", "2026-11-12T15:00:00Z", DAY_12),
    "e7": ("beta", "2026-11-12T16:00:00Z", DAY_12),
}


def utc(text: str) -> datetime:
    """Read an RFC 3339 UTC instant."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def envelope(event_id: str, logged_at: str, client: str, model: str = MODEL) -> dict:
    """One successful 150 + 80 token Groq chat call of `model`."""
    env = groq_call(event_id, logged_at, client=client)
    env["request"]["model"] = model
    env["response"]["model"] = model
    return env


def write_calls(root: Path, calls: dict[str, tuple[str, str]], model: str = MODEL, name: str = "bot-1") -> None:
    """Append calls {event_id: (client, logged_at)} to raw files named by their UTC day."""
    for event_id, (client, logged_at, *_) in calls.items():
        rel = f"{logged_at[:4]}/{logged_at[5:7]}/{logged_at[8:10]}/{name}.jsonl"
        write(root, rel, line(envelope(event_id, logged_at, client, model)), mode="ab")


def ingest_raw(settings: Settings) -> None:
    """Load every new raw line with the real ingest steps: warehouse first, then the usage database."""
    engine = open_usage_db(settings.db_url)
    usage_db = UsageDatabase(engine)
    con = warehouse.open_warehouse(settings.warehouse)
    try:
        files = rawlog.discover_files(settings.raw_logs)
        for batch in plan_batches(settings.raw_logs, files, usage_db.file_states(), settings.batch_bytes):
            stage_batch(con, batch)
            counts = parse_batch(con, batch)
            price_batch(con, engine)
            new_call_counts(con, counts)
            with warehouse.transaction(con):
                load_warehouse(con)
            with usage_db.transaction() as tx:
                load_usage_db(con, tx, batch, counts)
    finally:
        con.close()
        engine.dispose()


def reprice_now(settings: Settings, since: date | None = None, client_id: str | None = None) -> reprice.RepriceSummary:
    """Run the steps of flows/reprice.py in the same order, without Prefect."""
    engine = open_usage_db(settings.db_url)
    con = warehouse.open_warehouse(settings.warehouse)
    try:
        reprice.ensure_restatements_table(con)
        summary = reprice.RepriceSummary(run_id=reprice.start_run(engine, since, client_id))
        for day in reprice.list_days(con, settings.timezone, since, client_id):
            window = reprice.day_window(day, settings.timezone)
            reprice.price_day(con, engine, window, client_id)
            summary.add(reprice.restate_usage_db_day(con, engine, summary.run_id, window, client_id))
            summary.add(reprice.restate_warehouse_day(con, summary.run_id, window, client_id))
            summary.days += 1
        if summary.warehouse_changed:
            reprice.refresh_models(con, settings.timezone)
        reprice.finish_run(engine, summary)
        return summary
    finally:
        con.close()
        engine.dispose()


def add_price(settings: Settings, prompt: str, completion: str, effective_from: str, model: str = MODEL,
              client_id: str | None = None, effective_to: str | None = None) -> None:
    """Store a per-1M-token price for groq/`model` (global unless `client_id`)."""
    engine = open_usage_db(settings.db_url)
    try:
        add_prices(engine, [ConfigPrice(
            client_id=client_id, provider="groq", model=model, unit="per_1m_tokens", prompt_price=Decimal(prompt),
            completion_price=Decimal(completion), cached_prompt_price=None, effective_from=utc(effective_from),
            effective_to=utc(effective_to) if effective_to else None,
        )])
    finally:
        engine.dispose()


def usage_db_rows(settings: Settings) -> dict[str, dict]:
    """Every usage-database row by event_id, every column."""
    engine = open_usage_db(settings.db_url)
    try:
        with engine.connect() as conn:
            return {r["event_id"]: dict(r) for r in conn.execute(select(usage_logs)).mappings()}
    finally:
        engine.dispose()


def warehouse_rows(settings: Settings) -> dict[str, dict]:
    """Every warehouse usage_logs row by event_id, every column."""
    con = warehouse.open_warehouse(settings.warehouse)
    try:
        cur = con.execute("select * from usage_logs")
        names = [d[0] for d in cur.description]
        return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}
    finally:
        con.close()


def usage_db_restatements(settings: Settings) -> list[tuple]:
    """(run_id, client_id, day, calls_changed, old, new) of price_restatements, in order."""
    engine = open_usage_db(settings.db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(
                price_restatements.c.run_id, price_restatements.c.client_id, price_restatements.c.day,
                price_restatements.c.calls_changed, price_restatements.c.old_cost_usd, price_restatements.c.new_cost_usd,
            ).order_by(price_restatements.c.day, price_restatements.c.client_id, price_restatements.c.run_id)).all()
        return [tuple(r) for r in rows]
    finally:
        engine.dispose()


def warehouse_restatements(settings: Settings) -> list[tuple]:
    """(run_id, client_id, day, calls_changed, old, new) of the warehouse's restatements, in order."""
    con = warehouse.open_warehouse(settings.warehouse)
    try:
        reprice.ensure_restatements_table(con)
        return con.execute(
            "select run_id, client_id, day, calls_changed, old_cost_usd, new_cost_usd from restatements "
            "order by day, client_id, run_id"
        ).fetchall()
    finally:
        con.close()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """Settings with every store under tmp_path, the usage database on SQLite or PostgreSQL."""
    return Settings(db_url=db_url, warehouse=tmp_path / "usage.duckdb", raw_logs=tmp_path / "raw",
                    reports_dir=tmp_path / "reports", timezone=TZ)


@pytest.fixture
def loaded(settings: Settings) -> Settings:
    """The seven calls of this module's docstring, ingested at the catalogue price."""
    write_calls(settings.raw_logs, CALLS)
    ingest_raw(settings)
    return settings
