-- parsed_calls (a view over decoded_lines): the good lines of the batch as calls, in the column order of usage_etl.columns.PARSED_CALL_COLUMNS.
-- grain: one row per good line (a duplicated line appears twice here; dedupe_batch_calls.sql keeps one).
-- invariants: event_id, client_id, provider, endpoint, source, created_at are never NULL;
--             has_usage is false exactly when neither tokens nor (for audio) a length were logged;
--             total_tokens = prompt_tokens + completion_tokens when the provider sent no total.
with decoded as (
    select * from decoded_lines
),

final as (
    select * exclude (reason) from decoded where reason is null
)

select * from final
