-- changed_conversation_calls: the calls of the conversations in changed_conversations from their from_at on.
-- grain: one row per usage_logs row. $from_at, the first from_at, lets DuckDB's zone maps skip older history.
with

named as (
    select client_id, key as conversation_id, from_at from changed_conversations where kind = 'named'
),

sessions as (
    select client_id, key as phone_key, from_at from changed_conversations where kind = 'session'
),

final as (
    -- inner joins on the groups' keys (one row per group, so no call twice), from_at tested after them. The
    -- table is named in each branch, not through a CTE: DuckDB would materialise a CTE read twice (~200 MB).
    select usage_logs.*
    from main.usage_logs
    inner join named
        on usage_logs.client_id = named.client_id and usage_logs.conversation_id = named.conversation_id
    where usage_logs.created_at >= $from_at and usage_logs.created_at >= named.from_at

    union all

    select usage_logs.*
    from main.usage_logs
    inner join sessions
        on usage_logs.client_id = sessions.client_id and coalesce(usage_logs.phone, '') = sessions.phone_key
    where usage_logs.created_at >= $from_at and usage_logs.conversation_id is null
        and usage_logs.created_at >= sessions.from_at
)

select * from final
