-- Record one day's warehouse restatements (warehouse_restatements) under reprice run $run_id.
insert into restatements by name
select
    $restated_at::timestamptz as restated_at,
    client_id,
    $day::date as day,
    calls_changed,
    old_cost_usd,
    new_cost_usd,
    $run_id::bigint as run_id
from warehouse_restatements
