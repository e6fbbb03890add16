-- Quarantined lines of the raw files whose day partition (YYYY/MM/DD/, the UTC date of the file's first line)
-- is in [$first_day, $last_day]. Bad lines name no client that can be trusted, so this counts every client's.
with

rejected_lines as (
    select * from main.rejected_lines
),

partitioned as (
    select try_strptime(substr(raw_file, 1, 10), '%Y/%m/%d')::date as partition_day, reason
    from rejected_lines
),

final as (
    select count(*) as rejected_lines
    from partitioned
    where partition_day between $first_day and $last_day
)

select * from final
