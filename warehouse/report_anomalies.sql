-- Anomalies of the local days [$first_day, $last_day], for the operator:
--   cost_spike:  a client's day cost over 3x the median of its 14 days before (days without calls count as 0,
--                days before its first call do not count; a zero median flags nothing);
--   error_jump:  a client's failed calls of a day, at least 3 and over 3x the median of its 14 days before;
--   new_model:   a (provider, model) whose first call in the warehouse falls in the period.
-- One row per anomaly: kind, client_id, day, provider, model, value, baseline.
with

daily_costs as (
    select * from main.daily_costs
),

client_days as (
    select client_id, day, sum(cost_usd) as cost_usd, sum(errors) as errors
    from daily_costs
    where day <= $last_day
    group by client_id, day
),

calendar as (
    select client_id, cast(unnest(generate_series(min(day), cast($last_day as date), interval 1 day)) as date) as day
    from client_days
    group by client_id
),

filled_days as (
    select
        calendar.client_id,
        calendar.day,
        coalesce(client_days.cost_usd, 0) as cost_usd,
        coalesce(client_days.errors, 0) as errors
    from calendar
    left join client_days using (client_id, day)
),

trailing_medians as (
    select
        client_id,
        day,
        cost_usd,
        errors,
        median(cost_usd) over w14 as median_cost_usd,
        median(errors) over w14 as median_errors
    from filled_days
    window w14 as (partition by client_id order by day rows between 14 preceding and 1 preceding)
),

cost_spikes as (
    select
        'cost_spike' as kind, client_id, day, null as provider, null as model,
        cast(cost_usd as decimal(38, 12)) as value, cast(median_cost_usd as decimal(38, 12)) as baseline
    from trailing_medians
    where day between $first_day and $last_day
        and median_cost_usd > 0
        and cost_usd > 3 * median_cost_usd
),

error_jumps as (
    select
        'error_jump' as kind, client_id, day, null as provider, null as model,
        cast(errors as decimal(38, 12)) as value, cast(median_errors as decimal(38, 12)) as baseline
    from trailing_medians
    where day between $first_day and $last_day
        and errors >= 3
        and errors > 3 * coalesce(median_errors, 0)
),

first_seen as (
    select provider, model, min(day) as day, arg_min(client_id, day) as client_id
    from daily_costs
    where model is not null
    group by provider, model
),

new_models as (
    select
        'new_model' as kind, client_id, day, provider, model,
        cast(null as decimal(38, 12)) as value, cast(null as decimal(38, 12)) as baseline
    from first_seen
    where day between $first_day and $last_day
),

final as (
    select * from cost_spikes
    union all by name
    select * from error_jumps
    union all by name
    select * from new_models
)

select kind, client_id, day, provider, model, value, baseline from final
order by day, kind, client_id, provider, model
