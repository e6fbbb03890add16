-- changed_days: the local days (in $timezone) whose daily_costs a refresh rebuilds: every day a changed hour of
-- model_changes touches (an hour can touch two local days in a zone with a half-hour offset).
-- grain: one row per local day.
with

changed_hours as (
    select distinct hour from model_changes
),

hour_days as (
    select cast(timezone($timezone, hour) as date) as day from changed_hours
    union
    select cast(timezone($timezone, hour + interval 1 hour - interval 1 microsecond) as date) as day from changed_hours
),

final as (
    select day from hour_days
)

select * from final
