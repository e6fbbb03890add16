"""The real reprice flows under Prefect: a crash between the two stores, the CLI, and what nightly calls.

Calls and prices: tests/repricing/conftest.py ($0.0001517 per call at the catalogue price, $0.00031 at $1/$2 per 1M).
"""
from __future__ import annotations

from datetime import date

import pytest

from tests.repricing.conftest import (
    CALLS,
    CATALOGUE_COST,
    DAY_10,
    DAY_11,
    DAY_12,
    NEW_COST,
    add_price,
    usage_db_restatements,
    usage_db_rows,
    warehouse_restatements,
    warehouse_rows,
)
from usage_etl.repricing import reprice as reprice_module

pytestmark = pytest.mark.flows


def _state_by_day(rows: dict[str, dict]) -> dict[date, str]:
    """'old', 'new' or 'mixed' for each local day, from the costs of its calls."""
    state = {}
    for day in (DAY_10, DAY_11, DAY_12):
        day_costs = frozenset(rows[e]["cost_usd"] for e, (_, _, d) in CALLS.items() if d == day)
        state[day] = {frozenset({CATALOGUE_COST}): "old", frozenset({NEW_COST}): "new"}.get(day_costs, "mixed")
    return state


def test_a_crash_in_the_warehouse_update_of_day_2_leaves_each_day_old_or_new_and_a_rerun_fixes_it(
        prefect_harness, loaded, monkeypatch):
    from flows.reprice import reprice

    add_price(loaded, *("1", "2"), "2026-11-01T00:00:00Z")
    real_restate_warehouse_day = reprice_module.restate_warehouse_day

    def crash_on_day_2(con, run_id, window, client_id):
        if window.day == DAY_11:
            con.execute("begin transaction")
            con.execute("update usage_logs set cost_usd = 0")  # half-done work that must not survive
            con.execute("rollback")
            raise RuntimeError("killed during the warehouse update of 2026-11-11")
        return real_restate_warehouse_day(con, run_id, window, client_id)

    monkeypatch.setattr(reprice_module, "restate_warehouse_day", crash_on_day_2)
    with pytest.raises(RuntimeError, match="killed"):
        reprice(settings=loaded)

    # the usage database went first: day 2 is new there and still old in the warehouse; day 3 old in both
    assert _state_by_day(usage_db_rows(loaded)) == {DAY_10: "new", DAY_11: "new", DAY_12: "old"}
    assert _state_by_day(warehouse_rows(loaded)) == {DAY_10: "new", DAY_11: "old", DAY_12: "old"}
    assert [(r[0], r[2]) for r in usage_db_restatements(loaded)] == [(1, DAY_10), (1, DAY_10), (1, DAY_11), (1, DAY_11)]
    assert [(r[0], r[2]) for r in warehouse_restatements(loaded)] == [(1, DAY_10), (1, DAY_10)]

    monkeypatch.undo()
    summary = reprice(settings=loaded)
    assert _state_by_day(usage_db_rows(loaded)) == {DAY_10: "new", DAY_11: "new", DAY_12: "new"}
    assert _state_by_day(warehouse_rows(loaded)) == {DAY_10: "new", DAY_11: "new", DAY_12: "new"}
    # the re-run changed day 2 only in the lagging warehouse, day 3 in both, and recorded each once
    assert summary.calls_changed(reprice_module.USAGE_DB) == 2
    assert summary.calls_changed(reprice_module.WAREHOUSE) == 5
    by_client_day = lambda rows: {(client, day): (calls, old, new) for _, client, day, calls, old, new in rows}
    expected = {
        ("acme", DAY_10): (1, CATALOGUE_COST, NEW_COST), ("beta", DAY_10): (1, CATALOGUE_COST, NEW_COST),
        ("acme", DAY_11): (2, 2 * CATALOGUE_COST, 2 * NEW_COST), ("beta", DAY_11): (1, CATALOGUE_COST, NEW_COST),
        ("acme", DAY_12): (1, CATALOGUE_COST, NEW_COST), ("beta", DAY_12): (1, CATALOGUE_COST, NEW_COST),
    }
    for restated in (usage_db_restatements(loaded), warehouse_restatements(loaded)):
        assert len(restated) == 6
        assert by_client_day(restated) == expected

    third = reprice(settings=loaded)
    assert third.restatements == []


def test_cli_and_nightly_reprice_only_when_prices_changed(prefect_harness, loaded, monkeypatch, capsys):
    from flows.reprice import reprice_if_prices_changed
    from usage_etl.cli import main

    assert reprice_if_prices_changed(settings=loaded) is not None  # never repriced: establishes the baseline
    assert reprice_if_prices_changed(settings=loaded) is None  # nothing changed since

    add_price(loaded, *("1", "2"), "2026-11-12T03:00:00Z")  # from local midnight of the 12th
    summary = reprice_if_prices_changed(settings=loaded)
    assert summary is not None and summary.calls_changed(reprice_module.USAGE_DB) == 2
    assert reprice_if_prices_changed(settings=loaded) is None

    add_price(loaded, *("1", "2"), "2026-11-01T00:00:00Z", client_id="beta")  # beta's own price, all days
    for name, value in {"DB_URL": loaded.db_url, "WAREHOUSE": str(loaded.warehouse),
                        "TIMEZONE": loaded.timezone}.items():
        monkeypatch.setenv(f"USAGE_ETL_{name}", value)
    capsys.readouterr()
    assert main(["reprice", "--since", "2026-11-11"]) == 0
    lines = capsys.readouterr().out.splitlines()
    # beta on the 11th: $0.0001517 → $0.00031; on the 12th the cost stays $0.00031, only the price source moves
    # from the global price to beta's own, which is a change of the call all the same (one call, difference 0)
    assert [line.split() for line in lines[1:3]] == [
        ["2026-11-11", "beta", "1", "$0.0001517", "$0.00031", "+$0.0001583", "usage", "database", "+", "warehouse"],
        ["2026-11-12", "beta", "1", "$0.00031", "$0.00031", "+$0", "usage", "database", "+", "warehouse"],
    ]
    assert lines[3].split() == ["total", "2", "$0.0004617", "$0.00062", "+$0.0001583"]
    assert usage_db_rows(loaded)["e2"]["cost_usd"] == CATALOGUE_COST  # beta on the 10th: before --since
    assert usage_db_rows(loaded)["e7"]["price_source"] == "client"
