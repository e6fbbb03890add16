"""daily_costs and conversations: grain, invariants, local days and 24-hour sessions on hand-made rows."""
from __future__ import annotations

from datetime import timezone
from decimal import Decimal

TZ = "America/Sao_Paulo"


def test_daily_costs_grain_is_unique(hand_made):
    dupes = hand_made.execute(
        "select count(*) from (select client_id, day, provider, model from daily_costs group by all having count(*) > 1)"
    ).fetchone()[0]
    assert dupes == 0


def test_daily_costs_add_up_to_usage_logs(hand_made):
    models = hand_made.execute(
        "select sum(requests), sum(cost_usd), sum(tokens), sum(unpriced), sum(errors) from daily_costs").fetchone()
    logs = hand_made.execute(
        "select count(*), sum(cost_usd), sum(total_tokens), count(*) filter (where cost_usd is null),"
        " count(*) filter (where is_error) from usage_logs").fetchone()
    assert models == logs
    assert models == (9, Decimal("0.0076551"), 5190, 1, 1)


def test_a_call_at_0130z_lands_on_the_previous_sao_paulo_day(hand_made):
    row = hand_made.execute(
        "select day, requests from daily_costs where client_id = 'acme' and model = 'llama-3.3-70b-versatile'"
        " order by day").fetchall()
    # 12:00Z and 01:30Z (next UTC day) are both on 2026-11-22 in São Paulo; 03:30Z is 00:30 on the 23rd.
    assert [(str(d), n) for d, n in row] == [("2026-11-22", 2), ("2026-11-23", 1)]


def test_unpriced_calls_keep_cost_known_part_only(hand_made):
    cost, unpriced = hand_made.execute(
        "select cost_usd, unpriced from daily_costs where model = 'brand-new-model'").fetchone()
    assert (cost, unpriced) == (Decimal(0), 1)


def test_conversations_add_up_and_keep_their_grain(hand_made):
    totals = hand_made.execute("select sum(requests), sum(cost_usd), sum(tokens), sum(unpriced) from conversations"
                               ).fetchone()
    assert totals == (9, Decimal("0.0076551"), 5190, 1)
    dupes = hand_made.execute(
        "select count(*) from (select client_id, conversation_key from conversations group by all having count(*) > 1)"
    ).fetchone()[0]
    assert dupes == 0
    too_long = hand_made.execute(
        "select count(*) from conversations where conversation_key like 'session:%'"
        " and ended_at > started_at + interval 24 hour").fetchone()[0]
    assert too_long == 0


def test_named_conversation_groups_by_conversation_id(hand_made):
    row = hand_made.execute(
        "select requests, cost_usd, unpriced from conversations where conversation_key = 'conv-x'").fetchone()
    assert row == (2, Decimal("0.006"), 1)


def test_a_phone_session_runs_24_hours_from_its_first_call(make_warehouse, make_call):
    # 00:00, 23:00, 24:00 (exactly 24 h: same session), 24:01 (new), 47:59 (same as 24:01), 48:02 (new).
    times = ["2026-01-01T00:00:00Z", "2026-01-01T23:00:00Z", "2026-01-02T00:00:00Z", "2026-01-02T00:01:00Z",
             "2026-01-02T23:59:00Z", "2026-01-03T00:02:00Z"]
    con = make_warehouse([make_call(i, "acme", t) for i, t in enumerate(times)])
    sizes = [r[0] for r in con.execute("select requests from conversations order by started_at").fetchall()]
    assert sizes == [3, 2, 1]


def test_sessions_are_per_client_and_phone(make_warehouse, make_call):
    con = make_warehouse([
        make_call(1, "acme", "2026-01-01T00:00:00Z", phone="+5511900000001"),
        make_call(2, "acme", "2026-01-01T01:00:00Z", phone="+5511900000002"),
        make_call(3, "beta", "2026-01-01T02:00:00Z", phone="+5511900000001"),
        make_call(4, "acme", "2026-01-01T03:00:00Z", phone=None),
    ])
    assert con.execute("select count(*) from conversations").fetchone()[0] == 4


def test_refresh_rebuilds_from_current_rows(make_warehouse, make_call):
    from usage_etl.warehouse_models import refresh_warehouse_models

    con = make_warehouse([make_call(1, "acme", "2026-01-01T12:00:00Z")])
    con.execute("delete from usage_logs")
    refresh_warehouse_models(con, TZ)
    assert con.execute("select count(*) from daily_costs").fetchone()[0] == 0
    assert con.execute("select count(*) from conversations").fetchone()[0] == 0


def _model_requests(con) -> int:
    return con.execute("select coalesce(sum(requests), 0) from daily_costs").fetchone()[0]


def test_models_are_rebuilt_only_after_usage_logs_changed_or_in_another_time_zone(make_warehouse, make_call):
    from usage_etl import warehouse
    from usage_etl.warehouse_models import ensure_warehouse_models

    con = make_warehouse([make_call(1, "acme", "2026-01-01T12:00:00Z")])
    assert ensure_warehouse_models(con, TZ) is False  # nothing changed since the build

    con.execute("create temp table batch as select * replace ('e2' as event_id) from usage_logs")
    con.execute("create temp table known_calls (event_id varchar)")
    with warehouse.transaction(con):
        assert warehouse.load_calls(con, "batch") == 1
    assert _model_requests(con) == 1  # the models lag until the next ensure
    assert ensure_warehouse_models(con, TZ) is True
    assert _model_requests(con) == 2
    con.execute("begin transaction")
    assert warehouse.load_calls(con, "batch") == 1  # known_calls is empty: the same row again...
    con.execute("rollback")  # ... undone, and the stale mark with it
    assert ensure_warehouse_models(con, TZ) is False

    with warehouse.transaction(con):
        assert warehouse.forget_files(con, ["2026/01/01/test.jsonl"]) == 2
    assert ensure_warehouse_models(con, TZ) is True
    assert _model_requests(con) == 0

    assert ensure_warehouse_models(con, "UTC") is True  # built in São Paulo time: rebuilt for UTC days
    assert ensure_warehouse_models(con, "UTC") is False


def test_a_warehouse_whose_models_predate_the_state_table_rebuilds_them(make_warehouse, make_call):
    from usage_etl.warehouse_models import ensure_warehouse_models

    con = make_warehouse([make_call(1, "acme", "2026-01-01T12:00:00Z")])
    con.execute("delete from model_state")
    assert ensure_warehouse_models(con, TZ) is True
    assert ensure_warehouse_models(con, TZ) is False


def _models(con) -> tuple[list, list]:
    return (con.execute("select * from daily_costs order by all").fetchall(),
            con.execute("select * from conversations order by all").fetchall())


def _rebuilt_in_full(con) -> tuple[list, list]:
    """The models the model SQL gives from all of usage_logs, as a full rebuild would store them."""
    from usage_etl.warehouse_models import _model_sql

    def full(name: str, params: dict) -> list:
        return con.execute(f"select * from ({_model_sql(name, 'main.usage_logs')}) order by all", params).fetchall()

    return full("select_daily_costs.sql", {"timezone": TZ}), full("select_conversations.sql", {})


def _sessions(con, phone: str) -> list[tuple[str, int]]:
    """The phone's sessions as (start in UTC to the minute, calls)."""
    rows = con.execute(
        "select started_at, requests from conversations where phone = ? and conversation_key like 'session:%'"
        " order by started_at", [phone]).fetchall()
    return [(str(start.astimezone(timezone.utc))[:16], calls) for start, calls in rows]


def _refresh_matches_a_full_rebuild(con) -> None:
    from usage_etl.warehouse_models import ensure_warehouse_models

    assert ensure_warehouse_models(con, TZ) is True
    assert _models(con) == _rebuilt_in_full(con)


def _load_and_refresh(con, calls: list[dict]) -> None:
    """Load rows as a batch through warehouse.load_calls (none known before), then refresh the models."""
    from usage_etl import warehouse
    from tests.reporting.conftest import insert_calls

    con.execute("create or replace temp table batch as select * from usage_logs limit 0")
    con.execute("create or replace temp table known_calls (event_id varchar)")
    insert_calls(con, calls, table="batch")
    with warehouse.transaction(con):
        assert warehouse.load_calls(con, "batch") == len(calls)
    _refresh_matches_a_full_rebuild(con)


def test_a_refresh_after_loads_deletes_and_repricing_rebuilds_only_what_changed_and_matches_a_full_rebuild(
        make_warehouse, make_call, monkeypatch):
    from usage_etl import warehouse, warehouse_models
    from usage_etl.warehouse_models import ensure_warehouse_models
    from tests.reporting.conftest import ACME_PHONE, ACME_PHONE_2, HAND_MADE_CALLS

    con = make_warehouse(HAND_MADE_CALLS)
    # 11-22 12:00, 12:10, 15:00, 11-23 01:30 and 03:30: all within 24 h of the first
    assert _sessions(con, ACME_PHONE) == [("2026-11-22 12:00", 5)]
    untouched = con.execute("select * from conversations where client_id = 'beta'").fetchall()

    def no_full_rebuild(*args):
        raise AssertionError("a refresh of listed changes rebuilt everything")

    monkeypatch.setattr(warehouse_models, "refresh_warehouse_models", no_full_rebuild)

    # 1. a load: a call on 11-21 that starts an earlier ACME_PHONE session (it takes 12:00 and 12:10 on the 22nd,
    #    so the session after it starts at 15:00), a later call of conv-x, a call with neither conversation nor phone,
    #    and a late call from August
    _load_and_refresh(con, [
        make_call(20, "acme", "2026-11-21T13:00:00Z"),
        make_call(21, "acme", "2026-11-25T09:00:00Z", phone=ACME_PHONE_2, conversation_id="conv-x"),
        make_call(22, "acme", "2026-11-22T18:00:00Z", phone=None),
        make_call(23, "acme", "2026-08-01T12:00:00Z", phone="+5511900000009"),
    ])
    assert _sessions(con, ACME_PHONE) == [("2026-11-21 13:00", 3), ("2026-11-22 15:00", 3)]
    assert con.execute("select requests from conversations where conversation_key = 'conv-x'").fetchone()[0] == 3
    assert con.execute("select * from conversations where client_id = 'beta'").fetchall() == untouched

    # 2. a backfill's delete of one file (every call of 2026-11-22)
    with warehouse.transaction(con):
        assert warehouse.forget_files(con, ["2026/11/22/test.jsonl"]) == 7
    _refresh_matches_a_full_rebuild(con)
    assert con.execute("select count(*) from conversations where client_id = 'beta'").fetchone()[0] == 0

    # 3. a reprice of one call
    with warehouse.transaction(con):
        con.execute("update usage_logs set cost_usd = 0.5 where event_id = 'e21'")
        warehouse.mark_models_stale(con, "select created_at from usage_logs where event_id = 'e21'")
    _refresh_matches_a_full_rebuild(con)
    assert con.execute("select cost_usd from conversations where conversation_key = 'conv-x'").fetchone()[0] == (
        Decimal("0.5"))  # its calls on the 22nd went with the file

    # 4. ACME_PHONE's sessions are now 11-21 13:00 (1 call) and 11-23 01:30 (01:30, 03:30). Calls at 11-23 20:00
    #    (joins the second) and 11-24 02:00 (after its 24 hours: a third) rebuild the second session on, not the first
    assert _sessions(con, ACME_PHONE) == [("2026-11-21 13:00", 1), ("2026-11-23 01:30", 2)]
    _load_and_refresh(con, [make_call(24, "acme", "2026-11-23T20:00:00Z"),
                            make_call(25, "acme", "2026-11-24T02:00:00Z")])
    assert _sessions(con, ACME_PHONE) == [("2026-11-21 13:00", 1), ("2026-11-23 01:30", 3), ("2026-11-24 02:00", 1)]

    assert ensure_warehouse_models(con, TZ) is False
    assert con.execute("select count(*) from model_changes").fetchone()[0] == 0
