"""All 38 real response bodies, wrapped in envelopes, through the real ingest flow on SQLite and PostgreSQL.

Checks the invariants written beside the tables (docs/data-model.md) and that the usage database and the
warehouse hold exactly the same rows.
"""
from __future__ import annotations

import json
from decimal import Decimal

import duckdb
import pytest
from sqlalchemy import create_engine, select

from usage_etl.db.schema import usage_logs
from tests.flows.conftest import write

pytestmark = pytest.mark.usefixtures("prefect_harness")

AUDIO_MODELS = {  # transcription bodies name no model: the request does
    "29": "gpt-4o-transcribe", "30": "whisper-1", "31": "gpt-4o-transcribe", "32": "gpt-4o-transcribe-diarize",
    "33": "gpt-4o-mini-transcribe", "34": "whisper-1", "35": "gpt-4o-transcribe", "36": "whisper-large-v3-turbo",
    "37": "whisper-large-v3", "38": "whisper-large-v3-turbo",
}


def envelope_for(path) -> dict:
    """Wrap one recorded body in the envelope the chatbot would have written."""
    number, rest = path.name.split("_", 1)
    provider = "groq" if rest.startswith("groq") else "openai"
    if "transcription" in rest:
        endpoint = "audio.transcriptions"
    elif "responses" in rest:
        endpoint = "responses"
    else:
        endpoint = "chat.completions"
    envelope = {"event_id": f"fixture-{number}", "logged_at": "2026-11-10T15:00:00Z", "client_id": "acme",
                "provider": provider, "endpoint": endpoint, "phone": "+5511987651234",
                "response": json.loads(path.read_text())}
    if number in AUDIO_MODELS:
        envelope["request"] = {"model": AUDIO_MODELS[number], "audio_seconds": 5.0}
    return envelope


def test_every_real_shape_loads_with_the_invariants(db_url, make_settings, real_fixtures):
    from flows.ingest import ingest

    settings = make_settings(db_url)
    bodies = sorted(real_fixtures.glob("[0-9][0-9]_*.json"))
    assert len(bodies) == 38
    write(settings.raw_logs, "2026/11/10/bot-1.jsonl",
          b"".join(json.dumps(envelope_for(p)).encode() + b"\n" for p in bodies))
    summary = ingest(settings=settings)
    assert (summary.lines, summary.loaded, summary.rejected) == (38, 38, 0)

    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = {r.event_id: r._asdict() for r in conn.execute(select(usage_logs)).all()}
    engine.dispose()
    assert len(rows) == 38
    for event_id, row in rows.items():
        assert (row["cost_usd"] is None) == (row["cost_status"] in ("unpriced", "no_usage")), event_id
        assert (row["price_source"] is not None) == (row["cost_status"] == "priced"), event_id
        if row["prompt_tokens"] is not None and row["completion_tokens"] is not None:
            assert row["total_tokens"] == row["prompt_tokens"] + row["completion_tokens"], event_id
        assert row["source"] == ("whisper" if row["endpoint"].startswith("audio.") else row["provider"]), event_id

    # spot checks a person can redo from the fixture files
    assert (rows["fixture-19"]["prompt_tokens"], rows["fixture-19"]["completion_tokens"]) == (48, 8)
    assert rows["fixture-19"]["cost_usd"] == Decimal("0.00003464")  # 48 x 0.59e-6 + 8 x 0.79e-6
    assert (rows["fixture-23"]["prompt_tokens"], rows["fixture-23"]["total_tokens"]) == (5296, 5683)
    assert rows["fixture-09"]["cost_status"] == "no_usage"  # the chunk with "usage": null
    assert rows["fixture-28"]["cost_status"] == "error"  # an HTTP 400 body logged as the response: failed, costs 0
    assert rows["fixture-34"]["audio_seconds"] == Decimal("37")  # usage.seconds beats duration 36.71
    assert rows["fixture-34"]["cost_usd"] == Decimal("0.0037")  # 37 s of whisper-1 at $0.006/min
    assert rows["fixture-38"]["source"] == "whisper"

    con = duckdb.connect(str(settings.warehouse), read_only=True)
    warehouse_rows = {r[0]: r[1:] for r in con.execute(
        "select event_id, prompt_tokens, completion_tokens, total_tokens, cost_usd, cost_status from usage_logs").fetchall()}
    con.close()
    assert warehouse_rows == {
        e: (r["prompt_tokens"], r["completion_tokens"], r["total_tokens"], r["cost_usd"], r["cost_status"])
        for e, r in rows.items()
    }
