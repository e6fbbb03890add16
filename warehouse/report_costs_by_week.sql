-- Cost, tokens and requests per client and ISO week (Monday first) over the local days [$first_day, $last_day].
-- $client_id null: every client.
with

daily_costs as (
    select * from main.daily_costs
),

final as (
    select
        client_id,
        cast(date_trunc('week', day) as date) as week_start,
        sum(requests)::bigint as requests,
        sum(tokens)::bigint as tokens,
        sum(cost_usd)::decimal(38, 12) as cost_usd
    from daily_costs
    where day between $first_day and $last_day
        and ($client_id is null or client_id = $client_id)
    group by all
)

select * from final
order by client_id, week_start
