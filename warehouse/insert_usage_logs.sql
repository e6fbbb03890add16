-- Add one priced batch to the warehouse's usage_logs: only the calls it does not hold yet (known_calls), so an
-- event_id keeps its first row (a re-run after a crash between the warehouse and the usage database loads
-- reads the same lines again).
insert into usage_logs by name
select batch_calls.*
from {calls} as batch_calls
anti join known_calls on batch_calls.event_id = known_calls.event_id
