-- rejected_lines (DuckDB warehouse): the quarantine, mirrored from the usage database for reports.
-- grain: one row per (raw_file, raw_line) that could not be loaded.
-- invariants: reason and raw_text are never null.
create table if not exists rejected_lines (
    raw_file varchar not null,
    raw_line bigint not null,
    reason varchar not null,
    raw_text varchar not null,
    rejected_at timestamptz not null,
    primary key (raw_file, raw_line)
)
