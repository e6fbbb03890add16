"""Provider-shaped response bodies for the stand-in server, modelled on real recorded bodies (../shared/fixtures/real)."""
from __future__ import annotations

from typing import Any


def openai_chat(
    model: str, prompt: int, completion: int, *, cached: int = 0, reasoning: int = 0,
    content: str = "OK", id: str = "chatcmpl-standin", created: int = 1_763_000_000,
) -> dict:
    """Return an OpenAI chat completion with full usage details."""
    return {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": None, "annotations": []},
            "logprobs": None,
            "finish_reason": "stop",
        }],
        "usage": _openai_chat_usage(prompt, completion, cached, reasoning),
        "service_tier": "default",
        "system_fingerprint": "fp_standin",
    }


def _openai_chat_usage(prompt: int, completion: int, cached: int, reasoning: int) -> dict:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": reasoning, "audio_tokens": 0,
            "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0,
        },
    }


def openai_chat_chunks(
    model: str, pieces: list[str], prompt: int, completion: int, *, cached: int = 0,
    include_usage: bool = True, id: str = "chatcmpl-standin", created: int = 1_763_000_000,
) -> list[dict]:
    """Return the chunks of a streamed OpenAI chat; with `include_usage` the last one has the usage and no choices."""
    base = {"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "service_tier": "default", "system_fingerprint": "fp_standin"}
    usage_null = {"usage": None} if include_usage else {}
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": "", "refusal": None},
                                    "logprobs": None, "finish_reason": None}], **usage_null}]
    for piece in pieces:
        chunks.append({**base, "choices": [{"index": 0, "delta": {"content": piece}, "logprobs": None,
                                            "finish_reason": None}], **usage_null})
    chunks.append({**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}], **usage_null})
    if include_usage:
        chunks.append({**base, "choices": [], "usage": _openai_chat_usage(prompt, completion, cached, 0)})
    return chunks


def _groq_usage(prompt: int, completion: int, *, cached: int | None, reasoning: int | None) -> dict:
    # Groq leaves out a detail that does not apply; its timings are seconds.
    usage: dict[str, Any] = {
        "queue_time": round(0.02 + prompt / 100_000, 9),
        "prompt_tokens": prompt,
        "prompt_time": round(prompt / 50_000, 9),
        "completion_tokens": completion,
        "completion_time": round(completion / 400, 9),
        "total_tokens": prompt + completion,
        "total_time": round(prompt / 50_000 + completion / 400, 9),
    }
    if cached is not None:
        usage["prompt_tokens_details"] = {"cached_tokens": cached}
    if reasoning is not None:
        usage["completion_tokens_details"] = {"reasoning_tokens": reasoning}
    return usage


def groq_chat(
    model: str, prompt: int, completion: int, *, cached: int | None = None, reasoning: int | None = None,
    content: str = "OK", id: str = "chatcmpl-standin", request_id: str = "req_standin", created: int = 1_763_000_000,
) -> dict:
    """Return a Groq chat completion (timings in usage, `x_groq.id`)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        message["reasoning"] = "Thinking about the answer."
    return {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
        "usage": _groq_usage(prompt, completion, cached=cached, reasoning=reasoning),
        "usage_breakdown": None,
        "system_fingerprint": "fp_standin",
        "x_groq": {"id": request_id},
        "service_tier": "on_demand",
    }


def groq_chat_chunks(
    model: str, pieces: list[str], prompt: int, completion: int, *, top_level_usage: bool = False,
    id: str = "chatcmpl-standin", request_id: str = "req_standin", created: int = 1_763_000_000,
) -> list[dict]:
    """Return the chunks of a streamed Groq chat: the last carries `x_groq.usage` (and `usage` too when asked)."""
    base = {"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
            "system_fingerprint": "fp_standin"}
    chunks = [{**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None,
                                    "finish_reason": None}], "x_groq": {"id": request_id}}]
    for piece in pieces:
        chunks.append({**base, "choices": [{"index": 0, "delta": {"content": piece}, "logprobs": None,
                                            "finish_reason": None}]})
    usage = _groq_usage(prompt, completion, cached=None, reasoning=None)
    last = {**base, "choices": [{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}],
            "x_groq": {"id": request_id, "usage": usage}}
    if top_level_usage:
        last["usage"] = dict(usage)
    chunks.append(last)
    return chunks


def openai_response(
    model: str, input_tokens: int, output_tokens: int, *, cached: int = 0, reasoning: int = 0,
    text: str = "OK", id: str = "resp_standin", created: int = 1_763_000_000,
) -> dict:
    """Return a Responses API response object."""
    return {
        "id": id,
        "object": "response",
        "created_at": created,
        "status": "completed",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": None,
        "model": model,
        "output": [{
            "id": f"msg_{id}",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "annotations": [], "logprobs": [], "text": text}],
        }],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": True,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": input_tokens,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": output_tokens,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": input_tokens + output_tokens,
        },
        "user": None,
        "metadata": {},
    }


def openai_response_events(
    model: str, input_tokens: int, output_tokens: int, *, text: str = "OK", id: str = "resp_standin",
    created: int = 1_763_000_000,
) -> list[tuple[str, dict]]:
    """Return the (event, data) pairs of a streamed Responses API call, ending in `response.completed`."""
    done = openai_response(model, input_tokens, output_tokens, text=text, id=id, created=created)
    started = {**done, "status": "in_progress", "output": [], "usage": None}
    events = [
        {"type": "response.created", "sequence_number": 0, "response": started},
        {"type": "response.output_text.delta", "sequence_number": 1, "item_id": f"msg_{id}", "output_index": 0,
         "content_index": 0, "delta": text, "logprobs": []},
        {"type": "response.completed", "sequence_number": 2, "response": done},
    ]
    return [(e["type"], e) for e in events]


def openai_transcription_tokens(text: str, audio_tokens: int, output_tokens: int, *, text_tokens: int = 0) -> dict:
    """Return a gpt-4o(-mini)-transcribe `json` body billed by tokens."""
    return {
        "text": text,
        "usage": {
            "type": "tokens",
            "input_tokens": audio_tokens + text_tokens,
            "input_token_details": {"text_tokens": text_tokens, "audio_tokens": audio_tokens},
            "output_tokens": output_tokens,
            "total_tokens": audio_tokens + text_tokens + output_tokens,
        },
    }


def whisper_verbose(text: str, duration: float, *, billed_seconds: int | None = None, language: str = "portuguese") -> dict:
    """Return a whisper-1 `verbose_json` body; OpenAI adds `usage.seconds` (billed, rounded up)."""
    body: dict[str, Any] = {
        "task": "transcribe",
        "language": language,
        "duration": duration,
        "text": text,
        "segments": [{
            "id": 0, "seek": 0, "start": 0.0, "end": duration, "text": text, "tokens": [50364, 50414],
            "temperature": 0.0, "avg_logprob": -0.25, "compression_ratio": 1.1, "no_speech_prob": 0.01,
        }],
    }
    if billed_seconds is not None:
        body["usage"] = {"type": "duration", "seconds": billed_seconds}
    return body


def groq_transcription_verbose(text: str, duration: float, *, request_id: str = "req_standin", language: str = "Portuguese") -> dict:
    """Return a Groq Whisper `verbose_json` body: `duration`, never `usage`."""
    return {
        "task": "transcribe",
        "language": language,
        "duration": duration,
        "text": text,
        "segments": [{
            "id": 0, "seek": 0, "start": 0, "end": duration, "text": text, "tokens": [50365, 50415],
            "temperature": 0, "avg_logprob": -0.2, "compression_ratio": 1.05, "no_speech_prob": 0.02,
        }],
        "x_groq": {"id": request_id},
    }


def groq_transcription_json(text: str, *, request_id: str = "req_standin") -> dict:
    """Return a Groq Whisper `json` body: text only, no audio length."""
    return {"text": text, "x_groq": {"id": request_id}}


def openai_error(status: int, model: str = "gpt-4o-mini") -> dict:
    """Return OpenAI's error body for a rate limit (429) or a server error (5xx)."""
    if status == 429:
        return {"error": {
            "message": f"Rate limit reached for {model} in organization org-standin on requests per min (RPM): "
                       "Limit 500, Used 500, Requested 1. Please try again in 120ms.",
            "type": "requests", "param": None, "code": "rate_limit_exceeded",
        }}
    return {"error": {
        "message": "The server had an error while processing your request. Sorry about that!",
        "type": "server_error", "param": None, "code": None,
    }}


def groq_error(status: int, model: str = "llama-3.3-70b-versatile") -> dict:
    """Return Groq's error body for a rate limit (429) or a server error (5xx)."""
    if status == 429:
        return {"error": {
            "message": f"Rate limit reached for model `{model}` in organization `org_standin` service tier `on_demand` "
                       "on tokens per minute (TPM): Limit 12000, Used 11950, Requested 420. Please try again in 1.85s.",
            "type": "tokens", "code": "rate_limit_exceeded",
        }}
    return {"error": {"message": "Internal Server Error", "type": "internal_server_error"}}
