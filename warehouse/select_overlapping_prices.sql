-- The first two windows of one (scope, client_id, provider, model) in {prices} that are in force at the same
-- instant, if any: (scope, client_id, provider, model, first effective_from, second effective_from).
-- No row: at any instant each scope has at most one window per model, as price_calls.sql relies on.
with prices as (
    select
        row_number() over () as window_id,
        scope,
        client_id,
        provider,
        model,
        effective_from,
        coalesce(effective_to, 'infinity'::timestamptz) as effective_to
    from {prices}
),

final as (
    select first.scope, first.client_id, first.provider, first.model, first.effective_from, second.effective_from
    from prices as first
    inner join prices as second
        on second.scope = first.scope
        and second.client_id is not distinct from first.client_id
        and second.provider = first.provider
        and second.model = first.model
        and second.window_id <> first.window_id
        and second.effective_from >= first.effective_from
        and second.effective_from < first.effective_to
    order by first.provider, first.model, first.effective_from
    limit 1
)

select * from final
