"""daily_costs and conversations: grain, invariants, local days and 24-hour sessions on hand-made rows."""
from __future__ import annotations

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
