"""price_calls.sql on tiny DuckDB tables: every number here can be checked by hand."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import duckdb
import pytest

from usage_etl.columns import PARSED_CALL_COLUMNS, PRICED_CALL_COLUMNS
from usage_etl.pricing.catalogue import EPOCH
from usage_etl.pricing.price_table import price_calls, price_rows, write_price_table

T = datetime(2026, 11, 10, 15, 0, tzinfo=timezone.utc)
M = Decimal("0.000001")  # one dollar per million tokens, per token


def call(**fields) -> dict:
    """A parsed call with every column, defaults for the rest."""
    row = {name: None for name in PARSED_CALL_COLUMNS}
    row.update(event_id=f"e{len(fields)}", client_id="acme", source="openai", provider="openai",
               endpoint="chat.completions", model="gpt-4o", created_at=T, has_usage=True, is_error=False,
               raw_file="f.jsonl", raw_line=1)
    row.update(fields)
    return row


def price(model="gpt-4o", scope="catalogue", client_id=None, provider="openai", start=EPOCH, end=None,
          input=None, output=None, cached=None, cache_write=None, audio_in=None, audio_out=None, per_second=None):
    """A PRICE_COLUMNS row."""
    return (scope, client_id, provider, model, start, end, input, output, cached, cache_write, audio_in, audio_out,
            per_second)


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    yield con
    con.close()


def run(con, calls: list[dict], prices: list[tuple]) -> list[dict]:
    """Price the calls with these prices; return the priced rows as dicts, in the calls' order (SQL keeps none)."""
    columns = ", ".join(f"{c} {t}" for c, t in PARSED_CALL_COLUMNS.items())
    con.execute(f"create or replace temp table calls ({columns})")
    con.executemany(f"insert into calls values ({', '.join('?' for _ in PARSED_CALL_COLUMNS)})",
                    [tuple(c[name] for name in PARSED_CALL_COLUMNS) for c in calls])
    write_price_table(con, prices, "test_prices")
    price_calls(con, "calls", "test_prices")
    cur = con.execute("select * from priced_calls")
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, row)) for row in cur.fetchall()]
    order = [(c["event_id"], c["raw_line"]) for c in calls]
    return sorted(rows, key=lambda r: order.index((r["event_id"], r["raw_line"])))


def catalogue_rows(*pairs):
    return price_rows(pairs, [])


def test_groq_llama_at_the_catalogue_price(con):
    # 150 x 0.59 + 80 x 0.79 = 88.5 + 63.2 = 151.7 per million = 0.0001517
    [row] = run(con, [call(provider="groq", model="llama-3.3-70b-versatile", prompt_tokens=150,
                           completion_tokens=80, total_tokens=230)],
                catalogue_rows(("groq", "llama-3.3-70b-versatile")))
    assert (row["cost_usd"], row["price_source"], row["cost_status"]) == (Decimal("0.0001517"), "catalogue", "priced")


def test_gpt4o_cached_tokens_at_the_cached_price(con):
    # catalogue gpt-4o: 2.50 in, 1.25 cached, 10.00 out per 1M; 1000 prompt of which 500 cached, 100 completion:
    # 500 x 2.5 + 500 x 1.25 + 100 x 10 = 1250 + 625 + 1000 = 2875 per million = 0.002875
    [row] = run(con, [call(model="gpt-4o-2024-08-06", prompt_tokens=1000, cached_tokens=500, completion_tokens=100)],
                catalogue_rows(("openai", "gpt-4o-2024-08-06")))
    assert row["cost_usd"] == Decimal("0.002875")


def test_whisper1_by_the_second(con):
    # $0.36 per hour = $0.0001 per second; 37 s = 0.0037
    [row] = run(con, [call(model="whisper-1", endpoint="audio.transcriptions", source="whisper",
                           audio_seconds=Decimal("37"))], catalogue_rows(("openai", "whisper-1")))
    assert (row["cost_usd"], row["cost_status"]) == (Decimal("0.0037"), "priced")


@pytest.mark.parametrize(("seconds", "billed"), [("3", 10), ("10", 10), ("12.5", Decimal("12.5"))],
                         ids=["3s-billed-10", "10s", "12.5s"])
def test_groq_transcription_billed_at_least_ten_seconds(con, seconds, billed):
    # whisper-large-v3-turbo $0.04 per hour; per-second price kept to 18 places, cost rounded to 12
    [row] = run(con, [call(provider="groq", model="whisper-large-v3-turbo", endpoint="audio.transcriptions",
                           source="whisper", audio_seconds=Decimal(seconds))],
                catalogue_rows(("groq", "whisper-large-v3-turbo")))
    assert row["cost_usd"] == (Decimal(billed) * Decimal("0.04") / 3600).quantize(Decimal("1e-12"))


def test_the_ten_second_minimum_is_groq_only(con):
    [row] = run(con, [call(model="whisper-1", endpoint="audio.transcriptions", audio_seconds=Decimal("3"))],
                catalogue_rows(("openai", "whisper-1")))
    assert row["cost_usd"] == Decimal("0.0003")


def test_chat_audio_cache_write_and_reasoning(con):
    # prompt 1000 = 100 cached + 200 cache-write + 300 audio + 400 text; completion 500 = 50 audio + 450 text
    # (200 of them reasoning, billed once as completion). Prices per 1M: in 1, cached 0.5, write 2, audio in 10,
    # out 4, audio out 20. 400x1 + 100x0.5 + 200x2 + 300x10 + 450x4 + 50x20 = 400+50+400+3000+1800+1000 = 6650
    [row] = run(con, [call(prompt_tokens=1000, cached_tokens=100, cache_write_tokens=200, audio_prompt_tokens=300,
                           completion_tokens=500, audio_completion_tokens=50, reasoning_tokens=200)],
                [price(input=M, cached=M / 2, cache_write=2 * M, audio_in=10 * M, output=4 * M, audio_out=20 * M)])
    assert row["cost_usd"] == Decimal("0.00665")


def test_missing_parts_cost_the_input_or_output_price(con):
    # no cached/write/audio prices: 1000 prompt x 1 + 500 completion x 4 = 3000 per million
    [row] = run(con, [call(prompt_tokens=1000, cached_tokens=100, cache_write_tokens=200, audio_prompt_tokens=300,
                           completion_tokens=500, audio_completion_tokens=50)], [price(input=M, output=4 * M)])
    assert row["cost_usd"] == Decimal("0.003")


def test_client_beats_global_beats_catalogue(con):
    prices = [price(input=M, output=M), price(scope="global", input=2 * M, output=2 * M),
              price(scope="client", client_id="acme", input=3 * M, output=3 * M)]
    calls = [call(event_id="a", client_id="acme", prompt_tokens=1000, completion_tokens=0),
             call(event_id="b", client_id="beta", prompt_tokens=1000, completion_tokens=0)]
    rows = run(con, calls, prices)
    assert [(r["event_id"], r["cost_usd"], r["price_source"]) for r in rows] == [
        ("a", Decimal("0.003"), "client"), ("b", Decimal("0.002"), "global")]
    rows = run(con, calls, prices[:1])
    assert [r["price_source"] for r in rows] == ["catalogue", "catalogue"]


def test_window_edges_price_each_call_exactly_once(con):
    # old price until T (excluded), new price from T: a call at T gets the new one, a microsecond before the old.
    prices = [price(scope="global", end=T, input=M, output=M), price(scope="global", start=T, input=2 * M, output=M)]
    calls = [call(event_id="before", created_at=T - timedelta(microseconds=1), prompt_tokens=1000, completion_tokens=0),
             call(event_id="at", created_at=T, prompt_tokens=1000, completion_tokens=0),
             call(event_id="after", created_at=T + timedelta(days=400), prompt_tokens=1000, completion_tokens=0)]
    rows = run(con, calls, prices)
    assert [(r["event_id"], r["cost_usd"]) for r in rows] == [
        ("before", Decimal("0.001")), ("at", Decimal("0.002")), ("after", Decimal("0.002"))]


@pytest.mark.parametrize("second", [
    price(scope="global", start=T - timedelta(days=1), input=2 * M, output=M),  # starts inside the open window
    price(scope="global", start=T, input=2 * M, output=M),  # the same window twice
], ids=["starts-inside", "identical"])
def test_overlapping_windows_of_one_scope_are_refused(con, second):
    # each scope may have one window in force at a time, or a call would be billed twice
    with pytest.raises(ValueError, match=r"two global price windows of openai gpt-4o overlap"):
        write_price_table(con, [price(scope="global", start=T, input=M, output=M), second], "test_prices")


def test_windows_of_different_scopes_or_clients_may_overlap(con):
    write_price_table(con, [price(scope="global", input=M, output=M), price(input=M, output=M),
                            price(scope="client", client_id="acme", input=M, output=M),
                            price(scope="client", client_id="zeta", input=M, output=M)], "test_prices")
    assert con.execute("select count(*) from test_prices").fetchone() == (4,)


def test_a_price_starting_after_the_call_does_not_apply(con):
    [row] = run(con, [call(prompt_tokens=10, completion_tokens=10)],
                [price(scope="global", start=T + timedelta(seconds=1), input=M, output=M)])
    assert (row["cost_usd"], row["price_source"], row["cost_status"]) == (None, None, "unpriced")


def test_error_no_usage_and_unpriced(con):
    calls = [call(event_id="err", is_error=True, has_usage=False, model=None, error_status=429),
             call(event_id="nouse", has_usage=False),
             call(event_id="unknown", model="not-a-model", prompt_tokens=5, completion_tokens=5)]
    rows = run(con, calls, [price(input=M, output=M)])
    assert [(r["event_id"], r["cost_usd"], r["price_source"], r["cost_status"]) for r in rows] == [
        ("err", Decimal(0), None, "error"), ("nouse", None, None, "no_usage"), ("unknown", None, None, "unpriced")]


def test_a_token_price_does_not_bill_a_duration_and_vice_versa(con):
    # gpt-4o-transcribe logged as a duration, with only a token price: unpriced, not zero
    calls = [call(event_id="secs", model="gpt-4o-transcribe", audio_seconds=Decimal("27")),
             call(event_id="toks", model="whisper-1", prompt_tokens=10, completion_tokens=5)]
    rows = run(con, calls, catalogue_rows(("openai", "gpt-4o-transcribe"), ("openai", "whisper-1")))
    assert [(r["event_id"], r["cost_status"]) for r in rows] == [("secs", "unpriced"), ("toks", "unpriced")]


def test_a_client_time_price_falls_back_when_it_cannot_bill_the_call(con):
    # the client prices gpt-4o-transcribe per minute, the call logged tokens only: the catalogue's token price bills it
    prices = [price(model="gpt-4o-transcribe", scope="client", client_id="acme", per_second=Decimal("0.0001")),
              price(model="gpt-4o-transcribe", input=M, output=M)]
    [row] = run(con, [call(model="gpt-4o-transcribe", prompt_tokens=100, completion_tokens=50)], prices)
    assert (row["cost_usd"], row["price_source"]) == (Decimal("0.00015"), "catalogue")


def test_cost_rounds_half_even_at_twelve_places(con):
    # 5e-13 per token: 1 token = 0.5e-12 → 0; 3 tokens = 1.5e-12 → 2e-12; 5 tokens = 2.5e-12 → 2e-12
    tiny = Decimal("0.0000000000005")
    calls = [call(event_id=str(n), prompt_tokens=n, completion_tokens=0) for n in (1, 3, 5)]
    rows = run(con, calls, [price(input=tiny, output=tiny)])
    assert [r["cost_usd"] for r in rows] == [Decimal(0), Decimal("2E-12"), Decimal("2E-12")]


def test_one_row_per_call_in_the_contract_order(con):
    calls = [call(event_id="dup", raw_line=1, prompt_tokens=1, completion_tokens=1),
             call(event_id="dup", raw_line=2, prompt_tokens=1, completion_tokens=1),
             call(event_id="other", raw_line=3, model="unknown")]
    rows = run(con, calls, [price(input=M, output=M), price(scope="global", input=M, output=M)])
    assert [r["raw_line"] for r in rows] == [1, 2, 3]
    assert list(rows[0]) == list(PRICED_CALL_COLUMNS)
    types = dict(con.execute("select column_name, column_type from (describe priced_calls)").fetchall())
    assert types == {c: t.replace("TIMESTAMPTZ", "TIMESTAMP WITH TIME ZONE") for c, t in PRICED_CALL_COLUMNS.items()}


def test_null_is_error_counts_as_success(con):
    [row] = run(con, [call(model="whisper-1", is_error=None, audio_seconds=Decimal("5"))],
                catalogue_rows(("openai", "whisper-1")))
    assert (row["cost_usd"], row["cost_status"]) == (Decimal("0.0005"), "priced")
