-- The calls of {current} (one store's costs for one day) whose cost_usd, price_source or cost_status
-- differ from priced_calls (the same calls priced with today's prices).
-- grain: one row per changed event_id. invariants: at least one of the three old/new pairs differs;
--        a call in only one of the two tables is not here (the store does not hold it, or it was not re-read).
with

current_costs as (
    select event_id, client_id, cost_usd, price_source, cost_status from {current}
),

repriced as (
    select event_id, cost_usd, price_source, cost_status from priced_calls
),

final as (
    select
        current_costs.event_id,
        current_costs.client_id,
        current_costs.cost_usd as old_cost_usd,
        repriced.cost_usd as new_cost_usd,
        repriced.price_source as new_price_source,
        repriced.cost_status as new_cost_status
    from current_costs
    inner join repriced on repriced.event_id = current_costs.event_id
    where current_costs.cost_usd is distinct from repriced.cost_usd
        or current_costs.price_source is distinct from repriced.price_source
        or current_costs.cost_status is distinct from repriced.cost_status
)

select * from final
