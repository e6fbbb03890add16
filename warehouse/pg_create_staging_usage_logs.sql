-- staging_usage_logs (PostgreSQL, per batch): the COPY target, shaped like usage_logs, gone at commit.
create temp table staging_usage_logs (like usage_logs including defaults) on commit drop
