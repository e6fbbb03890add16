-- Known cost and call counts per client, local hour (0-23 in $timezone) and provider, for calls in [$start_at, $end_at).
-- $client_id null: every client.
with

usage_logs as (
    select * from main.usage_logs
),

final as (
    select
        client_id,
        hour(timezone($timezone, created_at)) as hour,
        provider,
        count(*) as requests,
        coalesce(sum(cost_usd), 0)::decimal(38, 12) as cost_usd
    from usage_logs
    where created_at >= $start_at and created_at < $end_at
        and ($client_id is null or client_id = $client_id)
    group by all
)

select * from final
order by client_id, hour, provider
