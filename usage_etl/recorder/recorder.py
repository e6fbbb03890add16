"""Record each finished OpenAI/Groq call as one line of the raw response log."""
from __future__ import annotations

import contextlib
import contextvars
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from usage_etl.recorder.envelope import (
    AUDIO_ENDPOINTS,
    ENDPOINTS,
    as_utc,
    body_of,
    build_envelope,
    carries_usage,
    endpoint_of,
    error_of,
    provider_of,
    to_line,
)
from usage_etl.recorder.files import DailyJsonlFiles

logger = logging.getLogger("usage_etl.recorder")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Return the current moment in UTC."""
    return datetime.now(timezone.utc)


def new_event_id() -> str:
    """Return a fresh random event id."""
    return uuid.uuid4().hex


@dataclass(frozen=True)
class CallContext:
    """Who a call was made for: the tenant, the end user's number and the conversation."""

    client_id: str | None = None
    phone: str | None = None
    conversation_id: str | None = None

    def over(self, base: CallContext) -> CallContext:
        """Return this context with its unset fields taken from `base`."""
        return CallContext(
            client_id=self.client_id if self.client_id is not None else base.client_id,
            phone=self.phone if self.phone is not None else base.phone,
            conversation_id=self.conversation_id if self.conversation_id is not None else base.conversation_id,
        )


_current_context: contextvars.ContextVar[CallContext] = contextvars.ContextVar("usage_call_context", default=CallContext())


@contextlib.contextmanager
def call_context(
    *, client_id: str | None = None, phone: str | None = None, conversation_id: str | None = None
) -> Iterator[CallContext]:
    """Set who the calls made inside the block are for (works across threads' and tasks' own contexts).

    Nested blocks add to the outer one: `with call_context(client_id=...)` once per request,
    then `with call_context(conversation_id=...)` deeper down.
    """
    ctx = CallContext(client_id, phone, conversation_id).over(_current_context.get())
    token = _current_context.set(ctx)
    try:
        yield ctx
    finally:
        _current_context.reset(token)


def current_context() -> CallContext:
    """Return the context set by the innermost `call_context` block."""
    return _current_context.get()


class Recorder:
    """Write one envelope per finished call under `root`, never raising an I/O error into the chatbot.

    Args:
        root: the raw-logs root; lines go to `root/YYYY/MM/DD/<writer>-<tag>.jsonl` by the UTC date of `logged_at`.
        writer: what writes the files (first part of the file name), e.g. `chatbot`.
        tag: second part of the file name; the host name when None. Processes sharing a tag share the file.
        clock: returns the moment a response arrived; inject a fixed one for deterministic logs.
        event_ids: returns a fresh event id per call; inject a seeded one for deterministic logs.
    """

    def __init__(
        self,
        root: Path | str,
        *,
        writer: str = "chatbot",
        tag: str | None = None,
        clock: Clock = utc_now,
        event_ids: Callable[[], str] = new_event_id,
    ) -> None:
        self.files = DailyJsonlFiles(root, writer, tag)
        self.clock = clock
        self.event_ids = event_ids

    def record(
        self,
        response: Any,
        *,
        client_id: str | None = None,
        phone: str | None = None,
        conversation_id: str | None = None,
        provider: str | None = None,
        endpoint: str | None = None,
        model: str | None = None,
        audio_seconds: float | None = None,
        stream: bool | None = None,
        response_format: str | None = None,
        event_id: str | None = None,
    ) -> str:
        """Append the envelope of one successful call and return its event id.

        `response` is the SDK's response object (chat completion, Responses API response, transcription,
        the usage chunk of a stream) or the body as a dict. `provider` and `endpoint` are worked out from
        an SDK object when not given; a dict from an audio endpoint needs both, and audio calls need `model`.
        Unset `client_id`, `phone`, `conversation_id` come from the enclosing `call_context`.
        """
        body = body_of(response)
        provider = provider or provider_of(response)
        endpoint = endpoint or endpoint_of(body) or _audio_endpoint_of(response)
        _check(provider, endpoint, model)
        return self._write(
            CallContext(client_id, phone, conversation_id), provider, endpoint, event_id,
            {"model": model, "audio_seconds": audio_seconds, "stream": stream, "response_format": response_format},
            response=body,
        )

    def record_error(
        self,
        exc: BaseException,
        *,
        provider: str,
        endpoint: str,
        client_id: str | None = None,
        phone: str | None = None,
        conversation_id: str | None = None,
        model: str | None = None,
        audio_seconds: float | None = None,
        stream: bool | None = None,
        response_format: str | None = None,
        event_id: str | None = None,
    ) -> str:
        """Append the envelope of a failed call (`error` instead of `response`) and return its event id.

        The caller re-raises `exc`; this only logs it.
        """
        _check(provider, endpoint, model)
        return self._write(
            CallContext(client_id, phone, conversation_id), provider, endpoint, event_id,
            {"model": model, "audio_seconds": audio_seconds, "stream": stream, "response_format": response_format},
            error=error_of(exc),
        )

    def record_stream(self, sdk_stream: Any, /, **call: Any) -> RecordedStream | AsyncRecordedStream:
        """Wrap an SDK stream so it yields the same chunks and logs the one with the usage when it ends.

        `call` takes the keyword arguments of `record` (`provider` and `endpoint` required).
        Both sync (`Stream`) and async (`AsyncStream`) streams are accepted.
        """
        call.pop("stream", None)
        _check(call.get("provider"), call.get("endpoint"), call.get("model"))
        if hasattr(sdk_stream, "__aiter__"):
            return AsyncRecordedStream(sdk_stream, self, call)
        return RecordedStream(sdk_stream, self, call)

    def _write(
        self, ctx: CallContext, provider: str, endpoint: str, event_id: str | None, request: dict, **outcome: Any
    ) -> str:
        ctx = ctx.over(_current_context.get())
        event_id = event_id or self.event_ids()
        try:
            if ctx.client_id is None:
                # Still written: the ETL quarantines it with its raw text instead of the call vanishing.
                logger.error("usage log line %s has no client_id: set it with recorded(...) or call_context", event_id)
            logged_at = as_utc(self.clock())
            envelope = build_envelope(
                logged_at=logged_at, event_id=event_id, client_id=ctx.client_id, provider=provider,
                endpoint=endpoint, conversation_id=ctx.conversation_id, phone=ctx.phone, request=request, **outcome,
            )
            line = to_line(envelope)
        except Exception:  # a response we cannot serialise must not break the call
            logger.exception("usage log line %s could not be built", event_id)
            return event_id
        self.files.append(logged_at.date(), line)
        return event_id


def _audio_endpoint_of(response: Any) -> str | None:
    name = type(response).__name__
    if name.startswith("Transcription"):
        return "audio.transcriptions"
    if name.startswith("Translation"):
        return "audio.translations"
    return None


def _check(provider: str | None, endpoint: str | None, model: str | None) -> None:
    """Refuse calls a line could not describe: these are mistakes in the calling code, found on first use."""
    if not provider:
        raise ValueError("provider is needed for a response given as a dict ('openai' or 'groq')")
    if endpoint not in ENDPOINTS:
        raise ValueError(f"endpoint must be one of {', '.join(ENDPOINTS)}; got {endpoint!r}")
    if endpoint in AUDIO_ENDPOINTS and not model:
        raise ValueError("model is needed for audio endpoints: their responses name no model")


class _StreamLog:
    """What a stream wrapper keeps to log the call once: the usage chunk, else the last chunk."""

    def __init__(self, recorder: Recorder, call: dict) -> None:
        self.recorder = recorder
        # Fix the context now: the stream may be read to its end in another task or thread.
        ctx = CallContext(call.pop("client_id", None), call.pop("phone", None), call.pop("conversation_id", None))
        self.ctx = ctx.over(_current_context.get())
        self.call = {**call, "stream": True}
        self.usage_chunk: Any = None
        self.last_chunk: Any = None
        self.done = False

    def seen(self, chunk: Any) -> None:
        self.last_chunk = chunk
        if carries_usage(chunk):
            self.usage_chunk = chunk

    def finish(self) -> None:
        """Log the call once: its usage chunk, else its last chunk (the ETL flags that as no usage)."""
        if self.done:
            return
        self.done = True
        chunk = self.usage_chunk if self.usage_chunk is not None else self.last_chunk
        if chunk is None:
            logger.warning("stream closed before its first chunk: nothing to log")
            return
        if self.usage_chunk is None:
            logger.warning(
                "stream ended without a usage chunk; for OpenAI chat pass stream_options={'include_usage': True}"
            )
        try:
            self.recorder.record(chunk, **self.call, **_ctx_kwargs(self.ctx))
        except Exception:
            logger.exception("stream usage could not be logged")

    def failed(self, exc: BaseException) -> None:
        if self.done:
            return
        self.done = True
        try:
            self.recorder.record_error(exc, **self.call, **_ctx_kwargs(self.ctx))
        except Exception:
            logger.exception("stream error could not be logged")


def _ctx_kwargs(ctx: CallContext) -> dict:
    return {"client_id": ctx.client_id, "phone": ctx.phone, "conversation_id": ctx.conversation_id}


class RecordedStream:
    """Yield an SDK stream's chunks unchanged and log the call when the stream ends or is closed."""

    def __init__(self, stream: Any, recorder: Recorder, call: dict) -> None:
        self._stream = stream
        self._log = _StreamLog(recorder, dict(call))
        self._iterator = iter(stream)

    def __iter__(self) -> RecordedStream:
        return self

    def __next__(self) -> Any:
        try:
            chunk = next(self._iterator)
        except StopIteration:
            self._log.finish()
            raise
        except Exception as exc:
            self._log.failed(exc)
            raise
        self._log.seen(chunk)
        return chunk

    def __enter__(self) -> RecordedStream:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying stream and log what was seen of it."""
        try:
            close = getattr(self._stream, "close", None)
            if close is not None:
                close()
        finally:
            self._log.finish()

    def __getattr__(self, name: str) -> Any:  # `response`, `until_done`, ... of the SDK stream
        return getattr(self._stream, name)

    def __del__(self) -> None:
        # A caller that stops reading without closing still gets its call logged.
        log = self.__dict__.get("_log")
        if log is not None and not log.done:
            log.finish()


class AsyncRecordedStream:
    """Async twin of `RecordedStream` for `AsyncStream`."""

    def __init__(self, stream: Any, recorder: Recorder, call: dict) -> None:
        self._stream = stream
        self._log = _StreamLog(recorder, dict(call))
        self._iterator = stream.__aiter__()

    def __aiter__(self) -> AsyncRecordedStream:
        return self

    async def __anext__(self) -> Any:
        try:
            chunk = await self._iterator.__anext__()
        except StopAsyncIteration:
            self._log.finish()
            raise
        except Exception as exc:
            self._log.failed(exc)
            raise
        self._log.seen(chunk)
        return chunk

    async def __aenter__(self) -> AsyncRecordedStream:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the underlying stream and log what was seen of it."""
        try:
            close = getattr(self._stream, "close", None)
            if close is not None:
                await close()
        finally:
            self._log.finish()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def __del__(self) -> None:
        log = self.__dict__.get("_log")
        if log is not None and not log.done:
            log.finish()
