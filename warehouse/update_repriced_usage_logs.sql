-- Write the new cost, price source and cost status of the changed calls (warehouse_changes) into usage_logs.
update usage_logs
set
    cost_usd = changes.new_cost_usd,
    price_source = changes.new_price_source,
    cost_status = changes.new_cost_status
from warehouse_changes as changes
where usage_logs.event_id = changes.event_id
