-- conversations (DuckDB warehouse): one client's exchange with one end user, built from the calls it is given
-- (all of usage_logs, or every call of the conversations a refresh rebuilds: warehouse_models.py).
-- grain: one row per conversation: per (client_id, conversation_id) when the log names the conversation;
--        otherwise per (client_id, phone) session, where a session starts at a call and takes every call of
--        that phone until 24 hours after that first call; the first call after that starts the next session.
--        Calls with neither conversation_id nor phone form sessions of their own (phone null).
-- invariants: conversation_key is unique per client_id; started_at <= ended_at;
--             sessionized conversations last at most 24 hours (ended_at <= started_at + 24 h);
--             sum(requests) = count(*) of usage_logs; sum(cost_usd) = sum(usage_logs.cost_usd);
--             sum(tokens) = sum(usage_logs.total_tokens); unpriced counts calls with cost_usd null;
--             cost_usd is the sum of the known costs (0 when none is known, never null).
with recursive

-- read three times below: not materialised, so DuckDB reads only the columns each use needs (a full build of 3M calls
-- peaked at 822 MB with every column materialised, at 497 MB without)
usage_logs as not materialized (
    select * from {calls}
),

unnamed_calls as (
    select client_id, coalesce(phone, '') as phone_key, created_at
    from usage_logs
    where conversation_id is null
),

session_starts as (
    select client_id, phone_key, min(created_at) as started_at
    from unnamed_calls
    group by client_id, phone_key

    union all

    select s.client_id, s.phone_key, min(c.created_at) as started_at
    from session_starts as s
    join unnamed_calls as c
        on c.client_id = s.client_id
        and c.phone_key = s.phone_key
        and c.created_at > s.started_at + interval 24 hour
    group by s.client_id, s.phone_key
),

keyed_calls as (
    select
        l.*,
        'session:' || md5(s.client_id || '|' || s.phone_key || '|' || cast(s.started_at as varchar))[:16]
            as conversation_key
    from usage_logs as l
    asof join session_starts as s
        on l.client_id = s.client_id
        and coalesce(l.phone, '') = s.phone_key
        and l.created_at >= s.started_at
    where l.conversation_id is null

    union all by name

    select l.*, l.conversation_id as conversation_key
    from usage_logs as l
    where l.conversation_id is not null
),

final as (
    select
        client_id,
        conversation_key,
        min(phone) as phone,
        min(created_at) as started_at,
        max(created_at) as ended_at,
        count(*) as requests,
        coalesce(sum(total_tokens), 0)::bigint as tokens,
        coalesce(sum(cost_usd), 0)::decimal(38, 12) as cost_usd,
        count(*) filter (where cost_usd is null) as unpriced
    from keyed_calls
    group by client_id, conversation_key
)

select * from final
