-- known_calls: the event_ids of batch_calls the warehouse already holds (lines read again after a run that died
-- between the warehouse and the usage-database loads, or a call logged twice across batches).
-- grain: one row per event_id of batch_calls.
-- Only warehouse rows inside the batch's time span are compared, so DuckDB's zone maps skip the rest of a
-- long history: a call logged again carries the same logged_at. A call that did not would be missed here,
-- and then caught by the primary keys of both stores (the warehouse ignores it, the usage database upserts).
with batch as (
    select event_id, created_at from batch_calls
),

span as (
    select min(created_at) as first_at, max(created_at) as last_at from batch
),

held as (
    select usage_logs.event_id
    from usage_logs, span
    where usage_logs.created_at between span.first_at and span.last_at
),

final as (
    select batch.event_id
    from batch
    semi join held on batch.event_id = held.event_id
)

select * from final
