-- Restatements recorded since $since (the previous period's start), oldest first. $client_id null: every client.
with

restatements as (
    select * from main.restatements
),

final as (
    select
        restated_at,
        client_id,
        day,
        calls_changed,
        old_cost_usd,
        new_cost_usd,
        (new_cost_usd - old_cost_usd)::decimal(38, 12) as difference_usd
    from restatements
    where restated_at >= $since
        and ($client_id is null or client_id = $client_id)
)

select * from final
order by restated_at, client_id, day
