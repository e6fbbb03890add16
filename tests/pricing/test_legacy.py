"""`usage-etl prices adopt-legacy`: the chatbot's old one-row-per-model pricing table becomes history rows.

Catalogue prices (genai-prices as installed), per 1M tokens or per hour of audio:
  groq llama-3.3-70b-versatile $0.59 / $0.79, llama-3.1-8b-instant $0.05 / $0.08, whisper-large-v3 $0.111/hour,
  whisper-large-v3-turbo $0.04/hour; openai gpt-4o-mini $0.15 in / $0.075 cached / $0.6 out, whisper-1 $0.36/hour.
Old whisper prices are per minute: $0.006/min = $0.36/hour; $0.00185/min = $0.111/hour; $0.002/min = $0.12/hour.
"""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from tests.pricing.conftest import count_prices
from usage_etl.pricing.config import read_prices
from usage_etl.pricing.legacy import LegacyRow, adopt

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
JAN = datetime(2026, 1, 1, tzinfo=timezone.utc)
OLD_CSV = (
    "client_id,provider,model,prompt_price,completion_price\n"
    "acme,groq,llama-3.3-70b-versatile,0,0\n"
    "acme,openai,gpt-4o-mini,0.15,0.60\n"
    "beta,openai,gpt-4o-mini,0.20,0.80\n"
    "acme,whisper,whisper-1,0.006,0\n"
    "beta,whisper,whisper-large-v3-turbo,0.002,\n"
    ",openai,my-finetune,1,2\n"
)


def stored(engine) -> list[tuple]:
    """(client, provider, model, unit, prompt, completion, effective_from, effective_to) of every stored price."""
    return [(p.client_id, p.provider, p.model, p.unit, p.prompt_price, p.completion_price, p.effective_from,
             p.effective_to) for p in read_prices(engine)]


@pytest.fixture
def old_csv(tmp_path) -> Path:
    """The old table exported as CSV (the rows of OLD_CSV)."""
    path = tmp_path / "old_pricing.csv"
    path.write_text(OLD_CSV)
    return path


def test_adopt_from_csv(cli, engine, old_csv):
    run = cli("prices", "adopt-legacy", "--from-csv", str(old_csv))
    assert (run.code, run.err) == (0, "")
    lines = run.out.splitlines()
    assert lines[:5] == [
        "read 6 old row(s); 4 finding(s) against the catalogue:",
        f"  {old_csv} line 2 (acme, groq/llama-3.3-70b-versatile): priced at zero but the catalogue lists "
        "$0.59 in / $0.79 out per 1M tokens; not adopted, the catalogue price applies",
        f"  {old_csv} line 4 (beta, openai/gpt-4o-mini): $0.2 in / $0.8 out per 1M tokens differs from the "
        "catalogue's $0.15 in / $0.075 cached / $0.6 out per 1M tokens; adopted",
        f"  {old_csv} line 6 (beta, groq/whisper-large-v3-turbo): $0.12/hour of audio differs from the catalogue's "
        "$0.04/hour of audio; adopted",
        f"  {old_csv} line 7 (all clients, openai/my-finetune): not in the catalogue; adopted as configured",
    ]
    assert lines[-1] == "adopted 5 price(s) effective from 1970-01-01T00:00:00Z"
    assert stored(engine) == [
        ("beta", "groq", "whisper-large-v3-turbo", "per_minute", Decimal("0.002"), None, EPOCH, None),
        ("acme", "openai", "gpt-4o-mini", "per_1m_tokens", Decimal("0.15"), Decimal("0.6"), EPOCH, None),
        ("beta", "openai", "gpt-4o-mini", "per_1m_tokens", Decimal("0.2"), Decimal("0.8"), EPOCH, None),
        (None, "openai", "my-finetune", "per_1m_tokens", Decimal("1"), Decimal("2"), EPOCH, None),
        ("acme", "openai", "whisper-1", "per_minute", Decimal("0.006"), None, EPOCH, None),
    ]
    assert read_prices(engine)[1].note == f"adopted from the legacy pricing_config ({old_csv} line 3)"

    again = cli("prices", "adopt-legacy", "--from-csv", str(old_csv))  # adopting twice changes nothing
    assert again.code == 0 and sum(line.startswith("already present") for line in again.out.splitlines()) == 5
    assert count_prices(engine) == 5


def test_adopt_dry_run_stores_nothing(cli, engine, old_csv):
    run = cli("prices", "adopt-legacy", "--from-csv", str(old_csv), "--from", "2026-01-01", "--dry-run")
    assert run.code == 0
    assert run.out.splitlines()[-1] == "dry run: 5 price(s) would be adopted from 2026-01-01T00:00:00Z"
    assert count_prices(engine) == 0


def test_adopt_from_a_start_time_in_other_units(cli, engine, old_csv):
    run = cli("prices", "adopt-legacy", "--from-csv", str(old_csv), "--from", "2026-01-01T00:00:00Z",
              "--unit", "per_1k_tokens", "--whisper-unit", "per_hour")
    assert run.code == 0, run.err
    assert {(p.model, p.client_id): (p.unit, p.effective_from) for p in read_prices(engine)} == {
        ("whisper-large-v3-turbo", "beta"): ("per_hour", JAN),
        ("gpt-4o-mini", "acme"): ("per_1k_tokens", JAN),
        ("gpt-4o-mini", "beta"): ("per_1k_tokens", JAN),
        ("my-finetune", None): ("per_1k_tokens", JAN),
        ("whisper-1", "acme"): ("per_hour", JAN),
    }


@pytest.fixture
def old_db(tmp_path) -> Path:
    """The chatbot's SQLite database with its old pricing_config (prices as REAL, whisper under `whisper`)."""
    path = tmp_path / "chatbot.sqlite"
    with sqlite3.connect(path) as con:
        con.execute("create table pricing_config (id integer primary key, client_id text, provider text, model text, "
                    "prompt_price real, completion_price real, updated_at text)")
        con.executemany(
            "insert into pricing_config (client_id, provider, model, prompt_price, completion_price, updated_at) "
            "values (?, ?, ?, ?, ?, '2025-06-01')",
            [("acme", "groq", "llama-3.1-8b-instant", 0.0, 0.0),
             ("acme", "groq", "llama-3.3-70b-versatile", 0.59, 0.79),
             ("acme", "Whisper", "whisper-large-v3", 0.00185, None),
             ("beta", "whisper", None, 0.006, 0.0)],
        )
    con.close()
    return path


def test_adopt_from_a_database_table(cli, engine, old_db):
    run = cli("prices", "adopt-legacy", "--from-url", f"sqlite:///{old_db}", "--from", "2026-01-01T00:00:00Z")
    assert (run.code, run.err) == (0, "")
    assert run.out.splitlines()[:2] == [
        "read 4 old row(s); 1 finding(s) against the catalogue:",
        "  pricing_config row 1 (acme, groq/llama-3.1-8b-instant): priced at zero but the catalogue lists "
        "$0.05 in / $0.08 out per 1M tokens; not adopted, the catalogue price applies",
    ]
    assert stored(engine) == [
        ("acme", "groq", "llama-3.3-70b-versatile", "per_1m_tokens", Decimal("0.59"), Decimal("0.79"), JAN, None),
        ("acme", "groq", "whisper-large-v3", "per_minute", Decimal("0.00185"), None, JAN, None),
        ("beta", "openai", "whisper-1", "per_minute", Decimal("0.006"), None, JAN, None),
    ]


def test_adopt_refuses_a_missing_database_table_or_column(cli, engine, old_db, tmp_path):
    missing = tmp_path / "typo.sqlite"
    run = cli("prices", "adopt-legacy", "--from-url", f"sqlite:///{missing}")
    assert (run.code, run.err) == (2, f"usage-etl: the old database {missing} does not exist\n")
    assert not missing.exists()
    no_table = cli("prices", "adopt-legacy", "--from-url", f"sqlite:///{old_db}", "--table", "prices")
    assert (no_table.code, no_table.err) == (2, f"usage-etl: the database sqlite:///{old_db} has no table prices\n")
    with sqlite3.connect(old_db) as con:
        con.execute("create table prices (client_id text, provider text, model text, price real)")
    con.close()
    no_column = cli("prices", "adopt-legacy", "--from-url", f"sqlite:///{old_db}", "--table", "prices")
    assert (no_column.code, no_column.err) == (
        2, f"usage-etl: table prices of sqlite:///{old_db}: missing column(s) prompt_price, completion_price\n")
    not_a_url = cli("prices", "adopt-legacy", "--from-url", "chatbot.sqlite")
    assert (not_a_url.code, not_a_url.err) == (2, "usage-etl: --from-url is not a database URL\n")
    assert count_prices(engine) == 0


@pytest.mark.parametrize(("row", "reason"), [
    ("acme,openai,gpt-4o-mini,-0.15,0.60", "line 3 (acme, openai/gpt-4o-mini): prompt_price -0.15 is negative"),
    ("acme,openai,gpt-4o-mini,0.15,", "line 3 (acme, openai/gpt-4o-mini): completion_price is missing"),
    ("acme,openai,gpt-4o-mini,abc,0.6", "line 3 (acme, openai/gpt-4o-mini): prompt_price 'abc' is not a number"),
], ids=["negative", "no-completion", "not-a-number"])
def test_adopt_refuses_a_bad_old_row_and_stores_nothing(cli, engine, tmp_path, row, reason):
    path = tmp_path / "old.csv"
    path.write_text("client_id,provider,model,prompt_price,completion_price\n"
                    "acme,groq,llama-3.3-70b-versatile,0.59,0.79\n" + row + "\n")
    run = cli("prices", "adopt-legacy", "--from-csv", str(path))
    assert (run.code, run.out, run.err) == (2, "", f"usage-etl: {path} {reason}\n")
    assert count_prices(engine) == 0


def test_adopt_refuses_an_old_row_overlapping_a_newer_price(cli, engine, old_csv):
    assert cli("prices", "set", "--provider", "openai", "--model", "my-finetune", "--unit", "per_1m_tokens",
               "--prompt", "1.5", "--completion", "2.5", "--from", "2026-01-01").code == 0
    run = cli("prices", "adopt-legacy", "--from-csv", str(old_csv))
    assert run.code == 2
    assert run.err.startswith(f"usage-etl: {old_csv} line 7 (all clients, openai/my-finetune): the new price "
                              "openai/my-finetune for all clients from 1970-01-01T00:00:00Z to open overlaps the "
                              "stored price #1")
    assert count_prices(engine) == 1


def row(provider: str, model: str, prompt: str = "0.006", completion: str | None = None, unit: str | None = None):
    """One old row of client acme."""
    return LegacyRow(where="row 1", client_id="acme", provider=provider, model=model, prompt_price=prompt,
                     completion_price=completion, unit=unit)


@pytest.mark.parametrize(("old", "provider", "model", "unit"), [
    (row("whisper", ""), "openai", "whisper-1", "per_minute"),
    (row("whisper", "whisper"), "openai", "whisper-1", "per_minute"),
    (row("whisper", "whisper-1"), "openai", "whisper-1", "per_minute"),
    (row("whisper", "whisper-large-v3-turbo"), "groq", "whisper-large-v3-turbo", "per_minute"),
    (row("whisper", "distil-whisper-large-v3-en"), "groq", "distil-whisper-large-v3-en", "per_minute"),
    (row("whisper", "whisper-1", prompt="0.36", unit="per_hour"), "openai", "whisper-1", "per_hour"),
    (row("groq", "llama-3.3-70b-versatile", "0.59", "0.79"), "groq", "llama-3.3-70b-versatile", "per_1m_tokens"),
], ids=["no-model", "bare-whisper", "whisper-1", "groq-turbo", "groq-distil", "own-unit", "tokens"])
def test_whisper_rows_go_to_the_provider_serving_the_model(old, provider, model, unit):
    [price] = adopt([old], effective_from=JAN, token_unit="per_1m_tokens", audio_unit="per_minute").prices
    assert (price.provider, price.model, price.unit) == (provider, model, unit)
    if price.unit == "per_minute":
        assert (price.prompt_price, price.completion_price, price.cached_prompt_price) == (Decimal("0.006"), None, None)
