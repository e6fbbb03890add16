-- For the run summary: among the batch's calls the warehouse did not have yet, how many are
-- unpriced, carry no usage or failed, and what the priced ones cost.
with batch as (
    select * from batch_calls
),

new_calls as (
    select batch.*
    from batch
    anti join known_calls on batch.event_id = known_calls.event_id
),

final as (
    select
        count(*) filter (where cost_status = 'unpriced') as unpriced,
        count(*) filter (where cost_status = 'no_usage') as no_usage,
        count(*) filter (where is_error) as errors,
        coalesce(sum(cost_usd), 0)::decimal(38, 12) as cost_usd
    from new_calls
)

select * from final
