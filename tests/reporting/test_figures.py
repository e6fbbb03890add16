"""Report numbers equal independent SQL sums over the hand-made warehouse, and hand-checked values."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

from usage_etl.reporting.figures import client_report, operator_report
from usage_etl.reporting.periods import daily_period, parse_week

TZ = "America/Sao_Paulo"
DAY_22 = daily_period(date(2026, 11, 22))
DAY_22_UTC = ("2026-11-22T03:00:00Z", "2026-11-23T03:00:00Z")  # São Paulo local day, computed by hand


def sql_sums(con, client_id: str, start: str, end: str) -> tuple:
    """Sum usage_logs directly over UTC bounds: cost, tokens, calls, unpriced, errors."""
    return con.execute(
        "select coalesce(sum(cost_usd), 0), coalesce(sum(total_tokens), 0), count(*),"
        " count(*) filter (where cost_usd is null), count(*) filter (where is_error)"
        " from usage_logs where client_id = ? and created_at >= ?::timestamptz and created_at < ?::timestamptz",
        [client_id, start, end],
    ).fetchone()


def test_daily_client_report_equals_sql_sums(hand_made):
    r = client_report(hand_made, DAY_22, "acme", TZ)
    assert (r["total_cost_usd"], r["total_tokens"], r["requests"], r["unpriced_calls"], r["errors"]) == sql_sums(
        hand_made, "acme", *DAY_22_UTC)
    # by hand: 0.0001517 + 0.0003 + 0 + 0.006 + (unpriced) + 0.0001517; 230 + 1000 + 500 + 230 tokens
    assert r["total_cost_usd"] == Decimal("0.0066034")
    assert (r["total_tokens"], r["requests"], r["unpriced_calls"], r["errors"]) == (1960, 6, 1, 1)
    assert r["transcribed_minutes"] == Decimal("1.0")
    assert r["conversations"] == 2  # conv-x and the +5511987651234 session that started at 12:00Z
    assert r["cost_per_conversation_usd"] == Decimal("0.0033017")


def test_headline_compares_with_the_previous_day(hand_made):
    r = client_report(hand_made, DAY_22, "acme", TZ)
    cost = next(h for h in r["headline"] if h["key"] == "cost_usd")
    assert (cost["value"], cost["previous"]) == (Decimal("0.0066034"), Decimal("0.0003"))
    assert cost["change_pct"] == Decimal("2101.1")  # (0.0066034 - 0.0003) / 0.0003 = 21.0113...


def test_by_model_and_by_day_add_up_to_the_total(hand_made):
    r = client_report(hand_made, DAY_22, "acme", TZ)
    assert sum(m["cost_usd"] for m in r["by_model"]) == r["total_cost_usd"]
    assert sum(p["tokens"] for p in r["by_provider"]) == r["total_tokens"]
    assert [(str(d["day"]), d["cost_usd"], d["requests"]) for d in r["by_day"]] == [
        ("2026-11-22", Decimal("0.0066034"), 6)]
    whisper = next(m for m in r["by_model"] if m["model"] == "whisper-1")
    assert (whisper["cost_usd"], whisper["share_pct"]) == (Decimal("0.006"), Decimal("90.9"))


def test_cost_per_hour_uses_local_hours(hand_made):
    r = client_report(hand_made, DAY_22, "acme", TZ)
    hours = {h["hour"]: h for h in r["by_hour"] if h["requests"]}
    # 12:00Z, 12:10Z → 09h; 15:00Z → 12h; 20:00Z → 17h; 21:00Z → 18h; 01:30Z next day → 22h
    assert {h: e["requests"] for h, e in hours.items()} == {9: 2, 12: 1, 17: 1, 18: 1, 22: 1}
    assert hours[22]["cost_by_provider"]["groq"] == Decimal("0.0001517")
    assert sum(h["cost_usd"] for h in r["by_hour"]) == r["total_cost_usd"]


def test_top_conversations_are_ranked_by_cost_with_masked_phones(hand_made):
    r = client_report(hand_made, DAY_22, "acme", TZ)
    assert [(c["phone"], c["cost_usd"], c["requests"]) for c in r["top_conversations"]] == [
        ("+55 21 9****-7766", Decimal("0.006"), 2),
        ("+55 11 9****-1234", Decimal("0.0007551"), 5),  # 3 × 0.0001517 + 0.0003 (the session runs to 03:30Z)
    ]


def test_data_quality(hand_made):
    hand_made.execute("insert into rejected_lines values ('2026/11/22/x.jsonl', 3, 'not JSON', '{', now()),"
                      " ('2026/11/20/x.jsonl', 1, 'not JSON', '{', now())")
    r = client_report(hand_made, DAY_22, "acme", TZ)
    dq = r["data_quality"]
    assert dq["unpriced_by_model"] == [{"provider": "groq", "model": "brand-new-model", "unpriced": 1}]
    assert dq["errors"] == 1
    assert dq["rejected_lines"] == 1
    assert dq["newest_call_at"] == datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)


def test_weekly_evolution_has_12_weeks_ending_with_the_period(hand_made):
    r = client_report(hand_made, parse_week("2026-W47"), "acme", TZ)
    weeks = r["weekly_evolution"]
    assert len(weeks) == 12 and weeks[-1]["week"] == "2026-W47" and weeks[0]["week"] == "2026-W36"
    assert weeks[-1]["cost_usd"] == Decimal("0.0069034")  # W47 = Nov 16-22: day 22 plus 0.0003 on the 21st
    assert weeks[-2]["cost_usd"] == 0
    assert len(r["by_day"]) == 7


def test_operator_report_sets_clients_side_by_side(hand_made):
    r = operator_report(hand_made, DAY_22, TZ)
    assert [(c["client_id"], c["cost_usd"], c["share_pct"]) for c in r["clients"]] == [
        ("acme", Decimal("0.0066034"), Decimal("91.7")),  # 0.0066034 / 0.0072034
        ("beta", Decimal("0.0006"), Decimal("8.3")),
    ]
    assert r["total_cost_usd"] == Decimal("0.0072034")
    assert r["clients"][0]["change_pct"] == Decimal("2101.1")
    assert r["clients"][1]["change_pct"] is None  # beta had no calls the day before


def test_operator_anomalies(hand_made):
    kinds = {(a["kind"], a["client_id"], a["model"]) for a in operator_report(hand_made, DAY_22, TZ)["anomalies"]}
    # acme's day 22 costs 0.0066034, over 3 × its median of 0.0003 (one day of history)
    assert ("cost_spike", "acme", None) in kinds
    assert ("new_model", "acme", "brand-new-model") in kinds
    assert ("new_model", "acme", "gpt-4o-mini") not in kinds  # first seen on the 21st


def test_error_jump(make_warehouse, make_call):
    calls = [make_call(i, "acme", f"2026-11-{10 + i:02d}T15:00:00Z") for i in range(1, 12)]
    calls += [make_call(100 + i, "acme", "2026-11-22T15:00:00Z", is_error=True, cost="0") for i in range(4)]
    r = operator_report(make_warehouse(calls), DAY_22, TZ)
    jumps = [a for a in r["anomalies"] if a["kind"] == "error_jump"]
    assert [(a["client_id"], a["value"]) for a in jumps] == [("acme", Decimal(4))]


def test_restatements_since_the_previous_period(hand_made):
    assert client_report(hand_made, DAY_22, "acme", TZ)["restatements"] == []  # no table: no box
    hand_made.execute("create table restatements (restated_at timestamptz, client_id varchar, day date,"
                      " calls_changed bigint, old_cost_usd decimal(38,12), new_cost_usd decimal(38,12))")
    hand_made.execute("insert into restatements values"
                      " ('2026-11-21T12:00:00Z', 'acme', '2026-11-15', 4, 0.0010, 0.0016),"
                      " ('2026-11-20T12:00:00Z', 'acme', '2026-11-14', 1, 0.0010, 0.0011),"  # before the 21st
                      " ('2026-11-22T12:00:00Z', 'beta', '2026-11-15', 1, 0.0010, 0.0011)")
    rows = client_report(hand_made, DAY_22, "acme", TZ)["restatements"]
    assert [(str(r["day"]), r["difference_usd"]) for r in rows] == [("2026-11-15", Decimal("0.0006"))]
