-- batch_calls: the priced calls of one batch, one row per event_id (the first line that carried it),
-- stamped with the load time. grain: one row per event_id.
with priced as (
    select * from priced_calls
),

ranked as (
    select
        *,
        row_number() over (partition by event_id order by raw_file, raw_line) as occurrence
    from priced
),

final as (
    select * exclude (occurrence, has_usage), has_usage, now() as ingested_at
    from ranked
    where occurrence = 1
)

select * from final
