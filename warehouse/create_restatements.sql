-- restatements (DuckDB warehouse): what each `usage-etl reprice` run changed in the warehouse, per client and local day.
-- grain: one row per (run_id, client_id, day); day is the local day (USAGE_ETL_TIMEZONE) of the calls' created_at;
--        run_id is the usage database's reprice_runs.id.
-- invariants: calls_changed > 0; old_cost_usd and new_cost_usd are the client's day totals (sum of known costs)
--             before and after the run, so new_cost_usd - old_cost_usd is exactly what the run changed.
create table if not exists restatements (
    restated_at timestamptz not null,
    client_id varchar not null,
    day date not null,
    calls_changed bigint not null,
    old_cost_usd decimal(38, 12) not null,
    new_cost_usd decimal(38, 12) not null,
    run_id bigint not null,
    primary key (run_id, client_id, day)
)
