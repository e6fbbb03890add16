-- reprice_calls: one local day's calls read back from the warehouse as parsing yields them
-- ({columns} = usage_etl.columns.PARSED_CALL_COLUMNS), to be priced again with today's prices.
-- grain: one row per event_id with $day_start <= created_at < $day_end, of $client_id when it is not null.
with

usage_logs as (
    select * from main.usage_logs
),

final as (
    select {columns}
    from usage_logs
    where created_at >= $day_start
        and created_at < $day_end
        and ($client_id is null or client_id = $client_id)
)

select * from final
