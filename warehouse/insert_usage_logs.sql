-- Add one priced batch to the warehouse's usage_logs; an event_id already there keeps its row
-- (a re-run after a crash between the warehouse and the usage database loads the same rows again).
insert or ignore into usage_logs by name
select * from {calls}
