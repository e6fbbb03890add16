-- known_calls: the event_ids of batch_calls the warehouse already holds (lines read again after a run that died
-- between the warehouse and the usage-database loads, or a call logged twice across batches).
-- grain: one row per event_id of batch_calls.
-- Only warehouse rows inside the batch's time span are compared, so DuckDB's zone maps skip the rest of a
-- long history: a line logged again (the contract's duplicate: a shipper's retry, or lines read again after a crash)
-- carries the same logged_at. Limit: a writer that reused an event_id for a call at another time would be missed
-- here; the usage database still keeps one row (its primary key: the upsert), the warehouse would keep both.
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
