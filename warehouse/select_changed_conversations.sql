-- changed_conversations: the conversations a refresh rebuilds, as the groups of select_conversations.sql:
-- kind 'named' (client_id, key = conversation_id) or kind 'session' (client_id, key = the phone, '' for none: every
-- session of that client and phone, as one later call can move the start of the sessions after it).
-- A conversation changed when a call of it is in a changed hour of model_changes (added or re-priced), or when
-- it spans a changed hour (it may have lost a call there).
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

spanning as (
    select conversations.client_id, conversations.conversation_key, conversations.phone
    from conversations
    semi join changed_hours
        on conversations.started_at < changed_hours.hour + interval 1 hour
        and conversations.ended_at >= changed_hours.hour
),

groups as (
    select
        case when conversation_id is null then 'session' else 'named' end as kind,
        client_id,
        coalesce(conversation_id, phone_key) as key
    from changed_calls

    union

    select
        case when starts_with(conversation_key, 'session:') then 'session' else 'named' end as kind,
        client_id,
        case when starts_with(conversation_key, 'session:') then coalesce(phone, '') else conversation_key end as key
    from spanning
),

final as (
    select distinct kind, client_id, key from groups
)

select * from final
