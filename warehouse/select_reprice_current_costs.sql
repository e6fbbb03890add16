-- warehouse_day_costs: what the warehouse holds now for the calls of one local day, before repricing.
-- grain: one row per event_id with $day_start <= created_at < $day_end, of $client_id when it is not null.
with

usage_logs as (
    select * from main.usage_logs
),

final as (
    select event_id, client_id, cost_usd, price_source, cost_status
    from usage_logs
    where created_at >= $day_start
        and created_at < $day_end
        and ($client_id is null or client_id = $client_id)
)

select * from final
