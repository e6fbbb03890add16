"""Build one log line (the envelope of docs/spec: response-log v1) from what an SDK call gave back."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

ENDPOINTS = ("chat.completions", "responses", "audio.transcriptions", "audio.translations")
AUDIO_ENDPOINTS = ("audio.transcriptions", "audio.translations")

# Stream events after which a Responses API stream is over; each carries the whole response with its usage.
RESPONSES_FINAL_EVENTS = ("response.completed", "response.incomplete", "response.failed")
TRANSCRIPTION_FINAL_EVENT = "transcript.text.done"


def body_of(obj: Any) -> dict:
    """Return a response object as the JSON object the provider sent.

    SDK models are dumped with the API's own key names and only the keys the API sent
    (`exclude_unset`), so extras such as Groq's `x_groq` survive and no default is invented.
    A plain string (transcription with `response_format="text"`, `srt`, `vtt`) becomes `{"text": ...}`.
    """
    if isinstance(obj, dict):
        return obj
    if isinstance(obj, str):
        return {"text": obj}
    to_dict = getattr(obj, "to_dict", None)
    if callable(to_dict):  # openai / groq (Stainless) models
        return to_dict(mode="json", use_api_names=True, exclude_unset=True, warnings=False)
    model_dump = getattr(obj, "model_dump", None)
    if callable(model_dump):  # any other pydantic model
        return model_dump(mode="json", by_alias=True, exclude_unset=True, warnings=False)
    raise TypeError(f"cannot log a response of type {type(obj).__name__}: pass an SDK response or a dict")


def provider_of(obj: Any) -> str | None:
    """Name the provider whose SDK made `obj` (`openai`, `groq`), or None for a dict or unknown type."""
    root = type(obj).__module__.split(".", 1)[0]
    return root if root in ("openai", "groq") else None


def endpoint_of(body: dict) -> str | None:
    """Name the endpoint a response body came from, when its shape says so (audio bodies do not)."""
    obj = body.get("object")
    if obj in ("chat.completion", "chat.completion.chunk"):
        return "chat.completions"
    if obj == "response" or str(body.get("type", "")).startswith("response."):
        return "responses"
    if str(body.get("type", "")).startswith("transcript."):
        return "audio.transcriptions"
    return None


def carries_usage(chunk: Any) -> bool:
    """Say whether a stream chunk or event is the one to log: it carries the call's usage."""
    if isinstance(chunk, dict):
        x_groq = chunk.get("x_groq")
        kind = chunk.get("type")
        return (
            chunk.get("usage") is not None
            or (isinstance(x_groq, dict) and x_groq.get("usage") is not None)
            or kind in RESPONSES_FINAL_EVENTS
            or kind == TRANSCRIPTION_FINAL_EVENT
        )
    kind = getattr(chunk, "type", None)
    return (
        getattr(chunk, "usage", None) is not None
        or getattr(getattr(chunk, "x_groq", None), "usage", None) is not None
        or kind in RESPONSES_FINAL_EVENTS
        or kind == TRANSCRIPTION_FINAL_EVENT
    )


def error_of(exc: BaseException) -> dict:
    """Describe a failed call as `{"status", "type", "message"}`; status is null when no HTTP answer came."""
    status = getattr(exc, "status_code", None)
    body = getattr(exc, "body", None)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):  # groq keeps the outer {"error": ...}
        body = body["error"]
    detail = body if isinstance(body, dict) else {}
    kind = detail.get("type") or detail.get("code") or type(exc).__name__
    message = detail.get("message") or getattr(exc, "message", None) or str(exc)
    return {"status": status if isinstance(status, int) else None, "type": str(kind), "message": str(message)}


def as_utc(moment: datetime) -> datetime:
    """Return `moment` in UTC; a naive moment is taken as UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def rfc3339(moment: datetime) -> str:
    """Format a moment in UTC as RFC 3339 with an explicit offset and milliseconds."""
    return as_utc(moment).isoformat(timespec="milliseconds")


def build_envelope(
    *,
    logged_at: datetime,
    event_id: str,
    client_id: str | None,
    provider: str,
    endpoint: str,
    conversation_id: str | None,
    phone: str | None,
    request: dict,
    response: dict | None = None,
    error: dict | None = None,
) -> dict:
    """Put the fields of one line in the spec's order; `request` keeps only the keys that are known."""
    envelope: dict[str, Any] = {
        "logged_at": rfc3339(logged_at),
        "event_id": event_id,
        "client_id": client_id,
        "provider": provider,
        "endpoint": endpoint,
        "conversation_id": conversation_id,
        "phone": phone,
    }
    request = {k: v for k, v in request.items() if v is not None}
    if request:
        envelope["request"] = request
    if error is not None:
        envelope["error"] = error
    else:
        envelope["response"] = response
    return envelope


def to_line(envelope: dict) -> bytes:
    """Serialise an envelope as one UTF-8 JSON line ending in a newline (JSON escapes any newline inside)."""
    text = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False)
    return text.encode("utf-8") + b"\n"
