-- changed_day_calls: the calls of usage_logs on the local days (in $timezone) of changed_days.
-- grain: one row per usage_logs row. $first_at and $last_at bound the days with room to spare (any time zone), so
-- DuckDB's zone maps skip the rest of a long history before the exact day test.
with

usage_logs as (
    select * from main.usage_logs
    where created_at >= $first_at and created_at < $last_at
),

final as (
    select usage_logs.*
    from usage_logs
    semi join changed_days on cast(timezone($timezone, usage_logs.created_at) as date) = changed_days.day
)

select * from final
