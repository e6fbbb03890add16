-- model_state (DuckDB warehouse): whether the models (daily_costs, conversations) match usage_logs.
-- grain: at most one row: the time zone the models were last built in, and whether usage_logs changed since.
-- invariants: every write that adds, removes or re-prices usage_logs rows sets stale in its own transaction
--             (warehouse.load_calls, warehouse.forget_files, update_repriced_usage_logs.sql);
--             warehouse_models.refresh_warehouse_models clears it in the rebuild's transaction.
--             No row: the models were never built (or were built before this table existed): rebuild.
create table if not exists model_state (
    timezone varchar not null,
    stale boolean not null
);
