-- How many conversations each client started in [$start_at, $end_at). $client_id null: every client.
with

conversations as (
    select * from main.conversations
),

final as (
    select client_id, count(*) as conversations
    from conversations
    where started_at >= $start_at and started_at < $end_at
        and ($client_id is null or client_id = $client_id)
    group by client_id
)

select * from final
order by client_id
