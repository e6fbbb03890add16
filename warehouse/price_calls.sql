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
-- cost_usd is exact: token counts × DECIMAL(38,18) prices, rounded half-even to 12 places only at the end.
with

calls as (
    select
        *,
        row_number() over () as call_row,
        coalesce(is_error, false) as failed,
        coalesce(has_usage, false) and not coalesce(is_error, false) as billable_usage
    from {calls}
),

prices as (
    select * from {prices}
),

billable as (
    select
        calls.call_row,
        prices.scope,
        prices.input_per_token,
        prices.output_per_token,
        prices.cached_input_per_token,
        prices.cache_write_per_token,
        prices.audio_input_per_token,
        prices.audio_output_per_token,
        prices.per_second,
        prices.per_second is not null and calls.audio_seconds is not null as by_time
    from calls
    inner join prices
        on prices.provider = calls.provider
        and prices.model = calls.model
        and prices.effective_from <= calls.created_at
        and (prices.effective_to is null or calls.created_at < prices.effective_to)
        and (prices.scope <> 'client' or prices.client_id = calls.client_id)
    where calls.billable_usage
        and (
            (prices.per_second is not null and calls.audio_seconds is not null)
            or (
                prices.input_per_token is not null
                and calls.prompt_tokens is not null
                and (prices.output_per_token is not null or coalesce(calls.completion_tokens, 0) = 0)
            )
        )
),

chosen as (
    select *
    from billable
    qualify row_number() over (
        partition by call_row
        order by case scope when 'client' then 1 when 'global' then 2 else 3 end
    ) = 1
),

costed as (
    select
        calls.*,
        chosen.scope,
        case
            when chosen.by_time then
                -- Groq bills each transcription or translation request at least 10 seconds
                case
                    when calls.provider = 'groq' and calls.endpoint in ('audio.transcriptions', 'audio.translations')
                        then greatest(calls.audio_seconds, 10)
                    else calls.audio_seconds
                end * chosen.per_second
            else
                (
                    calls.prompt_tokens
                    - coalesce(calls.cached_tokens, 0)
                    - coalesce(calls.cache_write_tokens, 0)
                    - coalesce(calls.audio_prompt_tokens, 0)
                ) * chosen.input_per_token
                + coalesce(calls.cached_tokens, 0) * coalesce(chosen.cached_input_per_token, chosen.input_per_token)
                + coalesce(calls.cache_write_tokens, 0) * coalesce(chosen.cache_write_per_token, chosen.input_per_token)
                + coalesce(calls.audio_prompt_tokens, 0) * coalesce(chosen.audio_input_per_token, chosen.input_per_token)
                + (coalesce(calls.completion_tokens, 0) - coalesce(calls.audio_completion_tokens, 0))
                    * coalesce(chosen.output_per_token, 0)
                + coalesce(calls.audio_completion_tokens, 0)
                    * coalesce(chosen.audio_output_per_token, chosen.output_per_token, 0)
        end as exact_cost
    from calls
    left join chosen on chosen.call_row = calls.call_row
),

final as (
    select
        * exclude (call_row, failed, billable_usage, scope, exact_cost),
        cast(
            case
                when failed then 0
                when not billable_usage then null
                else round_even(exact_cost, 12)
            end as decimal(38, 12)
        ) as cost_usd,
        case when billable_usage then scope end as price_source,
        case
            when failed then 'error'
            when not billable_usage then 'no_usage'
            when scope is null then 'unpriced'
            else 'priced'
        end as cost_status
    from costed
    order by call_row
)

select * from final
