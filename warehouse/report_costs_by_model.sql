-- Cost, tokens and call counts per client, provider and model over the local days [$first_day, $last_day].
-- $client_id null: every client.
with

daily_costs as (
    select * from main.daily_costs
),

period_costs as (
    select *
    from daily_costs
    where day between $first_day and $last_day
        and ($client_id is null or client_id = $client_id)
),

final as (
    select
        client_id,
        provider,
        model,
        sum(requests)::bigint as requests,
        sum(errors)::bigint as errors,
        sum(unpriced)::bigint as unpriced,
        sum(tokens)::bigint as tokens,
        sum(audio_seconds)::decimal(18, 3) as audio_seconds,
        sum(cost_usd)::decimal(38, 12) as cost_usd
    from period_costs
    group by client_id, provider, model
)

select * from final
order by client_id, cost_usd desc, requests desc, provider, model
