-- usage_logs (DuckDB warehouse): the same rows as the usage database's usage_logs.
-- grain: one row per API call (event_id). No key is declared: DuckDB would hold its index in memory, growing
--        with the table, and rewrite it at every checkpoint. insert_usage_logs.sql keeps the grain instead, adding
--        only the calls select_known_calls.sql did not find (tested in tests/flows/test_ingest_flow.py).
-- invariants: cost_usd is null only when cost_status in ('unpriced', 'no_usage');
--             cost_usd = 0 when is_error; price_source is null unless cost_status = 'priced';
--             total_tokens = prompt_tokens + completion_tokens when the provider reported both.
create table if not exists usage_logs (
    event_id varchar not null,
    client_id varchar not null,
    conversation_id varchar,
    phone varchar,
    source varchar not null,
    provider varchar not null,
    endpoint varchar not null,
    model varchar,
    created_at timestamptz not null,
    prompt_tokens bigint,
    completion_tokens bigint,
    total_tokens bigint,
    cached_tokens bigint,
    cache_write_tokens bigint,
    reasoning_tokens bigint,
    audio_prompt_tokens bigint,
    audio_completion_tokens bigint,
    audio_seconds decimal(18, 3),
    has_usage boolean not null,
    is_error boolean not null,
    error_status integer,
    error_type varchar,
    extras varchar,
    raw_file varchar not null,
    raw_line bigint not null,
    cost_usd decimal(38, 12),
    price_source varchar,
    cost_status varchar not null,
    ingested_at timestamptz not null
)
