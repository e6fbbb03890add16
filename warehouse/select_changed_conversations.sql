-- changed_conversations: the conversations a refresh rebuilds, as the groups of select_conversations.sql:
-- kind 'named' (client_id, key = conversation_id) or kind 'session' (client_id, key = the phone, '' for none), and
-- from_at, the time from which the group's calls are read again and its rows replaced.
-- A group changed when a call of it is in a changed hour of model_changes (added or re-priced), or when one of its
-- conversations spans a changed hour (it may have lost a call there).
-- from_at, with h0 the first changed hour: a named conversation is read again whole (from its start, or h0 if it
-- is new). Of a client and phone's sessions, one that started over 24 hours before h0 took all its calls before
-- h0, and no later call can join it or move its start: it stays. The sessions after it are rebuilt from the start
-- of the first of them (or from h0), since one call can move the start of every session after it.
-- grain: one row per (kind, client_id, key). $first_at and $last_at bound the changed hours (zone maps).
with

changed_hours as (
    select distinct hour from model_changes
),

changed_calls as (
    select usage_logs.client_id, usage_logs.conversation_id, coalesce(usage_logs.phone, '') as phone_key
    from main.usage_logs
    semi join changed_hours on date_trunc('hour', usage_logs.created_at) = changed_hours.hour
    where usage_logs.created_at >= $first_at and usage_logs.created_at < $last_at
),

conversation_groups as not materialized (
    -- each stored conversation with the group it belongs to (read twice below: not materialised, so DuckDB
    -- does not keep a copy of the whole table)
    select
        case when starts_with(conversation_key, 'session:') then 'session' else 'named' end as kind,
        client_id,
        case when starts_with(conversation_key, 'session:') then coalesce(phone, '') else conversation_key end as key,
        started_at,
        ended_at
    from conversations
),

spanning as (
    select conversation_groups.kind, conversation_groups.client_id, conversation_groups.key
    from conversation_groups
    semi join changed_hours
        on conversation_groups.started_at < changed_hours.hour + interval 1 hour
        and conversation_groups.ended_at >= changed_hours.hour
),

groups as (
    select
        case when conversation_id is null then 'session' else 'named' end as kind,
        client_id,
        coalesce(conversation_id, phone_key) as key
    from changed_calls

    union

    select kind, client_id, key from spanning
),

first_change as (
    select min(hour) as h0 from model_changes
),

existing as (
    -- the changed groups' conversations (a semi join: its hash table holds the few changed groups, not all rows)
    select conversation_groups.*
    from conversation_groups
    semi join groups
        on groups.kind = conversation_groups.kind and groups.client_id = conversation_groups.client_id
        and groups.key = conversation_groups.key
),

final as (
    select
        groups.kind,
        groups.client_id,
        groups.key,
        least(
            any_value(first_change.h0),
            min(existing.started_at) filter (
                where groups.kind = 'named' or existing.started_at + interval 24 hour >= first_change.h0
            )
        ) as from_at
    from groups
    cross join first_change
    left join existing
        on existing.kind = groups.kind and existing.client_id = groups.client_id and existing.key = groups.key
    group by groups.kind, groups.client_id, groups.key
)

select * from final
