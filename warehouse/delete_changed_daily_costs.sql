-- Remove the daily_costs rows of the local days a refresh rebuilds (changed_days).
delete from daily_costs
where day in (select day from changed_days)
