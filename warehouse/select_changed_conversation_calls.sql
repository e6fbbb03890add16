-- changed_conversation_calls: every call (all of history) of the conversations in changed_conversations.
-- grain: one row per usage_logs row.
with

named as (
    select client_id, key as conversation_id from changed_conversations where kind = 'named'
),

sessions as (
    select client_id, key as phone_key from changed_conversations where kind = 'session'
),

final as (
    select usage_logs.*
    from main.usage_logs
    semi join named
        on usage_logs.client_id = named.client_id and usage_logs.conversation_id = named.conversation_id

    union all

    select usage_logs.*
    from main.usage_logs
    semi join sessions
        on usage_logs.client_id = sessions.client_id and coalesce(usage_logs.phone, '') = sessions.phone_key
    where usage_logs.conversation_id is null
)

select * from final
