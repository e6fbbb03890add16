-- model_state (DuckDB warehouse): whether the models (daily_costs, conversations) match usage_logs.
-- grain: at most one row: the time zone the models were last built in, and whether usage_logs changed since.
-- invariants: every write that adds, removes or re-prices usage_logs rows sets stale in its own transaction
--             (warehouse.mark_models_stale, from load_calls, forget_files and the reprice), and lists its hours
--             in model_changes; warehouse_models clears it in the refresh's transaction.
--             No row: the models were never built (or were built before this table existed): rebuild.
create table if not exists model_state (
    timezone varchar not null,
    stale boolean not null
);
