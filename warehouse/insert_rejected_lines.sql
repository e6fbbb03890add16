-- Mirror one batch's quarantined lines; a line already quarantined keeps its first row.
insert or ignore into rejected_lines by name
select raw_file, raw_line, reason, raw_text, now() as rejected_at
from {rejects}
