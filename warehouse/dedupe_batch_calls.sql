-- batch_calls: the priced calls of one batch (a table of them, or price_calls.sql itself as a subquery),
-- stamped with the load time. grain: one row per event_id.
-- The few repeated event_ids are found by a hash aggregate: ranking every call by a window costs more.
with priced as (
    select * from {priced_calls}
),

repeated as (
    select event_id, min(struct_pack(raw_file, raw_line)) as first_line
    from priced
    group by event_id
    having count(*) > 1
),

final as (
    select priced.* exclude (has_usage), priced.has_usage, now() as ingested_at
    from priced
    left join repeated on priced.event_id = repeated.event_id
    where repeated.event_id is null
        or (priced.raw_file = repeated.first_line.raw_file and priced.raw_line = repeated.first_line.raw_line)
)

select * from final
