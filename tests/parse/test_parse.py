"""Parsing: every real response shape read out exactly, every bad-line kind quarantined with the field it breaks."""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.flows.test_ingest_real_shapes import envelope_for
from usage_etl.columns import PARSED_CALL_COLUMNS
from usage_etl.parse import parse_raw_lines

BAD_LINES = Path(__file__).resolve().parent.parent / "fixtures" / "bad_lines.jsonl"

# fixture number: (model, prompt, completion, total, cached, cache_write, reasoning, audio_prompt, audio_seconds, has_usage)
# each figure read by hand from the fixture file's usage object (transcriptions: request.audio_seconds is 5.0)
REAL_SHAPES = {
    "01": ("gpt-4.1-nano-2025-04-14", 16, 363, 379, 0, None, 0, 0, None, True),
    "03": ("o3-mini-2025-01-31", 577, 2320, 2897, 0, None, 1792, 0, None, True),
    "05": ("gpt-4o-audio-preview-2024-12-17", 81, 72, 153, 0, None, 0, 69, None, True),
    "06": ("gpt-5.6-sol", 4020, 4, 4024, 0, 4012, 0, 0, None, True),
    "07": ("gpt-5.6-sol", 4020, 4, 4024, 4012, 0, 0, 0, None, True),
    "08": ("gpt-4.1-nano-2025-04-14", 16, 300, 316, 0, None, 0, 0, None, True),
    "09": ("gpt-4.1-nano-2025-04-14", None, None, None, None, None, None, None, None, False),
    "11": ("gpt-4o-mini", 82, 17, 99, None, None, 0, None, None, True),
    "13": ("gpt-4o-2024-08-06", 1349, 10, 1359, 1024, None, 0, None, None, True),
    "14": ("gpt-5-2025-08-07", 9299, 577, 9876, 8448, None, 512, None, None, True),
    "15": ("gpt-5.6-sol", 4020, 5, 4025, 0, 4012, 0, None, None, True),
    "16": ("gpt-5.1-codex-max", 299, 12, 311, 0, None, 0, None, None, True),
    "18": ("gpt-5.4", 291, 23, 314, None, None, 0, None, None, True),
    "19": ("llama-3.3-70b-versatile", 48, 8, 56, None, None, None, None, None, True),
    "21": ("openai/gpt-oss-120b", 336, 96, 432, 256, None, 59, None, None, True),
    "23": ("groq/compound", 5296, 387, 5683, None, None, None, None, None, True),
    "25": ("deepseek-r1-distill-llama-70b", 21, 988, 1009, None, None, None, None, None, True),
    "26": ("llama-3.3-70b-versatile", 45, 662, 707, None, None, None, None, None, True),
    "27": ("openai/gpt-oss-120b", 304, 49, 353, None, None, 23, None, None, True),
    "29": ("gpt-4o-transcribe", 14, 45, 59, None, None, None, 14, Decimal("5"), True),
    "30": ("whisper-1", None, None, None, None, None, None, None, Decimal("5"), True),
    "32": ("gpt-4o-transcribe-diarize", None, None, None, None, None, None, None, Decimal("27"), True),
    "33": ("gpt-4o-mini-transcribe", 14, 45, 59, None, None, None, 14, Decimal("5"), True),
    "34": ("whisper-1", None, None, None, None, None, None, None, Decimal("37"), True),
    "35": ("gpt-4o-transcribe", 122, 47, 169, None, None, None, 122, Decimal("5"), True),
    "37": ("whisper-large-v3", None, None, None, None, None, None, None, Decimal("36.713"), True),
    "38": ("whisper-large-v3-turbo", None, None, None, None, None, None, None, Decimal("2.508"), True),
}

# line number in tests/fixtures/bad_lines.jsonl: the reason it must be quarantined with
BAD_LINE_REASONS = {
    1: "not JSON",
    2: "not a JSON object",
    3: "not JSON",
    4: "logged_at is missing or null",
    5: "logged_at is not an RFC 3339 timestamp with an offset",
    6: "logged_at is not an RFC 3339 timestamp with an offset",
    7: "logged_at is not a string",
    8: "client_id is missing or null",
    9: "client_id is not a string",
    10: "provider is missing or null",
    11: "endpoint is not one of chat.completions, responses, audio.transcriptions, audio.translations",
    12: "response is missing (and there is no error)",
    13: "response is not an object",
    14: "response.usage.prompt_tokens is not a non-negative integer",
    15: "response.usage.completion_tokens is not a non-negative integer",
    16: "response.usage.prompt_tokens is not a non-negative integer",
    17: "request.model is missing (audio endpoints name their model only in the request)",
    18: "response.usage.input_tokens_details.cached_tokens is not a non-negative integer",
    19: "response.duration is not a non-negative number",
    20: "error is not an object",
}


def parse(lines: list[str], raw_file: str = "2026/11/10/bot-1.jsonl"):
    """Parse lines in a fresh DuckDB connection; return it with the parse counts."""
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("create temp table raw_lines (raw_file varchar, raw_line bigint, line varchar)")
    con.executemany("insert into raw_lines values (?, ?, ?)", [(raw_file, n, text) for n, text in enumerate(lines, 1)])
    return con, parse_raw_lines(con, "raw_lines")


@pytest.fixture(scope="module")
def real_calls(real_fixtures) -> dict[str, dict]:
    """Parse all 38 real bodies, wrapped in envelopes, in one batch; return the calls by fixture number."""
    bodies = sorted(real_fixtures.glob("[0-9][0-9]_*.json"))
    con, counts = parse([json.dumps(envelope_for(p)) for p in bodies])
    assert (counts.lines, counts.calls, counts.rejected, counts.blank) == (38, 38, 0, 0)
    cursor = con.execute("select * from parsed_calls")
    names = [d[0] for d in cursor.description]
    assert names == list(PARSED_CALL_COLUMNS)
    return {row[0].removeprefix("fixture-"): dict(zip(names, row)) for row in cursor.fetchall()}


@pytest.mark.parametrize("number", sorted(REAL_SHAPES), ids=lambda n: f"fixture-{n}")
def test_real_shape_usage_is_read_exactly(real_calls, number):
    call = real_calls[number]
    got = tuple(call[k] for k in ("model", "prompt_tokens", "completion_tokens", "total_tokens", "cached_tokens",
                                  "cache_write_tokens", "reasoning_tokens", "audio_prompt_tokens", "audio_seconds",
                                  "has_usage"))
    assert got == REAL_SHAPES[number]


def test_envelope_fields_and_source(real_calls):
    call = real_calls["19"]
    assert (call["client_id"], call["provider"], call["endpoint"], call["source"]) == ("acme", "groq", "chat.completions", "groq")
    assert call["phone"] == "+5511987651234"
    assert call["created_at"].isoformat() == "2026-11-10T15:00:00+00:00"
    assert (call["raw_file"], call["raw_line"]) == ("2026/11/10/bot-1.jsonl", 19)
    assert json.loads(call["extras"])["x_groq_id"] == "req_01jr8hj0hzeq9b86xqb5dn7wqs"
    assert json.loads(call["extras"])["queue_time"] == pytest.approx(0.0, abs=1)  # Groq timings kept as extras
    assert real_calls["37"]["source"] == "whisper" and real_calls["37"]["provider"] == "groq"
    assert real_calls["34"]["source"] == "whisper" and real_calls["34"]["provider"] == "openai"


def test_is_error_is_always_true_or_false(real_calls):
    # the warehouse's usage_logs.is_error is NOT NULL: a body with neither usage nor an error object is not failed
    flags = {number: call["is_error"] for number, call in real_calls.items()}
    assert None not in flags.values()
    assert [n for n, failed in sorted(flags.items()) if failed] == ["28"]


def test_groq_error_body_is_a_failed_call(real_calls):
    call = real_calls["28"]  # HTTP 400 body logged as the response: no usage, no model
    assert (call["is_error"], call["has_usage"], call["error_type"], call["model"]) == (True, False, "invalid_request_error", None)


def test_every_bad_line_kind_is_quarantined_with_its_reason():
    lines = BAD_LINES.read_text().splitlines()
    con, counts = parse(lines)
    assert (counts.lines, counts.calls, counts.rejected) == (len(lines), 0, len(lines))
    rejected = dict(con.execute("select raw_line, reason from rejected_batch").fetchall())
    assert rejected == BAD_LINE_REASONS
    raw_texts = dict(con.execute("select raw_line, raw_text from rejected_batch").fetchall())
    assert raw_texts[1] == "not json at all"  # the raw text is kept whole


def test_envelope_error_is_a_failed_call_with_its_status():
    line = {"event_id": "e1", "logged_at": "2026-11-10T12:00:00-03:00", "client_id": "acme", "provider": "openai",
            "endpoint": "chat.completions", "request": {"model": "gpt-4o"},
            "error": {"status": 429, "type": "rate_limit_exceeded", "message": "slow down"}}
    con, counts = parse([json.dumps(line)])
    row = con.execute("select model, is_error, error_status, error_type, has_usage, created_at from parsed_calls").fetchone()
    assert row[:5] == ("gpt-4o", True, 429, "rate_limit_exceeded", False)
    assert row[5].isoformat() == "2026-11-10T15:00:00+00:00"  # -03:00 read as UTC


def test_missing_event_id_is_derived_from_the_line_content_ignoring_crlf_and_blank_lines():
    line = json.dumps({"logged_at": "2026-11-10T15:00:00Z", "client_id": "acme", "provider": "groq",
                       "endpoint": "chat.completions", "response": {"model": "m", "usage": {"prompt_tokens": 1, "completion_tokens": 2}}})
    con, counts = parse([line, line + "\r", "", "   "])
    assert (counts.calls, counts.blank, counts.rejected) == (2, 2, 0)
    ids = {r[0] for r in con.execute("select event_id from parsed_calls").fetchall()}
    assert len(ids) == 1 and next(iter(ids)).startswith("sha256:")
    total = con.execute("select total_tokens from parsed_calls limit 1").fetchone()[0]
    assert total == 3  # no total sent: prompt + completion


def test_audio_length_prefers_billed_seconds_then_duration_then_request():
    base = {"logged_at": "2026-11-10T15:00:00Z", "client_id": "acme", "provider": "openai",
            "endpoint": "audio.transcriptions", "request": {"model": "whisper-1", "audio_seconds": 9.5}}
    lines = [
        {**base, "event_id": "a", "response": {"text": "x", "duration": 36.71, "usage": {"type": "duration", "seconds": 37}}},
        {**base, "event_id": "b", "response": {"text": "x", "duration": 36.71}},
        {**base, "event_id": "c", "response": {"text": "x"}},
        {**base, "event_id": "d", "request": {"model": "whisper-1"}, "response": {"text": "x"}},
    ]
    con, _ = parse([json.dumps(x) for x in lines])
    got = dict(con.execute("select event_id, audio_seconds from parsed_calls").fetchall())
    assert got == {"a": Decimal("37"), "b": Decimal("36.71"), "c": Decimal("9.5"), "d": None}
    assert con.execute("select has_usage from parsed_calls where event_id = 'd'").fetchone()[0] is False


def test_values_json_transform_cannot_type_are_judged_as_json_has_them():
    # json_transform gives the same struct of NULLs for "x", 5, [] and {}: these lines take the json_type path
    base = {"logged_at": "2026-11-10T15:00:00Z", "client_id": "acme", "provider": "groq", "endpoint": "chat.completions"}
    lines = [
        {**base, "event_id": "request-string", "request": "x", "response": {"model": "m"}},
        {**base, "event_id": "request-empty", "request": {}, "response": {"model": "m", "usage": {"prompt_tokens": 1}}},
        {**base, "event_id": "error-message-only", "request": {"model": "m"}, "error": {"message": "boom"}},
        {**base, "event_id": "response-array", "response": []},
        {**base, "event_id": "usage-number", "response": {"model": "m", "usage": 5}},
        {**base, "event_id": "usage-empty", "response": {"model": "m", "usage": {}}},
        {**base, "event_id": "usage-null-groq-chunk", "response": {"model": "m", "usage": None,
                                                                    "x_groq": {"usage": {"prompt_tokens": 7, "completion_tokens": 3}}}},
        {**base, "event_id": "response-error-message-only", "response": {"error": {"message": "bad"}}},
    ]
    con, counts = parse([json.dumps(x) for x in lines])
    rejected = dict(con.execute("select raw_line, reason from rejected_batch").fetchall())
    assert rejected == {1: "request is not an object", 4: "response is not an object"}
    calls = {r[0]: r[1:] for r in con.execute(
        "select event_id, is_error, has_usage, prompt_tokens, total_tokens from parsed_calls").fetchall()}
    assert calls == {
        "request-empty": (False, True, 1, None),  # no completion count: no total either
        "error-message-only": (True, False, None, None),
        "usage-number": (False, False, None, None),
        "usage-empty": (False, False, None, None),
        "usage-null-groq-chunk": (False, True, 7, 10),
        "response-error-message-only": (True, False, None, None),
    }
