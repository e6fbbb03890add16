"""What a report shows, computed from the warehouse: plain dicts of exact Decimals, ints, dates and masked phones.

The same dict feeds the HTML and text templates and is saved as the report's JSON, so every number shown is
in the JSON too. No Prefect here.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import duckdb

from usage_etl import warehouse
from usage_etl.reporting.formatting import change_pct
from usage_etl.reporting.masking import mask_phone
from usage_etl.reporting.periods import Period, weekly_period_of

OPERATOR = "_all"
EVOLUTION_WEEKS = 12
TOP_CONVERSATIONS = 20
ZERO = Decimal(0)
# (figure, its label in labels.py, how it is formatted)
HEADLINE = (
    ("cost_usd", "cost", "usd"),
    ("tokens", "tokens", "count"),
    ("requests", "requests", "count"),
    ("conversations", "conversations", "count"),
    ("cost_per_conversation_usd", "cost_per_conversation", "usd"),
    ("transcribed_minutes", "transcribed_minutes", "minutes"),
)


def run_report_query(con: duckdb.DuckDBPyConnection, name: str, **params) -> list[dict]:
    """Run one warehouse/report_*.sql query with named parameters; return its rows as dicts."""
    cursor = con.execute(warehouse.read_sql(name), params)
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, row)) for row in cursor.fetchall()]


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    """Say whether the warehouse has a table of that name."""
    return bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = 'main' and table_name = ?", [name],
    ).fetchone()[0])


def list_clients(con: duckdb.DuckDBPyConnection, period: Period) -> list[str]:
    """Return the clients with at least one call in the period, sorted."""
    rows = run_report_query(con, "report_costs_by_model.sql", first_day=period.first_day, last_day=period.last_day,
                            client_id=None)
    return sorted({r["client_id"] for r in rows})


def sum_figures(rows: list[dict]) -> dict:
    """Add up cost, tokens, requests, errors, unpriced calls and audio seconds of cost rows."""
    return {
        "cost_usd": sum((r["cost_usd"] for r in rows), ZERO),
        "tokens": sum(r["tokens"] for r in rows),
        "requests": sum(r["requests"] for r in rows),
        "errors": sum(r.get("errors", 0) for r in rows),
        "unpriced": sum(r.get("unpriced", 0) for r in rows),
        "audio_seconds": sum((r.get("audio_seconds") or ZERO for r in rows), ZERO),
    }


def per_conversation(cost: Decimal, conversations: int) -> Decimal | None:
    """Return the cost per conversation, None when there was none."""
    return (cost / conversations).quantize(Decimal("1e-12"), ROUND_HALF_UP) if conversations else None


def minutes(seconds: Decimal) -> Decimal:
    """Convert audio seconds to minutes, one decimal."""
    return (Decimal(seconds) / 60).quantize(Decimal("0.1"), ROUND_HALF_UP)


def headline(current: dict, previous: dict) -> list[dict]:
    """Return the headline figures with their previous-period values and change in percent."""
    items = []
    for key, label, unit in HEADLINE:
        value, before = current[key], previous[key]
        items.append({"key": key, "label": label, "unit": unit, "value": value, "previous": before,
                      "change_pct": None if value is None or before is None else change_pct(value, before)})
    return items


def headline_values(totals: dict, conversations: int) -> dict:
    """Return the values the headline shows for one period."""
    return {
        "cost_usd": totals["cost_usd"],
        "tokens": totals["tokens"],
        "requests": totals["requests"],
        "conversations": conversations,
        "cost_per_conversation_usd": per_conversation(totals["cost_usd"], conversations),
        "transcribed_minutes": minutes(totals["audio_seconds"]),
    }


def by_provider(rows: list[dict]) -> list[dict]:
    """Group cost rows by provider, most expensive first."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        groups[r["provider"]].append(r)
    result = [{"provider": p, **sum_figures(rs)} for p, rs in groups.items()]
    return sorted(result, key=lambda r: (-r["cost_usd"], r["provider"]))


def by_model(rows: list[dict], total_cost: Decimal) -> list[dict]:
    """Group cost rows by provider and model with each one's share of the total cost, most expensive first."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[(r["provider"], r["model"])].append(r)
    result = []
    for (provider, model), rs in groups.items():
        figures = sum_figures(rs)
        result.append({"provider": provider, "model": model, **figures,
                       "share_pct": share(figures["cost_usd"], total_cost)})
    return sorted(result, key=lambda r: (-r["cost_usd"], -r["requests"], r["provider"], r["model"] or ""))


def share(part: Decimal, whole: Decimal) -> Decimal | None:
    """Return part as a percent of whole, one decimal; None when whole is zero."""
    return (part * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP) if whole else None


def by_day(rows: list[dict], period: Period, providers: list[str]) -> list[dict]:
    """Return one entry per local day of the period (days without calls included) with cost per provider."""
    days = {d: {"day": d, "cost_usd": ZERO, "tokens": 0, "requests": 0, "errors": 0, "unpriced": 0,
                "cost_by_provider": {p: ZERO for p in providers}} for d in period.days}
    for r in rows:
        entry = days[r["day"]]
        for key in ("cost_usd", "tokens", "requests", "errors", "unpriced"):
            entry[key] += r[key]
        entry["cost_by_provider"][r["provider"]] += r["cost_usd"]
    return list(days.values())


def by_hour(rows: list[dict], providers: list[str]) -> list[dict]:
    """Return 24 entries, local hours 0-23, with requests and known cost per provider."""
    hours = {h: {"hour": h, "cost_usd": ZERO, "requests": 0, "cost_by_provider": {p: ZERO for p in providers}}
             for h in range(24)}
    for r in rows:
        entry = hours[r["hour"]]
        entry["cost_usd"] += r["cost_usd"]
        entry["requests"] += r["requests"]
        entry["cost_by_provider"][r["provider"]] += r["cost_usd"]
    return list(hours.values())


def evolution_weeks(last_day: date) -> list[date]:
    """Return the Mondays of the 12 ISO weeks ending with the week that holds `last_day`."""
    monday = weekly_period_of(last_day).first_day
    return [monday - timedelta(weeks=n) for n in range(EVOLUTION_WEEKS - 1, -1, -1)]


def weekly_evolution(rows: list[dict], mondays: list[date]) -> list[dict]:
    """Return one entry per week (weeks without calls included): cost, tokens and requests."""
    weeks = {m: {"week": weekly_period_of(m).label, "week_start": m, "cost_usd": ZERO, "tokens": 0, "requests": 0}
             for m in mondays}
    for r in rows:
        entry = weeks[r["week_start"]]
        entry["cost_usd"] += r["cost_usd"]
        entry["tokens"] += r["tokens"]
        entry["requests"] += r["requests"]
    return list(weeks.values())


def unpriced_by_model(rows: list[dict]) -> list[dict]:
    """Return the models with unpriced calls and how many."""
    counts: dict[tuple, int] = defaultdict(int)
    for r in rows:
        if r["unpriced"]:
            counts[(r["provider"], r["model"])] += r["unpriced"]
    return [{"provider": p, "model": m, "unpriced": n} for (p, m), n in sorted(counts.items(), key=lambda kv: -kv[1])]


def errors_by_model(rows: list[dict]) -> list[dict]:
    """Return the models with failed calls and how many."""
    counts: dict[tuple, int] = defaultdict(int)
    for r in rows:
        if r["errors"]:
            counts[(r["provider"], r["model"])] += r["errors"]
    return [{"provider": p, "model": m, "errors": n} for (p, m), n in sorted(counts.items(), key=lambda kv: -kv[1])]


def masked_conversation(row: dict) -> dict:
    """Return a conversation row as a report shows it: phone masked, no key."""
    return {"phone": mask_phone(row["phone"]), "started_at": row["started_at"], "ended_at": row["ended_at"],
            "requests": row["requests"], "tokens": row["tokens"], "cost_usd": row["cost_usd"],
            "unpriced": row["unpriced"]}


def restatements(con: duckdb.DuckDBPyConnection, period: Period, tz: str, client_id: str | None) -> list[dict]:
    """Return the restatements recorded since the previous period began; none when the table is absent."""
    if not table_exists(con, "restatements"):
        return []
    since, _ = period.previous().utc_bounds(tz)
    return run_report_query(con, "report_restatements.sql", since=since, client_id=client_id)


def _scope(period: Period, tz: str, client_id: str | None) -> dict:
    start_at, end_at = period.utc_bounds(tz)
    return {"first_day": period.first_day, "last_day": period.last_day, "start_at": start_at, "end_at": end_at,
            "client_id": client_id}


def period_rows(con: duckdb.DuckDBPyConnection, period: Period, tz: str, client_id: str | None) -> dict:
    """Run the queries every report of one period needs; client_id None: every client."""
    s = _scope(period, tz, client_id)
    return {
        "models": run_report_query(con, "report_costs_by_model.sql", first_day=s["first_day"],
                                   last_day=s["last_day"], client_id=client_id),
        "days": run_report_query(con, "report_costs_by_day.sql", first_day=s["first_day"], last_day=s["last_day"],
                                 client_id=client_id),
        "conversations": {r["client_id"]: r["conversations"] for r in run_report_query(
            con, "report_conversation_counts.sql", start_at=s["start_at"], end_at=s["end_at"], client_id=client_id)},
    }


def common_figures(con: duckdb.DuckDBPyConnection, period: Period, tz: str,
                   client_id: str | None) -> tuple[dict, dict, dict]:
    """Compute what client and operator reports share (client_id None: every client), with the raw period rows."""
    current = period_rows(con, period, tz, client_id)
    previous = period_rows(con, period.previous(), tz, client_id)
    s = _scope(period, tz, client_id)
    totals = sum_figures(current["models"])
    previous_totals = sum_figures(previous["models"])
    conversations = sum(current["conversations"].values())
    providers = sorted({r["provider"] for r in current["models"]})
    mondays = evolution_weeks(period.last_day)
    figures = {
        "kind": period.kind,
        "period": period.label,
        "first_day": period.first_day,
        "last_day": period.last_day,
        "previous_period": period.previous().label,
        "timezone": tz,
        "client_id": client_id or OPERATOR,
        "total_cost_usd": totals["cost_usd"],
        "requests": totals["requests"],
        "total_tokens": totals["tokens"],
        "unpriced_calls": totals["unpriced"],
        "errors": totals["errors"],
        "conversations": conversations,
        "cost_per_conversation_usd": per_conversation(totals["cost_usd"], conversations),
        "transcribed_minutes": minutes(totals["audio_seconds"]),
        "headline": headline(headline_values(totals, conversations),
                             headline_values(previous_totals, sum(previous["conversations"].values()))),
        "providers": providers,
        "by_provider": by_provider(current["models"]),
        "by_model": by_model(current["models"], totals["cost_usd"]),
        "by_day": by_day(current["days"], period, providers),
        "weekly_evolution": weekly_evolution(
            run_report_query(con, "report_costs_by_week.sql", first_day=mondays[0], last_day=period.last_day,
                             client_id=client_id), mondays),
        "data_quality": {
            "unpriced_by_model": unpriced_by_model(current["models"]),
            "errors": totals["errors"],
            "errors_by_model": errors_by_model(current["models"]),
            "rejected_lines": run_report_query(con, "report_rejected_lines.sql", first_day=period.first_day,
                                               last_day=period.last_day)[0]["rejected_lines"],
            "newest_call_at": max((r["newest_call_at"] for r in run_report_query(
                con, "report_newest_calls.sql", end_at=s["end_at"], client_id=client_id)), default=None),
        },
        "restatements": restatements(con, period, tz, client_id),
    }
    if period.kind == "daily":
        figures["by_hour"] = by_hour(run_report_query(
            con, "report_costs_by_hour.sql", start_at=s["start_at"], end_at=s["end_at"], client_id=client_id,
            timezone=tz), providers)
    return figures, current, previous


def client_report(con: duckdb.DuckDBPyConnection, period: Period, client_id: str, tz: str) -> dict:
    """Compute everything one client's report shows for one period."""
    figures, _, _ = common_figures(con, period, tz, client_id)
    start_at, end_at = period.utc_bounds(tz)
    figures["top_conversations"] = [masked_conversation(r) for r in run_report_query(
        con, "report_top_conversations.sql", start_at=start_at, end_at=end_at, client_id=client_id)]
    return figures


def operator_report(con: duckdb.DuckDBPyConnection, period: Period, tz: str) -> dict:
    """Compute the operator's report: every client side by side, totals, anomalies, data quality for all."""
    figures, current, previous = common_figures(con, period, tz, None)
    figures["clients"] = clients_side_by_side(current, previous, figures["total_cost_usd"])
    figures["anomalies"] = run_report_query(con, "report_anomalies.sql", first_day=period.first_day,
                                            last_day=period.last_day)
    return figures


def clients_side_by_side(current: dict, previous: dict, total_cost: Decimal) -> list[dict]:
    """Return each client's cost, change against the previous period and share of the total, most expensive first."""
    def per_client(rows: list[dict]) -> dict[str, dict]:
        groups: dict[str, list[dict]] = defaultdict(list)
        for r in rows:
            groups[r["client_id"]].append(r)
        return {c: sum_figures(rs) for c, rs in groups.items()}

    now, before = per_client(current["models"]), per_client(previous["models"])
    result = []
    for client_id, figures in now.items():
        previous_cost = before.get(client_id, {}).get("cost_usd", ZERO)
        result.append({
            "client_id": client_id, "cost_usd": figures["cost_usd"], "previous_cost_usd": previous_cost,
            "change_pct": change_pct(figures["cost_usd"], previous_cost),
            "share_pct": share(figures["cost_usd"], total_cost), "tokens": figures["tokens"],
            "requests": figures["requests"], "errors": figures["errors"], "unpriced": figures["unpriced"],
            "conversations": current["conversations"].get(client_id, 0),
        })
    return sorted(result, key=lambda r: (-r["cost_usd"], r["client_id"]))
