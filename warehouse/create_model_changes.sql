-- model_changes (DuckDB warehouse): the hours (UTC) in which usage_logs gained, lost or re-priced calls since the
-- models were last brought up to date, so a refresh rebuilds only the days and conversations those calls belong to.
-- grain: one row per hour per write (an hour written twice is listed twice; readers take distinct hours).
-- invariants: every write that adds, removes or re-prices usage_logs rows lists the hours of those rows in its own
--             transaction, beside model_state.stale (warehouse.mark_models_stale); a refresh empties it in its own.
--             Stale with no rows here (a warehouse written before this table existed): a full rebuild.
create table if not exists model_changes (
    hour timestamptz not null
);
