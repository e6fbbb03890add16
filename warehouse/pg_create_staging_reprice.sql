-- staging_reprice (PostgreSQL, per day): the COPY target for one day's changed calls, gone at commit.
create temp table staging_reprice (
    event_id varchar(128) collate "C" primary key,  -- as usage_logs.event_id, so the update can compare them
    cost_usd numeric(24, 12),
    price_source varchar(16),
    cost_status varchar(16) not null
) on commit drop
