"""Re-cost stored calls with today's prices, one local day at a time, in the usage database and the warehouse.

A day's calls are read back from the warehouse (the parsed columns) and priced again. Each store is then brought
to those prices on its own: the calls whose cost_usd, price_source or cost_status differ from what that store holds
are updated in one transaction per day, together with that store's restatement of the day (per client: calls
changed, day total before, day total after). The usage database goes first, then the warehouse.

Why each store compares against itself: a crash between the two stores leaves a day new in the usage database
and old in the warehouse. The next run finds no change in the usage database (it records nothing there) and
exactly the old differences in the warehouse (it records them there once, with the warehouse's own old and new
totals). Both stores converge, no restatement is written twice, and a run after a clean run changes nothing.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import pyarrow as pa
from sqlalchemy import Connection, Engine, and_, bindparam, insert, select, update

from usage_etl import warehouse
from usage_etl.columns import PARSED_CALL_COLUMNS
from usage_etl.db.schema import price_restatements, reprice_runs, usage_logs
from usage_etl.pricing.config import prices_fingerprint
from usage_etl.pricing.price_table import build_price_table, price_calls
from usage_etl.warehouse_models import ensure_warehouse_models

USAGE_DB = "usage database"
WAREHOUSE = "warehouse"
COPY_ROWS = 50_000


@dataclass(frozen=True)
class DayWindow:
    """One local day and the UTC instants it spans: start <= created_at < end."""

    day: date
    start: datetime
    end: datetime

    def params(self, client_id: str | None) -> dict:
        """The bound parameters the reprice SQL files take for this day."""
        return {"day_start": self.start, "day_end": self.end, "client_id": client_id}


@dataclass(frozen=True)
class Restatement:
    """What one reprice run changed in one store for one client and local day."""

    store: str
    client_id: str
    day: date
    calls_changed: int
    old_cost_usd: Decimal
    new_cost_usd: Decimal

    @property
    def difference_usd(self) -> Decimal:
        """The change of the client's day total."""
        return self.new_cost_usd - self.old_cost_usd


@dataclass
class RepriceSummary:
    """What one reprice run did, for the operator."""

    run_id: int
    days: int = 0
    restatements: list[Restatement] = field(default_factory=list)

    def add(self, restatements: list[Restatement]) -> None:
        """Fold one store's restatements of one day into the run's."""
        self.restatements.extend(restatements)

    def calls_changed(self, store: str) -> int:
        """Count the calls this run changed in one store."""
        return sum(r.calls_changed for r in self.restatements if r.store == store)

    @property
    def warehouse_changed(self) -> bool:
        """Say whether the warehouse's usage_logs changed (its models need rebuilding)."""
        return self.calls_changed(WAREHOUSE) > 0

    def by_client_day(self) -> list[tuple[Restatement, list[str]]]:
        """One line per (client, day): the usage database's figures (else the warehouse's) and which stores changed."""
        merged: dict[tuple[date, str], tuple[Restatement, list[str]]] = {}
        for r in sorted(self.restatements, key=lambda r: r.store != USAGE_DB):
            key = (r.day, r.client_id)
            if key in merged:
                merged[key][1].append(r.store)
            else:
                merged[key] = (r, [r.store])
        return [merged[k] for k in sorted(merged)]

    def to_text(self) -> str:
        """The restatements and their total, as the CLI prints them."""
        rows = self.by_client_day()
        if not rows:
            return f"reprice run {self.run_id}: {self.days} days checked, no cost changed"
        out = [f"{'day':<10}  {'client':<20}  {'calls':>7}  {'old total':>18}  {'new total':>18}  {'difference':>18}  stores"]
        for r, stores in rows:
            out.append(
                f"{r.day.isoformat():<10}  {r.client_id:<20}  {r.calls_changed:>7}  {_usd(r.old_cost_usd):>18}  "
                f"{_usd(r.new_cost_usd):>18}  {_usd(r.difference_usd, sign=True):>18}  {' + '.join(stores)}"
            )
        old = sum((r.old_cost_usd for r, _ in rows), Decimal(0))
        new = sum((r.new_cost_usd for r, _ in rows), Decimal(0))
        calls = sum(r.calls_changed for r, _ in rows)
        out.append(
            f"{'total':<10}  {'':<20}  {calls:>7}  {_usd(old):>18}  {_usd(new):>18}  {_usd(new - old, sign=True):>18}"
        )
        out.append(f"reprice run {self.run_id}: {self.days} days checked, {len(rows)} client-days restated")
        return "\n".join(out)


def _usd(value: Decimal, sign: bool = False) -> str:
    return f"{'+' if sign and value >= 0 else ''}{'-' if value < 0 else ''}${abs(value).normalize():f}"


def day_window(day: date, tz: str) -> DayWindow:
    """Return the UTC span of a local day in time zone `tz` (23 or 25 hours long on a DST change)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), tzinfo=zone).astimezone(timezone.utc)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(timezone.utc)
    return DayWindow(day, start, end)


def ensure_restatements_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create the warehouse's restatements table when it is missing."""
    con.execute(warehouse.read_sql("create_restatements.sql"))


def list_days(con: duckdb.DuckDBPyConnection, tz: str, since: date | None, client_id: str | None) -> list[date]:
    """List the local days that hold calls in the warehouse, from `since` on, of `client_id` when given."""
    rows = con.execute(
        warehouse.read_sql("select_reprice_days.sql"), {"timezone": tz, "since": since, "client_id": client_id}
    ).fetchall()
    return [row[0] for row in rows]


def price_day(con: duckdb.DuckDBPyConnection, engine: Engine, window: DayWindow, client_id: str | None) -> int:
    """Read a day's calls back from the warehouse into `reprice_calls` and price them into `priced_calls`."""
    sql = warehouse.read_sql("select_reprice_calls.sql").replace("{columns}", ", ".join(PARSED_CALL_COLUMNS))
    con.execute("create or replace temp table reprice_calls as " + sql, window.params(client_id))
    build_price_table(con, engine, "reprice_calls")
    price_calls(con, "reprice_calls", "prices")
    return con.execute("select count(*) from priced_calls").fetchall()[0][0]


def restate_usage_db_day(con: duckdb.DuckDBPyConnection, engine: Engine, run_id: int, window: DayWindow,
                         client_id: str | None) -> list[Restatement]:
    """Bring one day of the usage database to `priced_calls` and record its restatement, in one transaction."""
    with engine.begin() as conn:
        con.register("usage_db_day_costs", _usage_db_day_costs(conn, window, client_id))
        try:
            restatements = _diff_and_summarize(con, "usage_db_day_costs", "usage_db_changes", USAGE_DB, window.day)
            if not restatements:
                return []
            if conn.dialect.name == "postgresql":
                _copy_update_usage_logs(con, conn, "usage_db_changes")
            else:
                _executemany_update_usage_logs(con, conn, "usage_db_changes")
            restated_at = datetime.now(timezone.utc)
            conn.execute(insert(price_restatements), [
                dict(run_id=run_id, restated_at=restated_at, client_id=r.client_id, day=r.day,
                     calls_changed=r.calls_changed, old_cost_usd=r.old_cost_usd, new_cost_usd=r.new_cost_usd)
                for r in restatements
            ])
            return restatements
        finally:
            con.unregister("usage_db_day_costs")


def restate_warehouse_day(con: duckdb.DuckDBPyConnection, run_id: int, window: DayWindow,
                          client_id: str | None) -> list[Restatement]:
    """Bring one day of the warehouse to `priced_calls` and record its restatement, in one transaction."""
    with warehouse.transaction(con):
        con.execute(
            "create or replace temp table warehouse_day_costs as "
            + warehouse.read_sql("select_reprice_current_costs.sql"),
            window.params(client_id),
        )
        restatements = _diff_and_summarize(con, "warehouse_day_costs", "warehouse_changes", WAREHOUSE, window.day)
        if restatements:
            con.execute(warehouse.read_sql("update_repriced_usage_logs.sql"))
            warehouse.mark_models_stale(
                con,
                "select created_at from usage_logs where created_at >= $day_start and created_at < $day_end"
                " and event_id in (select event_id from warehouse_changes)",
                {"day_start": window.start, "day_end": window.end},
            )
            con.execute(
                warehouse.read_sql("insert_restatements.sql"),
                {"restated_at": datetime.now(timezone.utc), "day": window.day, "run_id": run_id},
            )
    return restatements


def _diff_and_summarize(con: duckdb.DuckDBPyConnection, current: str, changes: str, store: str,
                        day: date) -> list[Restatement]:
    """Keep the calls of `current` that priced_calls changes in `changes`; summarize them per client."""
    con.execute(
        f"create or replace temp table {changes} as "
        + warehouse.read_sql("diff_repriced_calls.sql").replace("{current}", current)
    )
    summary = "warehouse_restatements" if store == WAREHOUSE else "usage_db_restatements"
    con.execute(
        f"create or replace temp table {summary} as "
        + warehouse.read_sql("summarize_restatements.sql").replace("{current}", current).replace("{changes}", changes)
    )
    rows = con.execute(f"select client_id, calls_changed, old_cost_usd, new_cost_usd from {summary}").fetchall()
    return [Restatement(store, client, day, calls, old, new) for client, calls, old, new in rows]


def _usage_db_day_costs(conn: Connection, window: DayWindow, client_id: str | None) -> pa.Table:
    """Read what the usage database holds now for one day's calls, as an Arrow table DuckDB can scan."""
    condition = and_(usage_logs.c.created_at >= window.start, usage_logs.c.created_at < window.end)
    if client_id is not None:
        condition = and_(condition, usage_logs.c.client_id == client_id)
    rows = conn.execute(
        select(usage_logs.c.event_id, usage_logs.c.client_id, usage_logs.c.cost_usd, usage_logs.c.price_source,
               usage_logs.c.cost_status).where(condition)
    ).all()
    columns = list(zip(*rows)) if rows else [(), (), (), (), ()]
    return pa.table({
        "event_id": pa.array(columns[0], pa.string()),
        "client_id": pa.array(columns[1], pa.string()),
        "cost_usd": pa.array(columns[2], pa.decimal128(38, 12)),
        "price_source": pa.array(columns[3], pa.string()),
        "cost_status": pa.array(columns[4], pa.string()),
    })


def _copy_update_usage_logs(con: duckdb.DuckDBPyConnection, conn: Connection, changes: str) -> None:
    """COPY the changed calls into a PostgreSQL staging table, then update usage_logs from it in one statement."""
    dbapi = conn.connection.driver_connection
    result = con.execute(f"select event_id, new_cost_usd, new_price_source, new_cost_status from {changes}")
    with dbapi.cursor() as cur:
        cur.execute(warehouse.read_sql("pg_create_staging_reprice.sql"))
        with cur.copy("copy staging_reprice (event_id, cost_usd, price_source, cost_status) from stdin") as copy:
            while rows := result.fetchmany(COPY_ROWS):
                for row in rows:
                    copy.write_row(row)
        cur.execute(warehouse.read_sql("pg_update_repriced_usage_logs.sql"))


def _executemany_update_usage_logs(con: duckdb.DuckDBPyConnection, conn: Connection, changes: str) -> None:
    """Update the changed calls on SQLite, many rows per statement execution."""
    stmt = (
        update(usage_logs)
        .where(usage_logs.c.event_id == bindparam("b_event_id"))
        .values(cost_usd=bindparam("b_cost_usd"), price_source=bindparam("b_price_source"),
                cost_status=bindparam("b_cost_status"))
    )
    result = con.execute(f"select event_id, new_cost_usd, new_price_source, new_cost_status from {changes}")
    while rows := result.fetchmany(COPY_ROWS):
        conn.execute(stmt, [
            dict(b_event_id=e, b_cost_usd=c, b_price_source=s, b_cost_status=st) for e, c, s, st in rows
        ])


def start_run(engine: Engine, since: date | None, client_id: str | None) -> int:
    """Record the start of a reprice run, with the price state it applies; return its id."""
    with engine.begin() as conn:
        return conn.execute(
            insert(reprice_runs).values(
                started_at=datetime.now(timezone.utc), since=since, client_id=client_id,
                prices_fingerprint=prices_fingerprint(engine),
            )
        ).inserted_primary_key[0]


def finish_run(engine: Engine, summary: RepriceSummary) -> None:
    """Record that a reprice run finished and how many calls it changed in the usage database."""
    with engine.begin() as conn:
        conn.execute(
            update(reprice_runs)
            .where(reprice_runs.c.id == summary.run_id)
            .values(finished_at=datetime.now(timezone.utc), calls_changed=summary.calls_changed(USAGE_DB))
        )


def prices_changed_since_last_reprice(engine: Engine) -> bool:
    """Say whether prices differ from those the last finished full reprice (every day, every client) applied."""
    with engine.connect() as conn:
        last = conn.execute(
            select(reprice_runs.c.prices_fingerprint)
            .where(reprice_runs.c.finished_at.is_not(None), reprice_runs.c.since.is_(None),
                   reprice_runs.c.client_id.is_(None))
            .order_by(reprice_runs.c.id.desc())
            .limit(1)
        ).scalar()
    return last != prices_fingerprint(engine)


def refresh_models(con: duckdb.DuckDBPyConnection, tz: str) -> None:
    """Bring the warehouse models the reports read (daily_costs, conversations) up to date with the repriced rows."""
    ensure_warehouse_models(con, tz)
