-- Move one COPYed batch into usage_logs; a call already loaded (same event_id) is a duplicate and keeps its row.
insert into usage_logs ({columns})
select {columns}
from staging_usage_logs
on conflict (event_id) do nothing
