"""A small hand-made warehouse under tmp_path whose report numbers can be checked by hand.

Time zone America/Sao_Paulo (UTC-3). Local day 2026-11-22 is [2026-11-22T03:00Z, 2026-11-23T03:00Z).
acme on 2026-11-22 (6 calls): cost 0.0001517 + 0.0003 + 0 + 0.006 + (unpriced) + 0.0001517 = $0.0066034,
  tokens 230 + 1000 + 0 + 0 + 500 + 230 = 1960, 1 failed call, 1 unpriced call, 60 s of audio;
  the call at 2026-11-23T01:30Z is 22:30 on the 22nd in São Paulo.
acme on 2026-11-21: 1 call, $0.0003, 1000 tokens. acme at 2026-11-23T03:30Z (00:30 on the 23rd): $0.0001517.
beta on 2026-11-22: 1 call, $0.0006, 2000 tokens.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from usage_etl.warehouse import open_warehouse
from usage_etl.warehouse_models import refresh_warehouse_models

TZ = "America/Sao_Paulo"
ACME_PHONE = "+5511987651234"
ACME_PHONE_2 = "+5521999887766"


def call(n: int, client_id: str, at: str, provider: str = "groq", model: str | None = "llama-3.3-70b-versatile",
         tokens: int | None = 230, cost: str | None = "0.0001517", phone: str | None = ACME_PHONE,
         conversation_id: str | None = None, is_error: bool = False, audio_seconds: str | None = None,
         endpoint: str = "chat.completions") -> dict:
    """One usage_logs row with the columns reports read."""
    if is_error:
        status = "error"
    elif cost is None:
        status = "unpriced"
    else:
        status = "priced"
    return {
        "event_id": f"e{n}", "client_id": client_id, "conversation_id": conversation_id, "phone": phone,
        "source": "whisper" if endpoint.startswith("audio") else provider, "provider": provider,
        "endpoint": endpoint, "model": model,
        "created_at": datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone(timezone.utc),
        "total_tokens": tokens, "audio_seconds": Decimal(audio_seconds) if audio_seconds else None,
        "has_usage": not is_error, "is_error": is_error, "raw_file": f"{at[:10].replace('-', '/')}/test.jsonl",
        "raw_line": n, "cost_usd": Decimal(cost) if cost is not None else None,
        "price_source": "catalogue" if status == "priced" else None, "cost_status": status,
        "ingested_at": datetime(2026, 11, 24, tzinfo=timezone.utc),
    }


HAND_MADE_CALLS = [
    call(1, "acme", "2026-11-22T12:00:00Z"),
    call(2, "acme", "2026-11-22T12:10:00Z", provider="openai", model="gpt-4o-mini", tokens=1000, cost="0.0003"),
    call(3, "acme", "2026-11-22T15:00:00Z", provider="openai", model="gpt-4o-mini", tokens=None, cost="0",
         is_error=True),
    call(4, "acme", "2026-11-22T20:00:00Z", provider="openai", model="whisper-1", tokens=None, cost="0.006",
         phone=ACME_PHONE_2, conversation_id="conv-x", audio_seconds="60", endpoint="audio.transcriptions"),
    call(5, "acme", "2026-11-22T21:00:00Z", model="brand-new-model", tokens=500, cost=None, phone=ACME_PHONE_2,
         conversation_id="conv-x"),
    call(6, "acme", "2026-11-23T01:30:00Z"),
    call(7, "acme", "2026-11-21T12:00:00Z", provider="openai", model="gpt-4o-mini", tokens=1000, cost="0.0003",
         phone="+5511912340000"),
    call(8, "acme", "2026-11-23T03:30:00Z"),
    call(9, "beta", "2026-11-22T10:00:00Z", provider="openai", model="gpt-4o-mini", tokens=2000, cost="0.0006",
         phone="+5531988887777"),
]


def insert_calls(con, calls: list[dict], table: str = "usage_logs") -> None:
    """Insert usage_logs rows by column name (columns left out are null)."""
    for row in calls:
        columns = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        con.execute(f"insert into {table} ({columns}) values ({marks})", list(row.values()))


@pytest.fixture
def make_warehouse(tmp_path: Path):
    """Build a warehouse file under tmp_path from usage_logs rows, with its models refreshed."""
    def _make(calls: list[dict], name: str = "usage.duckdb"):
        con = open_warehouse(tmp_path / name)
        insert_calls(con, calls)
        refresh_warehouse_models(con, TZ)
        return con
    return _make


@pytest.fixture
def hand_made(make_warehouse):
    """The hand-made warehouse described above, open."""
    con = make_warehouse(HAND_MADE_CALLS)
    yield con
    con.close()


@pytest.fixture
def make_call():
    """Give tests the usage_logs row builder `call`."""
    return call
