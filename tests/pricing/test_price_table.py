"""The prices table: catalogue windows from genai-prices, configured prices, model ids as the log names them."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import duckdb
from genai_prices import Usage, calc_price

from usage_etl.columns import PRICE_COLUMNS
from usage_etl.db.engine import open_usage_db
from usage_etl.pricing import catalogue
from usage_etl.pricing.config import ConfigPrice, add_prices
from usage_etl.pricing.price_table import build_price_table, config_for_model, price_rows, prices_in_force

JAN = datetime(2026, 1, 1, tzinfo=timezone.utc)
MAR = datetime(2026, 3, 1, tzinfo=timezone.utc)


def cfg(model, client_id=None, start=JAN, end=None, prompt="1", completion="2", cached=None, unit="per_1m_tokens",
        provider="openai"):
    return ConfigPrice(client_id=client_id, provider=provider, model=model, unit=unit, prompt_price=Decimal(prompt),
                       completion_price=Decimal(completion) if completion is not None else None,
                       cached_prompt_price=Decimal(cached) if cached is not None else None,
                       effective_from=start, effective_to=end)


def by_field(row) -> dict:
    return dict(zip(PRICE_COLUMNS, row))


def test_catalogue_agrees_with_genai_prices_own_calculation():
    ours = catalogue.current_prices("groq", "llama-3.3-70b-versatile")
    theirs = calc_price(Usage(input_tokens=150, output_tokens=80), model_ref="llama-3.3-70b-versatile",
                        provider_id="groq").total_price
    assert 150 * ours.input_per_token + 80 * ours.output_per_token == theirs == Decimal("0.0001517")


def test_per_token_and_per_second_conversions():
    assert catalogue.current_prices("openai", "gpt-4o") == catalogue.UnitPrices(
        input_per_token=Decimal("0.0000025"), output_per_token=Decimal("0.00001"),
        cached_input_per_token=Decimal("0.00000125"))
    assert catalogue.current_prices("openai", "whisper-1").per_second == Decimal("0.0001")  # 0.36 / 3600
    assert catalogue.current_prices("groq", "whisper-large-v3").per_second == Decimal("0.000030833333333333")
    assert catalogue.current_prices("groq", "whisper-large-v3-turbo").per_second == Decimal("0.000011111111111111")
    transcribe = catalogue.current_prices("openai", "gpt-4o-mini-transcribe")
    assert (transcribe.input_per_token, transcribe.audio_input_per_token, transcribe.output_per_token) == (
        Decimal("0.00000125"), Decimal("0.000003"), Decimal("0.000005"))


def test_dated_ids_resolve_to_the_catalogue_model():
    assert catalogue.canonical_model("openai", "gpt-4o-2024-08-06") == "gpt-4o"
    assert catalogue.canonical_model("openai", "gpt-4o-2024-05-13") == "gpt-4o-2024-05-13"  # priced apart
    assert catalogue.canonical_model("groq", "no-such-model") is None
    assert catalogue.canonical_model("no-such-provider", "gpt-4o") is None


def test_price_history_becomes_windows():
    # genai-prices: o3 cost 10/40 per 1M until it dropped to 2/8 on 2025-06-10
    windows = catalogue.price_windows("openai", "o3")
    cut = datetime(2025, 6, 10, tzinfo=timezone.utc)
    assert [(w.effective_from, w.effective_to, w.prices.input_per_token * 10**6) for w in windows] == [
        (catalogue.EPOCH, cut, Decimal(10)), (cut, None, Decimal(2))]


def test_a_config_price_for_the_model_applies_to_its_dated_ids():
    config = [cfg("gpt-4o", prompt="1"), cfg("gpt-4o", client_id="acme", prompt="3"),
              cfg("gpt-4o-2024-08-06", client_id="acme", prompt="2")]
    chosen = config_for_model(config, "openai", "gpt-4o-2024-08-06")
    # global: only the alias row; acme: its exact-id row wins over its alias row
    assert sorted((p.client_id or "", p.model) for p in chosen) == [("", "gpt-4o"), ("acme", "gpt-4o-2024-08-06")]
    rows = [by_field(r) for r in price_rows([("openai", "gpt-4o-2024-08-06")], config)]
    assert [(r["scope"], r["client_id"], r["model"], r["input_per_token"]) for r in rows] == [
        ("global", None, "gpt-4o-2024-08-06", Decimal("0.000001")),
        ("client", "acme", "gpt-4o-2024-08-06", Decimal("0.000002")),
        ("catalogue", None, "gpt-4o-2024-08-06", Decimal("0.0000025")),
    ]


def test_config_units_convert_exactly():
    config = [cfg("m1", unit="per_1k_tokens", prompt="0.5", completion="1.5", cached="0.25"),
              cfg("whisper-1", unit="per_minute", prompt="0.006", completion=None),
              cfg("m3", unit="per_hour", prompt="0.04", completion=None)]
    rows = {r["model"]: r for r in map(by_field, price_rows([("openai", "m1"), ("openai", "whisper-1"),
                                                               ("openai", "m3")], config))
            if r["scope"] == "global"}
    assert (rows["m1"]["input_per_token"], rows["m1"]["output_per_token"], rows["m1"]["cached_input_per_token"]) == (
        Decimal("0.0005"), Decimal("0.0015"), Decimal("0.00025"))
    assert (rows["whisper-1"]["per_second"], rows["whisper-1"]["input_per_token"]) == (Decimal("0.0001"), None)
    assert rows["m3"]["per_second"] == Decimal("0.000011111111111111")


def test_build_price_table_reads_the_usage_database(sqlite_url):
    engine = open_usage_db(sqlite_url)
    add_prices(engine, [cfg("llama-3.3-70b-versatile", provider="groq", client_id="acme", prompt="0.5")])
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("create temp table calls as select * from (values ('groq', 'llama-3.3-70b-versatile'), "
                "('groq', 'llama-3.3-70b-versatile'), ('openai', 'unknown-model'), ('openai', null)) t(provider, model)")
    build_price_table(con, engine, "calls")
    assert [d[0] for d in con.execute("select * from prices").description] == list(PRICE_COLUMNS)
    rows = con.execute("select scope, client_id, model, input_per_token from prices order by scope").fetchall()
    assert rows == [("catalogue", None, "llama-3.3-70b-versatile", Decimal("0.00000059")),
                    ("client", "acme", "llama-3.3-70b-versatile", Decimal("0.0000005"))]


def test_prices_in_force_pick_by_source():
    config = [cfg("gpt-4o", prompt="1", end=MAR), cfg("gpt-4o", client_id="acme", prompt="3")]
    rows = price_rows([("openai", "gpt-4o")], config)
    feb, apr = datetime(2026, 2, 1, tzinfo=timezone.utc), datetime(2026, 4, 1, tzinfo=timezone.utc)
    assert [(r[0], r[1]) for r in prices_in_force(rows, feb, None)] == [("global", None), ("client", "acme")]
    assert [(r[0], r[1]) for r in prices_in_force(rows, apr, None)] == [("catalogue", None), ("client", "acme")]
    assert [r[0] for r in prices_in_force(rows, apr, "acme")] == ["client"]
    assert [r[0] for r in prices_in_force(rows, feb, "beta")] == ["global"]
