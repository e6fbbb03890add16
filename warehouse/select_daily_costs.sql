-- daily_costs (DuckDB warehouse): what each client spent per local day, provider and model, built from the
-- calls it is given (all of usage_logs, or the calls of the days a refresh rebuilds: warehouse_models.py).
-- grain: one row per (client_id, day, provider, model); day is the local day of created_at in $timezone
--        (a call at 01:30Z is on the previous America/Sao_Paulo day); model may be null (a failed call naming none).
-- invariants: requests >= errors + unpriced; unpriced counts calls with cost_usd null ('unpriced', 'no_usage');
--             cost_usd is the sum of the known costs (0 when none is known, never null);
--             sum(requests) = count(*) of usage_logs; sum(cost_usd) = sum(usage_logs.cost_usd);
--             sum(tokens) = sum(usage_logs.total_tokens); sum(unpriced) = count of usage_logs with cost_usd null.
with

usage_logs as (
    select * from {calls}
),

local_calls as (
    select
        client_id,
        cast(timezone($timezone, created_at) as date) as day,
        provider,
        model,
        is_error,
        cost_usd,
        total_tokens,
        audio_seconds
    from usage_logs
),

final as (
    select
        client_id,
        day,
        provider,
        model,
        count(*) as requests,
        count(*) filter (where is_error) as errors,
        count(*) filter (where cost_usd is null) as unpriced,
        coalesce(sum(total_tokens), 0)::bigint as tokens,
        coalesce(sum(audio_seconds), 0)::decimal(18, 3) as audio_seconds,
        coalesce(sum(cost_usd), 0)::decimal(38, 12) as cost_usd
    from local_calls
    group by client_id, day, provider, model
)

select * from final
