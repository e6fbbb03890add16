"""Wrap an `openai` / `groq` client so its chat, responses and audio calls are logged, calling code unchanged."""
from __future__ import annotations

import functools
import inspect
import logging
from typing import Any

from usage_etl.recorder.envelope import AUDIO_ENDPOINTS
from usage_etl.recorder.recorder import CallContext, Recorder, current_context

logger = logging.getLogger("usage_etl.recorder")

# The attribute paths that make calls, and the endpoint each logs as. Everything else passes through.
ROUTES: dict[str, Any] = {
    "chat": {"completions": {"create": "chat.completions"}},
    "responses": {"create": "responses"},
    "audio": {
        "transcriptions": {"create": "audio.transcriptions"},
        "translations": {"create": "audio.translations"},
    },
}
# Keywords a recorded call accepts on top of the SDK's own; they are taken out before the SDK sees the call.
CALL_KEYWORDS = ("client_id", "phone", "conversation_id", "audio_seconds")


def recorded(
    client: Any,
    recorder: Recorder,
    *,
    client_id: str | None = None,
    phone: str | None = None,
    conversation_id: str | None = None,
    provider: str | None = None,
) -> Any:
    """Return `client` with its chat, responses and transcription/translation calls logged by `recorder`.

    Args:
        client: an `openai.OpenAI`, `openai.AsyncOpenAI`, `groq.Groq` or `groq.AsyncGroq` client.
        recorder: where the lines go.
        client_id: the tenant every call is for, unless a call or `call_context` says otherwise.
        phone: the end user's number, when one client object serves one user.
        conversation_id: the conversation, likewise.
        provider: the provider to log; taken from the client's package (`openai`, `groq`) when None.

    Each recorded call also takes the keywords `client_id`, `phone`, `conversation_id` and
    `audio_seconds` (the length of the audio sent, measured by the chatbot); a keyword wins over
    `call_context`, which wins over the values given here. A failed call is logged as an `error`
    line and its exception re-raised unchanged; a streamed call is logged when the stream ends.
    """
    root = type(client).__module__.split(".", 1)[0]
    provider = provider or root
    if provider not in ("openai", "groq"):
        raise ValueError(f"cannot tell the provider of a {type(client).__name__}: pass provider=")
    return _Recorded(client, ROUTES, _Calls(recorder, provider, CallContext(client_id, phone, conversation_id)))


class _Calls:
    """What every wrapped method of one recorded client shares."""

    def __init__(self, recorder: Recorder, provider: str, defaults: CallContext) -> None:
        self.recorder = recorder
        self.provider = provider
        self.defaults = defaults

    def details(self, endpoint: str, kwargs: dict) -> dict:
        """Take our keywords out of `kwargs` and return the `record` arguments of this call."""
        ours = {k: kwargs.pop(k) for k in CALL_KEYWORDS if k in kwargs}
        ctx = CallContext(ours.get("client_id"), ours.get("phone"), ours.get("conversation_id"))
        ctx = ctx.over(current_context()).over(self.defaults)
        response_format = kwargs.get("response_format")
        return {
            "provider": self.provider,
            "endpoint": endpoint,
            "client_id": ctx.client_id,
            "phone": ctx.phone,
            "conversation_id": ctx.conversation_id,
            "model": kwargs.get("model") if isinstance(kwargs.get("model"), str) else None,
            "audio_seconds": ours.get("audio_seconds"),
            "stream": bool(kwargs.get("stream")),
            # A chat `response_format` is a schema, not a billing fact: only audio formats are kept.
            "response_format": response_format if endpoint in AUDIO_ENDPOINTS and isinstance(response_format, str) else None,
        }

    def wrap(self, method: Any, endpoint: str) -> Any:
        """Return `method` logging each call as `endpoint`; an async client's call stays awaitable."""

        @functools.wraps(method)
        def call_logged(*args: Any, **kwargs: Any) -> Any:
            call = self.details(endpoint, kwargs)
            try:
                result = method(*args, **kwargs)
            except _api_errors() as exc:
                self._safely(self.recorder.record_error, exc, call)
                raise
            if inspect.isawaitable(result):  # async clients (some of their methods are not `async def`)
                return self._awaited(result, call)
            return self._finished(result, call)

        return call_logged

    async def _awaited(self, pending: Any, call: dict) -> Any:
        try:
            result = await pending
        except _api_errors() as exc:
            self._safely(self.recorder.record_error, exc, call)
            raise
        return self._finished(result, call)

    def _finished(self, result: Any, call: dict) -> Any:
        if call["stream"]:
            try:
                return self.recorder.record_stream(result, **call)
            except Exception:
                logger.exception("streamed call of %s not logged", call.get("endpoint"))
                return result
        self._safely(self.recorder.record, result, call)
        return result

    @staticmethod
    def _safely(write: Any, what: Any, call: dict) -> None:
        try:
            write(what, **call)
        except Exception:  # the chatbot's call already succeeded or failed on its own; logging must not change that
            logger.exception("call of %s not logged", call.get("endpoint"))


@functools.cache
def _api_errors() -> tuple[type[BaseException], ...]:
    """Return the SDKs' base error class (status errors, timeouts, connection errors), for SDKs installed."""
    errors: list[type[BaseException]] = []
    for package in ("openai", "groq"):
        try:
            errors.append(__import__(package).APIError)
        except (ImportError, AttributeError):
            pass
    return tuple(errors)


class _Recorded:
    """A stand-in for an SDK object: calls on `routes` are logged, every other attribute is the SDK's own."""

    def __init__(self, target: Any, routes: dict[str, Any], calls: _Calls) -> None:
        self._target = target
        self._routes = routes
        self._calls = calls

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        route = self._routes.get(name)
        if isinstance(route, str):
            return self._calls.wrap(value, route)
        if isinstance(route, dict):
            return _Recorded(value, route, self._calls)
        if name in ("with_options", "copy") and self._routes is ROUTES:
            # A client derived with other options is logged the same way.
            return lambda *a, **kw: _Recorded(value(*a, **kw), ROUTES, self._calls)
        return value

    def __repr__(self) -> str:
        return f"recorded({self._target!r})"

    async def __aenter__(self) -> _Recorded:
        await self._target.__aenter__()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self._target.__aexit__(*exc_info)

    def __enter__(self) -> _Recorded:
        self._target.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._target.__exit__(*exc_info)
