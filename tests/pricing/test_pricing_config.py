"""pricing_config management on SQLite and PostgreSQL: history rows, refusals, closing, CSV, change detection."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from usage_etl.db.schema import pricing_changes, pricing_config
from usage_etl.pricing.config import (
    ConfigPrice,
    PricingConfigError,
    add_prices,
    end_price,
    parse_time,
    price_changes_since,
    prices_fingerprint,
    read_csv,
    read_prices,
    write_csv,
)

JAN = datetime(2026, 1, 1, tzinfo=timezone.utc)
FEB = datetime(2026, 2, 1, tzinfo=timezone.utc)
MAR = datetime(2026, 3, 1, tzinfo=timezone.utc)
NOW = datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)


def llama(start=JAN, end=None, prompt="0.59", completion="0.79", client_id=None, unit="per_1m_tokens"):
    return ConfigPrice(client_id=client_id, provider="groq", model="llama-3.3-70b-versatile", unit=unit,
                       prompt_price=Decimal(prompt), completion_price=Decimal(completion) if completion else None,
                       cached_prompt_price=None, effective_from=start, effective_to=end)


def count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_prices_round_trip_exactly(engine):
    add_prices(engine, [llama(prompt="0.000000000001", completion="123456.123456789012")], now=NOW)
    [stored] = read_prices(engine)
    assert (stored.prompt_price, stored.completion_price) == (Decimal("0.000000000001"), Decimal("123456.123456789012"))
    assert (stored.effective_from, stored.effective_to, stored.created_at) == (JAN, None, NOW)


def test_a_newer_price_closes_the_open_window(engine):
    add_prices(engine, [llama()], now=NOW)
    done = add_prices(engine, [llama(start=MAR, prompt="0.50")], now=NOW)
    assert "closed price #1" in done[0] and "at 2026-03-01T00:00:00Z" in done[0]
    old, new = read_prices(engine)
    assert (old.effective_from, old.effective_to, old.prompt_price) == (JAN, MAR, Decimal("0.59"))
    assert (new.effective_from, new.effective_to, new.prompt_price) == (MAR, None, Decimal("0.50"))
    assert count(engine, pricing_config) == 2  # a new row, nothing overwritten but the old row's end


@pytest.mark.parametrize(("price", "message"), [
    (llama(start=FEB), "overlaps the stored price #2"),  # inside the closed window JAN..MAR
    (llama(start=JAN), "overlaps"),  # same start as the closed one
    (llama(start=JAN - timedelta(days=30), end=FEB), "overlaps"),
    (llama(prompt="-0.1"), "prompt_price -0.1 is negative"),
    (llama(unit="per_day"), "unknown unit 'per_day'"),
    (llama(start=MAR, end=FEB), "ends (2026-02-01T00:00:00Z) before it starts"),
    (llama(completion=None), "needs a completion price"),
], ids=["overlap-inside", "same-start", "overlap-before", "negative", "unit", "end-before-start", "no-completion"])
def test_refusals_store_nothing(engine, price, message):
    add_prices(engine, [llama(start=datetime(2025, 6, 1, tzinfo=timezone.utc), end=JAN, prompt="0.7"),
                        llama(start=JAN, end=MAR)], now=NOW)
    before = read_prices(engine)
    with pytest.raises(PricingConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        add_prices(engine, [llama(client_id="acme"), price], now=NOW)
    assert read_prices(engine) == before  # the acme row of the same call was rolled back


def test_an_identical_window_is_skipped(engine):
    add_prices(engine, [llama(end=MAR)], now=NOW)
    assert add_prices(engine, [llama(end=MAR)], now=NOW)[0].startswith("already present")
    assert count(engine, pricing_config) == 1


def test_client_and_global_keys_are_apart(engine):
    add_prices(engine, [llama(), llama(client_id="acme", prompt="0.4")], now=NOW)
    assert {(p.client_id, p.effective_to) for p in read_prices(engine)} == {(None, None), ("acme", None)}
    assert {p.client_id for p in read_prices(engine, client_id="beta")} == {None}


def test_end_price(engine):
    add_prices(engine, [llama(client_id="acme")], now=NOW)
    with pytest.raises(PricingConfigError, match="the end must come after the start"):
        end_price(engine, client_id="acme", provider="groq", model="llama-3.3-70b-versatile", at=JAN)
    with pytest.raises(PricingConfigError, match="no open price"):
        end_price(engine, client_id=None, provider="groq", model="llama-3.3-70b-versatile", at=MAR)
    assert "ended price #1" in end_price(engine, client_id="acme", provider="groq", model="llama-3.3-70b-versatile",
                                         at=MAR, now=NOW)
    assert read_prices(engine)[0].effective_to == MAR


def test_price_changes_since_sees_creations_and_ends(engine):
    t1, t2, t3 = NOW, NOW + timedelta(hours=1), NOW + timedelta(hours=2)
    assert not price_changes_since(engine, t1)
    add_prices(engine, [llama()], now=t1)
    assert price_changes_since(engine, t1) and not price_changes_since(engine, t1 + timedelta(seconds=1))
    before = prices_fingerprint(engine)
    end_price(engine, client_id=None, provider="groq", model="llama-3.3-70b-versatile", at=MAR, now=t2)
    assert price_changes_since(engine, t2 - timedelta(seconds=1)) and not price_changes_since(engine, t3)
    assert prices_fingerprint(engine) != before
    assert count(engine, pricing_changes) == 2


def test_csv_round_trip(engine, tmp_path):
    add_prices(engine, [llama(end=MAR), llama(start=MAR, prompt="0.5"),
                        ConfigPrice(client_id="acme", provider="openai", model="whisper-1", unit="per_minute",
                                    prompt_price=Decimal("0.006"), completion_price=None, cached_prompt_price=None,
                                    effective_from=JAN, note="deal, signed")], now=NOW)
    out = io.StringIO()
    assert write_csv(read_prices(engine), out) == 3
    path = tmp_path / "prices.csv"
    path.write_text(out.getvalue())
    again = read_csv(path)
    assert [(p.key, p.effective_from, p.effective_to, p.prompt_price, p.note) for p in again] == [
        (p.key, p.effective_from, p.effective_to, p.prompt_price, p.note) for p in read_prices(engine)]
    assert all(line.startswith("already present") for line in add_prices(engine, again, now=NOW))


def test_csv_bad_row_names_its_line(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("client_id,provider,model,unit,prompt_price,completion_price,cached_prompt_price,effective_from\n"
                    ",groq,llama-3.3-70b-versatile,per_1m_tokens,0.59,0.79,,2026-01-01T00:00:00Z\n"
                    "acme,openai,gpt-4o,per_1m_tokens,abc,10,,2026-01-01T00:00:00Z\n")
    with pytest.raises(PricingConfigError, match=r"line 3: prompt_price 'abc' is not a number"):
        read_csv(path)


def test_csv_rows_overlapping_each_other_are_refused(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text("client_id,provider,model,unit,prompt_price,completion_price,effective_from,effective_to\n"
                    ",groq,m,per_1m_tokens,1,1,2026-01-01T00:00:00Z,2026-03-01T00:00:00Z\n"
                    ",groq,m,per_1m_tokens,1,1,2026-02-01T00:00:00Z,\n")
    with pytest.raises(PricingConfigError, match="line 3: overlaps line 2"):
        read_csv(path)


def test_times_need_an_offset():
    assert parse_time("2026-01-01T03:00:00-03:00") == datetime(2026, 1, 1, 6, tzinfo=timezone.utc)
    assert parse_time("2026-01-01") == JAN
    with pytest.raises(ValueError, match="no UTC offset"):
        parse_time("2026-01-01T00:00:00")
