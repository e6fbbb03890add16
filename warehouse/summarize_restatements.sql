-- One store's restatements of one day: per client with changed calls, how many changed and the client's day
-- total before and after ({current}: the store's costs before; {changes}: its changed calls).
-- grain: one row per client_id with at least one changed call.
-- invariants: calls_changed > 0; new_cost_usd - old_cost_usd = sum(new cost) - sum(old cost) of the changed calls;
--             a cost that is unknown (null) adds nothing to a total.
with

current_costs as (
    select client_id, cost_usd from {current}
),

changes as (
    select client_id, old_cost_usd, new_cost_usd from {changes}
),

day_totals as (
    select client_id, coalesce(sum(cost_usd), 0) as old_cost_usd
    from current_costs
    group by client_id
),

changed as (
    select
        client_id,
        count(*) as calls_changed,
        coalesce(sum(new_cost_usd), 0) - coalesce(sum(old_cost_usd), 0) as change_usd
    from changes
    group by client_id
),

final as (
    select
        changed.client_id,
        changed.calls_changed,
        day_totals.old_cost_usd::decimal(38, 12) as old_cost_usd,
        (day_totals.old_cost_usd + changed.change_usd)::decimal(38, 12) as new_cost_usd
    from changed
    inner join day_totals on day_totals.client_id = changed.client_id
)

select * from final
order by client_id
