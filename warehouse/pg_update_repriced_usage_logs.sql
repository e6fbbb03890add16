-- Write one day's changed calls from staging_reprice into usage_logs in one statement.
update usage_logs
set
    cost_usd = staging_reprice.cost_usd,
    price_source = staging_reprice.price_source,
    cost_status = staging_reprice.cost_status
from staging_reprice
where usage_logs.event_id = staging_reprice.event_id
