-- priced_calls: every parsed call of {calls} with what it cost at the price in force when it was made.
-- grain: one row per row of {calls}; columns are usage_etl.columns.PRICED_CALL_COLUMNS, in that order.
-- a price applies to a call when provider and model are the call's, effective_from <= created_at and
-- (effective_to is null or created_at < effective_to), and a 'client' price only to its own client_id;
-- among those that can bill the call (an audio length for a per-second price, token counts for a token price)
-- the first of client > global > catalogue wins.
-- a NULL is_error or has_usage counts as false.
-- invariants: is_error → cost_usd = 0, cost_status 'error', price_source null;
--             else has_usage false → cost_usd null, 'no_usage', price_source null;
--             else no price → cost_usd null, 'unpriced', price_source null;
--             else cost_usd not null, 'priced', price_source in ('client', 'global', 'catalogue').
-- Windows of one (scope, client_id, provider, model) never overlap (pricing_config and the catalogue keep it so, and
-- write_price_table checks it): so each scope has at most one window in force at a call's instant, found by one
-- left join per scope (hash joins on provider, model and the kind of call; no window over the calls, no sort), and
-- the first scope that has one wins.
-- cost_usd is exact: token counts × DECIMAL(38,18) prices, rounded half-even to 12 places only at the end.
with

calls as (
    select
        *,
        coalesce(is_error, false) as failed,
        coalesce(has_usage, false) and not coalesce(is_error, false) as billable_usage,
        -- what a price needs in order to bill the call: an audio length, or token counts
        billable_usage and audio_seconds is not null as billable_by_time,
        billable_usage and prompt_tokens is not null as billable_by_tokens,
        coalesce(completion_tokens, 0) = 0 as no_completion,
        -- the kind of call a price must be able to bill, as one join key: 4 audio length, 2 tokens, 1 no output
        billable_by_time::integer * 4 + billable_by_tokens::integer * 2 + no_completion::integer as billing_kind
    from {calls}
),

prices as (
    select
        scope,
        client_id,
        provider,
        model,
        effective_from,
        coalesce(effective_to, 'infinity'::timestamptz) as effective_to,
        per_second is not null as bills_time,
        input_per_token is not null as bills_tokens,
        output_per_token is not null as bills_output,
        struct_pack(
            scope, input_per_token, output_per_token, cached_input_per_token, cache_write_per_token,
            audio_input_per_token, audio_output_per_token, per_second
        ) as price
    from {prices}
),

billable_prices as (
    -- each window once per kind of call it can bill: a per-second price bills a call with an audio length, a
    -- token price one with token counts, and one without an output price only a call that completed no tokens
    select prices.*, kinds.kind as billing_kind
    from prices, range(8) as kinds(kind)
    where (prices.bills_time and kinds.kind & 4 <> 0)
        or (prices.bills_tokens and kinds.kind & 2 <> 0 and (prices.bills_output or kinds.kind & 1 <> 0))
),

client_prices as (
    select * from billable_prices where scope = 'client'
),

global_prices as (
    select * from billable_prices where scope = 'global'
),

catalogue_prices as (
    select * from billable_prices where scope = 'catalogue'
),

matched as (
    select
        calls.*,
        coalesce(client_price.price, global_price.price, catalogue_price.price) as chosen
    from calls
    left join client_prices as client_price
        on client_price.provider = calls.provider and client_price.model = calls.model
        and client_price.billing_kind = calls.billing_kind and client_price.client_id = calls.client_id
        and calls.created_at >= client_price.effective_from and calls.created_at < client_price.effective_to
    left join global_prices as global_price
        on global_price.provider = calls.provider and global_price.model = calls.model
        and global_price.billing_kind = calls.billing_kind
        and calls.created_at >= global_price.effective_from and calls.created_at < global_price.effective_to
    left join catalogue_prices as catalogue_price
        on catalogue_price.provider = calls.provider and catalogue_price.model = calls.model
        and catalogue_price.billing_kind = calls.billing_kind
        and calls.created_at >= catalogue_price.effective_from and calls.created_at < catalogue_price.effective_to
),

costed as (
    select
        *,
        case
            when chosen.per_second is not null and billable_by_time then
                -- Groq bills each transcription or translation request at least 10 seconds
                case
                    when provider = 'groq' and endpoint in ('audio.transcriptions', 'audio.translations')
                        then greatest(audio_seconds, 10)
                    else audio_seconds
                end * chosen.per_second
            else
                (
                    prompt_tokens
                    - coalesce(cached_tokens, 0)
                    - coalesce(cache_write_tokens, 0)
                    - coalesce(audio_prompt_tokens, 0)
                ) * chosen.input_per_token
                + coalesce(cached_tokens, 0) * coalesce(chosen.cached_input_per_token, chosen.input_per_token)
                + coalesce(cache_write_tokens, 0) * coalesce(chosen.cache_write_per_token, chosen.input_per_token)
                + coalesce(audio_prompt_tokens, 0) * coalesce(chosen.audio_input_per_token, chosen.input_per_token)
                + (coalesce(completion_tokens, 0) - coalesce(audio_completion_tokens, 0))
                    * coalesce(chosen.output_per_token, 0)
                + coalesce(audio_completion_tokens, 0)
                    * coalesce(chosen.audio_output_per_token, chosen.output_per_token, 0)
        end as exact_cost
    from matched
),

final as (
    select
        * exclude (
            failed, billable_usage, billable_by_time, billable_by_tokens, no_completion, billing_kind, chosen, exact_cost
        ),
        cast(
            case
                when failed then 0
                when not billable_usage then null
                else round_even(exact_cost, 12)
            end as decimal(38, 12)
        ) as cost_usd,
        case when billable_usage then chosen.scope end as price_source,
        case
            when failed then 'error'
            when not billable_usage then 'no_usage'
            when chosen is null then 'unpriced'
            else 'priced'
        end as cost_status
    from costed
)

select * from final
