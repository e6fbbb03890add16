-- Remove the conversations rows a refresh rebuilds (changed_conversations): a named conversation by its key, and
-- a changed client and phone's sessions from from_at on (one hash join on the group each row belongs to).
delete from conversations
using changed_conversations as changed
where changed.client_id = conversations.client_id
    and changed.kind = case
        when starts_with(conversations.conversation_key, 'session:') then 'session' else 'named'
    end
    and changed.key = case
        when starts_with(conversations.conversation_key, 'session:') then coalesce(conversations.phone, '')
        else conversations.conversation_key
    end
    and conversations.started_at >= changed.from_at
