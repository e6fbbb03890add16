"""The column contract between the steps: what parsing yields, what pricing adds, what loading stores."""
from __future__ import annotations

# parse_raw_lines.sql yields one row per good line with exactly these columns (DuckDB types).
PARSED_CALL_COLUMNS: dict[str, str] = {
    "event_id": "VARCHAR",  # the envelope's event_id, else 'sha256:' + hash of the line's content
    "client_id": "VARCHAR",
    "conversation_id": "VARCHAR",
    "phone": "VARCHAR",
    "source": "VARCHAR",  # 'whisper' for any audio endpoint, else the provider
    "provider": "VARCHAR",
    "endpoint": "VARCHAR",
    "model": "VARCHAR",  # response.model, else request.model
    "created_at": "TIMESTAMPTZ",  # logged_at, UTC
    "prompt_tokens": "BIGINT",  # input tokens (Responses API, token-billed transcriptions)
    "completion_tokens": "BIGINT",  # output tokens
    "total_tokens": "BIGINT",
    "cached_tokens": "BIGINT",  # part of prompt_tokens, read from the cache
    "cache_write_tokens": "BIGINT",  # part of prompt_tokens, written to the cache
    "reasoning_tokens": "BIGINT",  # part of completion_tokens
    "audio_prompt_tokens": "BIGINT",  # part of prompt_tokens, audio input
    "audio_completion_tokens": "BIGINT",  # part of completion_tokens, audio output
    "audio_seconds": "DECIMAL(18,3)",  # billed audio length: usage.seconds, else duration, else request.audio_seconds
    "has_usage": "BOOLEAN",  # the response says what to bill (tokens or an audio length)
    "is_error": "BOOLEAN",
    "error_status": "INTEGER",
    "error_type": "VARCHAR",
    "extras": "VARCHAR",  # JSON text: provider extras (Groq timings, x_groq id), NULL when none
    "raw_file": "VARCHAR",  # path relative to the raw-logs root
    "raw_line": "BIGINT",  # 1-based line number in that file
}

# price_calls.sql adds these to the parsed columns.
PRICED_CALL_COLUMNS: dict[str, str] = {
    **PARSED_CALL_COLUMNS,
    "cost_usd": "DECIMAL(38,12)",  # NULL when no price was found or no usage was logged
    "price_source": "VARCHAR",  # 'client', 'global', 'catalogue', NULL when unpriced
    "cost_status": "VARCHAR",  # 'priced', 'error', 'unpriced' (no price), 'no_usage'
}

# What the reader hands to parsing, one row per complete line.
RAW_LINE_COLUMNS: dict[str, str] = {"raw_file": "VARCHAR", "raw_line": "BIGINT", "line": "VARCHAR"}

# What parsing hands to the quarantine, one row per bad line.
REJECTED_LINE_COLUMNS: dict[str, str] = {
    "raw_file": "VARCHAR",
    "raw_line": "BIGINT",
    "reason": "VARCHAR",
    "raw_text": "VARCHAR",
}

# The normalised price table that price_calls.sql joins on (one row per price window).
PRICE_COLUMNS: dict[str, str] = {
    "scope": "VARCHAR",  # 'client', 'global', 'catalogue'
    "client_id": "VARCHAR",  # NULL unless scope = 'client'
    "provider": "VARCHAR",
    "model": "VARCHAR",  # the model id exactly as the log names it
    "effective_from": "TIMESTAMPTZ",
    "effective_to": "TIMESTAMPTZ",  # NULL: still in force
    "input_per_token": "DECIMAL(38,18)",
    "output_per_token": "DECIMAL(38,18)",
    "cached_input_per_token": "DECIMAL(38,18)",  # NULL: cached tokens cost the input price
    "cache_write_per_token": "DECIMAL(38,18)",  # NULL: cache writes cost the input price
    "audio_input_per_token": "DECIMAL(38,18)",  # NULL: audio tokens cost the input price
    "audio_output_per_token": "DECIMAL(38,18)",  # NULL: audio tokens cost the output price
    "per_second": "DECIMAL(38,18)",  # time-priced audio; NULL for token prices
}

COST_STATUSES = ("priced", "error", "unpriced", "no_usage")
PRICE_SOURCES = ("client", "global", "catalogue")
