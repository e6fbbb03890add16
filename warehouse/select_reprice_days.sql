-- The local days ($timezone) that hold calls in the warehouse, from $since on (every day when null),
-- of $client_id only when it is not null. grain: one row per local day, oldest first.
with

usage_logs as (
    select * from main.usage_logs
),

local_days as (
    select distinct cast(timezone($timezone, created_at) as date) as day
    from usage_logs
    where $client_id is null or client_id = $client_id
),

final as (
    select day from local_days
    where $since is null or day >= $since
)

select * from final
order by day
