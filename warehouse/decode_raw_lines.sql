-- decoded_lines: every non-blank raw line of the batch, its envelope and usage read out, and why it is bad (if it is).
-- grain: one row per (raw_file, raw_line) whose text is not blank.
-- columns: the parsed-call columns (usage_etl.columns.PARSED_CALL_COLUMNS) and `reason`, NULL exactly for the
--          lines that become calls. Each line is read by one json_transform (json_type only for the rare value
--          json_transform cannot type); no big text is kept.
with raw as (
    select raw_file, raw_line, line as body from {raw_lines}
),

non_blank as (
    -- a regex that stops at the first visible character: far cheaper than trimming every line
    select * from raw where regexp_matches(body, '[^ \t\r\n]')
),

envelopes as (
    -- one json_transform reads every field the contract names
    select
        raw_file,
        raw_line,
        body,
        regexp_matches(body, '^[ \t]*\{') as looks_like_object,
        try(json_transform(body, '{
            "event_id": "JSON", "logged_at": "JSON", "client_id": "JSON", "provider": "JSON", "endpoint": "JSON",
            "conversation_id": "JSON", "phone": "JSON",
            "request": {"model": "JSON", "audio_seconds": "JSON"},
            "error": {"status": "JSON", "type": "JSON"},
            "response": {
                "model": "JSON", "duration": "JSON", "error": {"type": "JSON", "code": "JSON"},
                "usage": "JSON",
                "x_groq": {"id": "JSON", "usage": "JSON"},
                "response": {"model": "JSON", "usage": "JSON"}
            }
        }')) as env
    from non_blank
),

kinds as (
    -- the JSON type of the values that must be objects. json_transform cannot tell (it gives a struct of NULLs for
    -- a string, a number or an empty object alike), and json_type parses the whole line again: so a value whose
    -- struct has a field is an object, an absent or null one is NULL, and only the rest is asked of json_type.
    select
        *,
        case
            when env.request.model is not null or env.request.audio_seconds is not null then 'OBJECT'
            when env.request is not null then try(json_type(body, '$.request'))
        end as request_kind,
        case
            when env.response.model is not null or env.response.usage is not null or env.response.x_groq is not null
                or env.response.response is not null or env.response.error is not null
                or env.response.duration is not null then 'OBJECT'
            when env.response is not null then try(json_type(body, '$.response'))
        end as response_kind,
        case
            when env.error.status is not null or env.error.type is not null then 'OBJECT'
            when env.error is not null then try(json_type(body, '$.error'))
        end as error_kind,
        -- the usages are kept as JSON text (read out below, once, from the one that counts): '{' is an object
        starts_with(env.response.usage, '{') as usage_is_object,
        starts_with(env.response.x_groq.usage, '{') as x_groq_usage_is_object,
        starts_with(env.response.response.usage, '{') as nested_usage_is_object,
        case
            when env.response.error.type is not null or env.response.error.code is not null then 'OBJECT'
            when env.response.error is not null then try(json_type(body, '$.response.error'))
        end as response_error_kind
    from envelopes
),

located as (
    -- the object that carries the usage: the body's own, else Groq's x_groq.usage (streamed chunks),
    -- else the nested response of a Responses API stream event; newer Groq chunks carry both copies: read one.
    select
        *,
        case
            when usage_is_object then 'response.usage'
            when x_groq_usage_is_object then 'response.x_groq.usage'
            when nested_usage_is_object then 'response.response.usage'
        end as usage_path,
        json_transform(
            case
                when usage_is_object then env.response.usage
                when x_groq_usage_is_object then env.response.x_groq.usage
                when nested_usage_is_object then env.response.response.usage
            end,
            '{"prompt_tokens": "JSON", "completion_tokens": "JSON", "total_tokens": "JSON",
            "input_tokens": "JSON", "output_tokens": "JSON", "seconds": "JSON",
            "prompt_tokens_details": {"cached_tokens": "JSON", "cache_write_tokens": "JSON", "audio_tokens": "JSON"},
            "completion_tokens_details": {"reasoning_tokens": "JSON", "audio_tokens": "JSON"},
            "input_tokens_details": {"cached_tokens": "JSON", "cache_write_tokens": "JSON"},
            "output_tokens_details": {"reasoning_tokens": "JSON"}, "input_token_details": {"audio_tokens": "JSON"},
            "queue_time": "JSON", "prompt_time": "JSON", "completion_time": "JSON", "total_time": "JSON"}'
        ) as u,
        coalesce(response_error_kind = 'OBJECT', false) as response_is_error_body,
        env.request as req,
        env.error as err,
        env.response as resp
    from kinds
),

texts as (
    -- each string leaf unescaped once (json_text parses its leaf), each token leaf counted once
    select
        *,
        json_text(env.logged_at) as logged_at_text,
        json_text(env.endpoint) as endpoint_text,
        json_text(env.client_id) as client_id_text,
        json_text(env.provider) as provider_text,
        json_text(env.event_id) as event_id_text,
        json_text(req.model) as request_model_text,
        -- a count is NULL when its leaf is absent or not a non-negative integer
        token_count(u.prompt_tokens) as n_prompt,
        token_count(u.completion_tokens) as n_completion,
        token_count(u.total_tokens) as n_total,
        token_count(u.input_tokens) as n_input,
        token_count(u.output_tokens) as n_output,
        token_count(u.prompt_tokens_details.cached_tokens) as n_cached,
        token_count(u.prompt_tokens_details.cache_write_tokens) as n_cache_write,
        token_count(u.prompt_tokens_details.audio_tokens) as n_audio_prompt,
        token_count(u.completion_tokens_details.reasoning_tokens) as n_reasoning,
        token_count(u.completion_tokens_details.audio_tokens) as n_audio_completion,
        token_count(u.input_tokens_details.cached_tokens) as n_input_cached,
        token_count(u.input_tokens_details.cache_write_tokens) as n_input_cache_write,
        token_count(u.output_tokens_details.reasoning_tokens) as n_output_reasoning,
        token_count(u.input_token_details.audio_tokens) as n_input_audio
    from located
),

fields as (
    select
        *,
        endpoint_text like 'audio.%' as is_audio,
        try_cast(logged_at_text as timestamptz) as logged_at_time,
        case
            when u.prompt_tokens is not null and n_prompt is null then 'prompt_tokens'
            when u.completion_tokens is not null and n_completion is null then 'completion_tokens'
            when u.total_tokens is not null and n_total is null then 'total_tokens'
            when u.input_tokens is not null and n_input is null then 'input_tokens'
            when u.output_tokens is not null and n_output is null then 'output_tokens'
            when u.prompt_tokens_details.cached_tokens is not null and n_cached is null then 'prompt_tokens_details.cached_tokens'
            when u.prompt_tokens_details.cache_write_tokens is not null and n_cache_write is null then 'prompt_tokens_details.cache_write_tokens'
            when u.prompt_tokens_details.audio_tokens is not null and n_audio_prompt is null then 'prompt_tokens_details.audio_tokens'
            when u.completion_tokens_details.reasoning_tokens is not null and n_reasoning is null then 'completion_tokens_details.reasoning_tokens'
            when u.completion_tokens_details.audio_tokens is not null and n_audio_completion is null then 'completion_tokens_details.audio_tokens'
            when u.input_tokens_details.cached_tokens is not null and n_input_cached is null then 'input_tokens_details.cached_tokens'
            when u.input_tokens_details.cache_write_tokens is not null and n_input_cache_write is null then 'input_tokens_details.cache_write_tokens'
            when u.output_tokens_details.reasoning_tokens is not null and n_output_reasoning is null then 'output_tokens_details.reasoning_tokens'
            when u.input_token_details.audio_tokens is not null and n_input_audio is null then 'input_token_details.audio_tokens'
        end as bad_token_field
    from texts
),

judged as (
    select
        *,
        case
            when not looks_like_object then
                case when json_valid(body) then 'not a JSON object' else 'not JSON' end
            when env is null then 'not JSON'
            when env.logged_at is null then 'logged_at is missing or null'
            when logged_at_text is null then 'logged_at is not a string'
            when not regexp_matches(logged_at_text, '^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$')
                or logged_at_time is null
                then 'logged_at is not an RFC 3339 timestamp with an offset'
            when env.client_id is null then 'client_id is missing or null'
            when client_id_text is null then 'client_id is not a string'
            when trim(client_id_text) = '' then 'client_id is empty'
            when env.provider is null then 'provider is missing or null'
            when provider_text is null or trim(provider_text) = '' then 'provider is not a non-empty string'
            when env.endpoint is null then 'endpoint is missing or null'
            when endpoint_text is null then 'endpoint is not a string'
            when endpoint_text not in ('chat.completions', 'responses', 'audio.transcriptions', 'audio.translations')
                then 'endpoint is not one of chat.completions, responses, audio.transcriptions, audio.translations'
            when env.event_id is not null and event_id_text is null then 'event_id is not a string'
            when env.conversation_id is not null and json_kind(env.conversation_id) not in ('VARCHAR', 'UBIGINT', 'BIGINT')
                then 'conversation_id is not a string'
            when env.phone is not null and json_kind(env.phone) not in ('VARCHAR', 'UBIGINT', 'BIGINT')
                then 'phone is not a string'
            when error_kind not in ('OBJECT', 'NULL') then 'error is not an object'
            when error_kind = 'OBJECT' and err.status is not null and json_kind(err.status) not in ('UBIGINT', 'BIGINT')
                then 'error.status is not an integer'
            when coalesce(response_kind, 'NULL') = 'NULL' and coalesce(error_kind, 'NULL') = 'NULL'
                then 'response is missing (and there is no error)'
            when response_kind not in ('OBJECT', 'NULL') then 'response is not an object'
            when request_kind not in ('OBJECT', 'NULL') then 'request is not an object'
            when is_audio and request_model_text is null
                then 'request.model is missing (audio endpoints name their model only in the request)'
            when bad_token_field is not null
                then usage_path || '.' || bad_token_field || ' is not a non-negative integer'
            when not seconds_ok(u.seconds) then usage_path || '.seconds is not a non-negative number'
            when not seconds_ok(resp.duration) then 'response.duration is not a non-negative number'
            when not seconds_ok(req.audio_seconds) then 'request.audio_seconds is not a non-negative number'
        end as reason
    from fields
),

read_out as (
    select
        *,
        coalesce(n_prompt, n_input) as prompt_tokens,
        coalesce(n_completion, n_output) as completion_tokens,
        n_total as reported_total_tokens,
        case
            when is_audio then coalesce(seconds_value(u.seconds), seconds_value(resp.duration), seconds_value(req.audio_seconds))
        end as audio_seconds,
        coalesce(error_kind = 'OBJECT', false) or (response_is_error_body and u is null) as failed
    from judged
),

final as (
    select
        coalesce(event_id_text, 'sha256:' || sha256(trim(body, chr(32) || chr(9) || chr(13) || chr(10)))) as event_id,
        client_id_text as client_id,
        coalesce(json_text(env.conversation_id), env.conversation_id ->> '$') as conversation_id,
        coalesce(json_text(env.phone), env.phone ->> '$') as phone,
        case when is_audio then 'whisper' else provider_text end as source,
        provider_text as provider,
        endpoint_text as endpoint,
        coalesce(json_text(resp.model), json_text(resp.response.model), request_model_text) as model,
        logged_at_time as created_at,
        prompt_tokens,
        completion_tokens,
        coalesce(reported_total_tokens, prompt_tokens + completion_tokens) as total_tokens,
        coalesce(n_cached, n_input_cached)
            as cached_tokens,
        coalesce(
            n_cache_write, n_input_cache_write
        ) as cache_write_tokens,
        coalesce(
            n_reasoning, n_output_reasoning
        ) as reasoning_tokens,
        coalesce(n_audio_prompt, n_input_audio)
            as audio_prompt_tokens,
        n_audio_completion as audio_completion_tokens,
        audio_seconds,
        (prompt_tokens is not null or completion_tokens is not null or audio_seconds is not null) as has_usage,
        failed as is_error,
        case when failed then try_cast(token_count(err.status) as integer) end as error_status,
        case
            when failed then coalesce(json_text(err.type), json_text(resp.error.type), json_text(resp.error.code))
        end as error_type,
        case
            when resp.x_groq.id is not null or u.queue_time is not null or u.total_time is not null then json_object(
                'x_groq_id', json_text(resp.x_groq.id),
                'queue_time', u.queue_time,
                'prompt_time', u.prompt_time,
                'completion_time', u.completion_time,
                'total_time', u.total_time
            )::varchar
        end as extras,
        raw_file,
        raw_line,
        reason
    from read_out
)

select * from final
