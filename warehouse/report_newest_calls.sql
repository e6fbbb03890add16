-- When the newest log line of each client was written, up to $end_at. $client_id null: every client.
with

usage_logs as (
    select * from main.usage_logs
),

final as (
    select client_id, max(created_at) as newest_call_at
    from usage_logs
    where created_at < $end_at
        and ($client_id is null or client_id = $client_id)
    group by client_id
)

select * from final
order by client_id
