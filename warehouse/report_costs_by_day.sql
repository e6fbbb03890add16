-- Cost, tokens and call counts per client, local day and provider over [$first_day, $last_day].
-- $client_id null: every client.
with

daily_costs as (
    select * from main.daily_costs
),

final as (
    select
        client_id,
        day,
        provider,
        sum(requests)::bigint as requests,
        sum(errors)::bigint as errors,
        sum(unpriced)::bigint as unpriced,
        sum(tokens)::bigint as tokens,
        sum(cost_usd)::decimal(38, 12) as cost_usd
    from daily_costs
    where day between $first_day and $last_day
        and ($client_id is null or client_id = $client_id)
    group by client_id, day, provider
)

select * from final
order by client_id, day, provider
