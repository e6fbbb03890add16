-- rejected_batch: the batch's bad lines for the quarantine, each with the first reason found, naming the field.
-- grain: one row per (raw_file, raw_line) that is not blank and breaks the contract.
with bad as (
    select raw_file, raw_line, reason from decoded_lines where reason is not null
),

raw as (
    select raw_file, raw_line, line from {raw_lines}
),

final as (
    select bad.raw_file, bad.raw_line, bad.reason, rtrim(raw.line, chr(13) || chr(10)) as raw_text  -- the text, not its line ending
    from bad
    join raw using (raw_file, raw_line)
    order by bad.raw_file, bad.raw_line
)

select * from final
