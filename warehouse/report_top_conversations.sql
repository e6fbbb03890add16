-- One client's 20 most expensive conversations started in [$start_at, $end_at) (phone unmasked: mask before showing).
with

conversations as (
    select * from main.conversations
),

final as (
    select client_id, conversation_key, phone, started_at, ended_at, requests, tokens, cost_usd, unpriced
    from conversations
    where client_id = $client_id
        and started_at >= $start_at and started_at < $end_at
)

select * from final
order by cost_usd desc, requests desc, started_at, conversation_key
limit 20
