"""usage-etl reprice on SQLite and PostgreSQL: what changes, what stays, what is recorded, and crashes.

The calls and prices are in tests/repricing/conftest.py: every call costs $0.0001517 at the catalogue price
and $0.00031 at NEW_PRICE ($1 / $2 per 1M tokens).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from tests.repricing.conftest import (
    CALLS,
    CATALOGUE_COST,
    DAY_10,
    DAY_11,
    DAY_12,
    NEW_COST,
    add_price,
    ingest_raw,
    reprice_now,
    usage_db_restatements,
    usage_db_rows,
    warehouse_restatements,
    warehouse_rows,
    write_calls,
)
from usage_etl import warehouse
from usage_etl.repricing import reprice
from usage_etl.repricing.reprice import day_window

NEW_PRICE = ("1", "2")  # $ per 1M prompt / completion tokens


def days_of(day: date) -> set[str]:
    """The event_ids of the calls on one local day."""
    return {e for e, (_, _, d) in CALLS.items() if d == day}


def costs(rows: dict[str, dict]) -> dict[str, Decimal | None]:
    """cost_usd by event_id."""
    return {e: r["cost_usd"] for e, r in rows.items()}


def test_day_window_follows_the_local_day_and_dst():
    sao_paulo = day_window(date(2026, 11, 11), "America/Sao_Paulo")
    assert (sao_paulo.start, sao_paulo.end) == (
        datetime(2026, 11, 11, 3, tzinfo=timezone.utc), datetime(2026, 11, 12, 3, tzinfo=timezone.utc))
    spring_forward = day_window(date(2026, 3, 8), "America/New_York")  # 23 hours long
    assert spring_forward.end - spring_forward.start == (
        datetime(2026, 3, 9, 4, tzinfo=timezone.utc) - datetime(2026, 3, 8, 5, tzinfo=timezone.utc))
    assert (spring_forward.end - spring_forward.start).total_seconds() == 23 * 3600


def test_ingest_priced_every_call_at_the_catalogue_price(loaded):
    assert set(costs(usage_db_rows(loaded)).values()) == {CATALOGUE_COST}
    assert set(costs(warehouse_rows(loaded)).values()) == {CATALOGUE_COST}


def test_repricing_one_day_leaves_every_other_days_rows_untouched(loaded):
    before_db, before_wh = usage_db_rows(loaded), warehouse_rows(loaded)
    add_price(loaded, *NEW_PRICE, "2026-11-01T00:00:00Z")  # would change every day
    summary = reprice_now(loaded, since=DAY_12)

    after_db, after_wh = usage_db_rows(loaded), warehouse_rows(loaded)
    untouched = days_of(DAY_10) | days_of(DAY_11)
    assert untouched == {"e1", "e2", "e3", "e4", "e5"}  # e5 at 01:30Z on the 12th is the 11th in São Paulo
    for event_id in untouched:
        assert after_db[event_id] == before_db[event_id]  # every column, ingested_at included
        assert after_wh[event_id] == before_wh[event_id]
    for event_id in days_of(DAY_12):
        assert after_db[event_id]["cost_usd"] == after_wh[event_id]["cost_usd"] == NEW_COST
        assert after_db[event_id]["price_source"] == after_wh[event_id]["price_source"] == "global"
        assert {k: v for k, v in after_db[event_id].items() if k not in ("cost_usd", "price_source")} == {
            k: v for k, v in before_db[event_id].items() if k not in ("cost_usd", "price_source")}
    assert summary.days == 1
    assert summary.calls_changed(reprice.USAGE_DB) == summary.calls_changed(reprice.WAREHOUSE) == 2


def test_repricing_one_client_leaves_the_other_clients_rows_untouched(loaded):
    before_db, before_wh = usage_db_rows(loaded), warehouse_rows(loaded)
    add_price(loaded, *NEW_PRICE, "2026-11-01T00:00:00Z")
    reprice_now(loaded, client_id="beta")

    after_db, after_wh = usage_db_rows(loaded), warehouse_rows(loaded)
    for event_id, (client, _, _) in CALLS.items():
        if client == "acme":
            assert after_db[event_id] == before_db[event_id]
            assert after_wh[event_id] == before_wh[event_id]
        else:
            assert after_db[event_id]["cost_usd"] == after_wh[event_id]["cost_usd"] == NEW_COST
    assert {r[1] for r in usage_db_restatements(loaded)} == {"beta"}


def test_a_price_ending_and_another_starting_at_the_same_instant_cover_every_call_once(settings):
    # old $1/$1 per 1M: 230 tokens = $0.00023; new $2/$2: $0.00046; the switch at 2026-11-11T15:00:00Z exactly
    write_calls(settings.raw_logs, {
        "before": ("acme", "2026-11-11T14:59:59.999999Z"),
        "at": ("acme", "2026-11-11T15:00:00Z"),
        "after": ("acme", "2026-11-11T15:00:00.000001Z"),
    })
    ingest_raw(settings)
    add_price(settings, "1", "1", "2026-11-01T00:00:00Z", effective_to="2026-11-11T15:00:00Z")
    add_price(settings, "2", "2", "2026-11-11T15:00:00Z")
    summary = reprice_now(settings)

    for rows in (usage_db_rows(settings), warehouse_rows(settings)):
        assert len(rows) == 3
        assert costs(rows) == {"before": Decimal("0.00023"), "at": Decimal("0.00046"), "after": Decimal("0.00046")}
        assert {r["price_source"] for r in rows.values()} == {"global"}
    (restatement,) = [r for r in summary.restatements if r.store == reprice.USAGE_DB]
    assert restatement.calls_changed == 3
    assert restatement.old_cost_usd == 3 * CATALOGUE_COST
    assert restatement.new_cost_usd == Decimal("0.00023") + 2 * Decimal("0.00046")


def test_reprice_twice_is_a_noop(loaded):
    add_price(loaded, *NEW_PRICE, "2026-11-11T03:00:00Z")  # from local midnight of the 11th
    first = reprice_now(loaded)
    assert first.calls_changed(reprice.USAGE_DB) == first.calls_changed(reprice.WAREHOUSE) == 5
    db_rows, wh_rows = usage_db_rows(loaded), warehouse_rows(loaded)
    db_restated, wh_restated = usage_db_restatements(loaded), warehouse_restatements(loaded)
    assert len(db_restated) == len(wh_restated) == 4  # acme and beta on the 11th and the 12th

    second = reprice_now(loaded)
    assert second.restatements == []
    assert second.calls_changed(reprice.USAGE_DB) == second.calls_changed(reprice.WAREHOUSE) == 0
    assert usage_db_rows(loaded) == db_rows
    assert warehouse_rows(loaded) == wh_rows
    assert usage_db_restatements(loaded) == db_restated
    assert warehouse_restatements(loaded) == wh_restated
    assert "no cost changed" in second.to_text()


def _sums_by_client_day(rows: dict[str, dict], day_of: dict[str, date]) -> dict[tuple[str, date], Decimal]:
    totals: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    for event_id, row in rows.items():
        totals[(row["client_id"], day_of[event_id])] += row["cost_usd"] or Decimal(0)
    return dict(totals)


def test_restatement_numbers_equal_the_difference_of_independent_sums(loaded):
    # an unpriced call (cost NULL) on the 11th that the new global price for its model prices at $1/$1: $0.00023
    write_calls(loaded.raw_logs, {"house": ("acme", "2026-11-11T18:00:00Z")}, model="house-model", name="bot-2")
    ingest_raw(loaded)
    day_of = {e: d for e, (_, _, d) in CALLS.items()} | {"house": DAY_11}
    assert usage_db_rows(loaded)["house"]["cost_usd"] is None
    before = _sums_by_client_day(usage_db_rows(loaded), day_of)

    add_price(loaded, *NEW_PRICE, "2026-11-11T03:00:00Z")
    add_price(loaded, "1", "1", "2026-11-01T00:00:00Z", model="house-model")
    reprice_now(loaded)
    after_db = _sums_by_client_day(usage_db_rows(loaded), day_of)
    after_wh = _sums_by_client_day(warehouse_rows(loaded), day_of)
    assert after_db == after_wh

    # by hand: acme on the 11th had e3 + e5 = 2 × 0.0001517 (house unknown), now 2 × 0.00031 + 0.00023
    assert before[("acme", DAY_11)] == Decimal("0.0003034")
    assert after_db[("acme", DAY_11)] == Decimal("0.00085")
    expected = {
        (client, day): (before[(client, day)], after_db[(client, day)])
        for client, day in before if before[(client, day)] != after_db[(client, day)]
    }
    assert set(expected) == {("acme", DAY_11), ("beta", DAY_11), ("acme", DAY_12), ("beta", DAY_12)}
    changed_calls = {("acme", DAY_11): 3, ("beta", DAY_11): 1, ("acme", DAY_12): 1, ("beta", DAY_12): 1}
    for restated in (usage_db_restatements(loaded), warehouse_restatements(loaded)):
        got = {(client, day): (old, new) for _, client, day, _, old, new in restated}
        assert got == expected
        assert {(client, day): calls for _, client, day, calls, _, _ in restated} == changed_calls
        for _, _, _, calls, old, new in restated:
            assert calls > 0


def test_warehouse_models_show_the_new_costs_after_a_reprice(loaded):
    add_price(loaded, *NEW_PRICE, "2026-11-01T00:00:00Z")
    reprice_now(loaded)
    con = warehouse.open_warehouse(loaded.warehouse)
    try:
        rows = con.execute(
            "select client_id, day, cost_usd from daily_costs order by client_id, day").fetchall()
    finally:
        con.close()
    assert rows == [
        ("acme", DAY_10, NEW_COST), ("acme", DAY_11, 2 * NEW_COST), ("acme", DAY_12, NEW_COST),
        ("beta", DAY_10, NEW_COST), ("beta", DAY_11, NEW_COST), ("beta", DAY_12, NEW_COST),
    ]


def _state_by_day(rows: dict[str, dict]) -> dict[date, str]:
    """'old', 'new' or 'mixed' for each local day, from the costs of its calls."""
    state = {}
    for day in (DAY_10, DAY_11, DAY_12):
        day_costs = {rows[e]["cost_usd"] for e in days_of(day)}
        state[day] = {frozenset({CATALOGUE_COST}): "old", frozenset({NEW_COST}): "new"}.get(
            frozenset(day_costs), "mixed")
    return state


def test_a_crash_inside_the_usage_database_update_keeps_that_day_old_everywhere(loaded, monkeypatch):
    add_price(loaded, *NEW_PRICE, "2026-11-01T00:00:00Z")
    real = {name: getattr(reprice, name) for name in ("_copy_update_usage_logs", "_executemany_update_usage_logs")}

    def crash_after_update(name):
        def wrapper(con, conn, changes):
            real[name](con, conn, changes)  # the rows are updated inside the open transaction…
            if con.execute("select count(*) from reprice_calls").fetchall()[0][0] == 3:  # …of the 11th
                raise RuntimeError("killed")
        return wrapper

    for name in real:
        monkeypatch.setattr(reprice, name, crash_after_update(name))
    with pytest.raises(RuntimeError, match="killed"):
        reprice_now(loaded)

    assert _state_by_day(usage_db_rows(loaded)) == {DAY_10: "new", DAY_11: "old", DAY_12: "old"}
    assert _state_by_day(warehouse_rows(loaded)) == {DAY_10: "new", DAY_11: "old", DAY_12: "old"}
    assert {r[2] for r in usage_db_restatements(loaded)} == {DAY_10}
    assert {r[2] for r in warehouse_restatements(loaded)} == {DAY_10}

    monkeypatch.undo()
    reprice_now(loaded)
    assert _state_by_day(usage_db_rows(loaded)) == {DAY_10: "new", DAY_11: "new", DAY_12: "new"}
    assert usage_db_restatements(loaded) == [
        (1, "acme", DAY_10, 1, CATALOGUE_COST, NEW_COST), (1, "beta", DAY_10, 1, CATALOGUE_COST, NEW_COST),
        (2, "acme", DAY_11, 2, 2 * CATALOGUE_COST, 2 * NEW_COST), (2, "beta", DAY_11, 1, CATALOGUE_COST, NEW_COST),
        (2, "acme", DAY_12, 1, CATALOGUE_COST, NEW_COST), (2, "beta", DAY_12, 1, CATALOGUE_COST, NEW_COST),
    ]
    assert warehouse_restatements(loaded) == usage_db_restatements(loaded)
