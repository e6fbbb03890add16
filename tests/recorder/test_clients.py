"""Real openai/groq SDK clients, recorded, against the local stand-in API: what each call logs."""
from __future__ import annotations

import asyncio
import json

import groq
import openai
import pytest

from usage_etl.recorder import call_context, recorded
from usage_etl.recorder import shapes

AUDIO = ("voice.ogg", b"OggS\x00\x02" + bytes(32))


def test_openai_chat_logs_the_envelope_exactly(read_log, server, openai_client, log_root):
    body = shapes.openai_chat("gpt-4o-mini", 1200, 100, cached=1024, content="Olá!", id="chatcmpl-1", created=1763649000)
    server.reply(body)

    completion = openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "oi"}],
        phone="+5511987654321", conversation_id="conv-1",
    )

    assert completion.choices[0].message.content == "Olá!"
    assert server.requests[0].path == "/v1/chat/completions"
    assert "phone" not in server.requests[0].json()  # our keywords never reach the provider
    path = log_root / "2026" / "11" / "20" / "chatbot-test.jsonl"
    assert path.read_text(encoding="utf-8") == json.dumps({
        "logged_at": "2026-11-20T14:30:05.250+00:00",
        "event_id": "evt-0001",
        "client_id": "acme-clinic",
        "provider": "openai",
        "endpoint": "chat.completions",
        "conversation_id": "conv-1",
        "phone": "+5511987654321",
        "request": {"model": "gpt-4o-mini", "stream": False},
        "response": json.loads(path.read_text())["response"],
    }, ensure_ascii=False, separators=(",", ":")) + "\n"
    assert read_log()[0]["response"] == body


def test_groq_chat_keeps_timings_and_x_groq(read_log, server, groq_client, log_root):
    body = shapes.groq_chat("llama-3.3-70b-versatile", 150, 80, request_id="req_01abc")
    server.reply(body)

    groq_client.chat.completions.create(model="llama-3.3-70b-versatile", messages=[{"role": "user", "content": "oi"}])

    assert server.requests[0].path == "/openai/v1/chat/completions"
    [line] = read_log()
    assert (line["provider"], line["endpoint"], line["client_id"]) == ("groq", "chat.completions", "padaria-sol")
    assert line["response"] == body
    assert line["response"]["x_groq"] == {"id": "req_01abc"}
    assert line["response"]["usage"]["queue_time"] == body["usage"]["queue_time"]
    assert "prompt_tokens_details" not in line["response"]["usage"]  # Groq leaves it out; so does the log


def test_openai_stream_yields_every_chunk_and_logs_the_usage_chunk(read_log, server, openai_client, log_root):
    chunks = shapes.openai_chat_chunks("gpt-4o-mini", ["Bom ", "dia"], 40, 3, cached=0)
    server.reply_stream(chunks)

    stream = openai_client.chat.completions.create(
        model="gpt-4o-mini", messages=[], stream=True, stream_options={"include_usage": True})
    seen = [c.to_dict() for c in stream]

    assert seen == chunks  # the caller gets the chunks unchanged, usage chunk included
    [line] = read_log()
    assert line["request"] == {"model": "gpt-4o-mini", "stream": True}
    assert line["response"] == chunks[-1]
    assert line["response"]["choices"] == []
    assert line["response"]["usage"]["prompt_tokens"] == 40


@pytest.mark.parametrize("top_level_usage", [False, True], ids=["x_groq-usage-only", "both-usages"])
def test_groq_stream_logs_the_chunk_with_x_groq_usage(read_log, server, groq_client, log_root, top_level_usage):
    chunks = shapes.groq_chat_chunks("llama-3.3-70b-versatile", ["Oi", "!"], 45, 662, top_level_usage=top_level_usage)
    server.reply_stream(chunks)

    with groq_client.chat.completions.create(model="llama-3.3-70b-versatile", messages=[], stream=True) as stream:
        text = "".join(c.choices[0].delta.content or "" for c in stream)

    assert text == "Oi!"
    [line] = read_log()
    assert line["response"] == chunks[-1]
    assert line["response"]["x_groq"]["usage"]["completion_tokens"] == 662
    assert ("usage" in line["response"]) is top_level_usage


def test_stream_without_usage_logs_its_last_chunk(read_log, server, openai_client, log_root):
    chunks = shapes.openai_chat_chunks("gpt-4o-mini", ["a"], 10, 1, include_usage=False)
    server.reply_stream(chunks)

    for _ in openai_client.chat.completions.create(model="gpt-4o-mini", messages=[], stream=True):
        pass

    [line] = read_log()
    assert line["response"] == chunks[-1]  # no usage: the ETL loads it with cost unknown, flagged
    assert "usage" not in line["response"]


def test_stream_closed_early_is_logged_once(read_log, server, openai_client, log_root):
    server.reply_stream(shapes.openai_chat_chunks("gpt-4o-mini", ["a", "b", "c"], 10, 3))

    stream = openai_client.chat.completions.create(model="gpt-4o-mini", messages=[], stream=True)
    first = next(iter(stream))
    stream.close()
    stream.close()

    assert first.choices[0].delta.role == "assistant"
    [line] = read_log()
    assert line["response"]["choices"][0]["delta"]["role"] == "assistant"


def test_responses_api_call(read_log, server, openai_client, log_root):
    body = shapes.openai_response("gpt-4o-2024-08-06", 2000, 50, cached=1792, reasoning=0, id="resp_1")
    server.reply(body)

    response = openai_client.responses.create(model="gpt-4o-2024-08-06", input="oi", conversation_id="c-9")

    assert response.output_text == "OK"
    assert server.requests[0].path == "/v1/responses"
    [line] = read_log()
    assert (line["endpoint"], line["conversation_id"]) == ("responses", "c-9")
    assert line["response"] == body


def test_responses_api_stream_logs_the_completed_event(read_log, server, openai_client, log_root):
    events = shapes.openai_response_events("gpt-4o-mini", 300, 12, text="Pronto", id="resp_2")
    server.reply_stream(events, done_marker=False)

    types = [e.type for e in openai_client.responses.create(model="gpt-4o-mini", input="oi", stream=True)]

    assert types == ["response.created", "response.output_text.delta", "response.completed"]
    [line] = read_log()
    assert line["response"] == events[-1][1]
    assert line["response"]["response"]["usage"]["input_tokens"] == 300


@pytest.mark.parametrize(
    ("make_client", "model", "response_format", "body"),
    [
        ("openai", "whisper-1", "json", {"text": "Oi, tudo bem?"}),
        ("openai", "whisper-1", "verbose_json", shapes.whisper_verbose("Oi", 36.71, billed_seconds=37)),
        ("openai", "gpt-4o-mini-transcribe", "json", shapes.openai_transcription_tokens("Oi", 122, 47)),
        ("groq", "whisper-large-v3-turbo", "json", shapes.groq_transcription_json("Oi", request_id="req_9")),
        ("groq", "whisper-large-v3-turbo", "verbose_json", shapes.groq_transcription_verbose("Oi", 2.507750144)),
    ],
    ids=["openai-json", "whisper-verbose_json", "mini-transcribe-tokens", "groq-json", "groq-verbose_json"],
)
def test_transcription(read_log, server, openai_client, groq_client, log_root, make_client, model, response_format, body):
    client = openai_client if make_client == "openai" else groq_client
    server.reply(body)

    client.audio.transcriptions.create(file=AUDIO, model=model, response_format=response_format, audio_seconds=4.2)

    assert server.requests[0].path.endswith("/v1/audio/transcriptions")
    assert b"voice.ogg" in server.requests[0].body
    [line] = read_log()
    assert line["endpoint"] == "audio.transcriptions"
    assert line["provider"] == make_client
    assert line["request"] == {"model": model, "audio_seconds": 4.2, "stream": False, "response_format": response_format}
    assert line["response"] == body


def test_text_transcription_is_logged_as_a_text_object(read_log, server, openai_client, log_root):
    server.reply("Oi, tudo bem?\n")

    text = openai_client.audio.transcriptions.create(file=AUDIO, model="whisper-1", response_format="text",
                                                     audio_seconds=3.0)

    assert text == "Oi, tudo bem?\n"
    [line] = read_log()
    assert line["response"] == {"text": "Oi, tudo bem?\n"}
    assert line["request"]["audio_seconds"] == 3.0


def test_translation(read_log, server, groq_client, log_root):
    server.reply(shapes.groq_transcription_verbose("Hello", 12.5))

    groq_client.audio.translations.create(file=AUDIO, model="whisper-large-v3", response_format="verbose_json")

    [line] = read_log()
    assert (line["endpoint"], line["request"]["model"], line["response"]["duration"]) == (
        "audio.translations", "whisper-large-v3", 12.5)


@pytest.mark.parametrize(
    ("provider", "status", "error_class", "expected"),
    [
        ("openai", 429, openai.RateLimitError, {"status": 429, "type": "requests"}),
        ("openai", 500, openai.InternalServerError, {"status": 500, "type": "server_error"}),
        ("groq", 429, groq.RateLimitError, {"status": 429, "type": "tokens"}),
        ("groq", 500, groq.InternalServerError, {"status": 500, "type": "internal_server_error"}),
    ],
    ids=["openai-429", "openai-500", "groq-429", "groq-500"],
)
def test_failed_call_is_logged_and_reraised_unchanged(
    read_log, server, openai_client, groq_client, log_root, provider, status, error_class, expected
):
    body = shapes.openai_error(status) if provider == "openai" else shapes.groq_error(status)
    server.reply(body, status=status)
    client = openai_client if provider == "openai" else groq_client

    with pytest.raises(error_class) as raised:
        client.chat.completions.create(model="gpt-4o-mini", messages=[], phone="+5521998765432")

    assert type(raised.value) is error_class
    assert raised.value.status_code == status
    assert len(server.requests) == 1  # one call, no retry behind our back
    [line] = read_log()
    assert line["error"] == {**expected, "message": body["error"]["message"]}
    assert "response" not in line
    assert (line["provider"], line["phone"], line["request"]["model"]) == (provider, "+5521998765432", "gpt-4o-mini")


def test_timeout_is_logged_with_no_status(read_log, recorder, log_root):
    # Nothing listens on this port: the SDK's connection error, logged with status null.
    client = recorded(openai.OpenAI(base_url="http://127.0.0.1:9/v1", api_key="x", max_retries=0, timeout=2),
                      recorder, client_id="acme-clinic")

    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="gpt-4o-mini", messages=[])

    [line] = read_log()
    assert line["error"] == {"status": None, "type": "APIConnectionError", "message": "Connection error."}


def test_context_precedence_keyword_then_block_then_client(read_log, server, openai_client, log_root):
    for _ in range(3):
        server.reply(shapes.openai_chat("gpt-4o-mini", 10, 2))

    with call_context(client_id="escola-norte", phone="+5511940028922"):
        with call_context(conversation_id="conv-a"):
            openai_client.chat.completions.create(model="gpt-4o-mini", messages=[])
        openai_client.chat.completions.create(model="gpt-4o-mini", messages=[], client_id="padaria-sol", phone=None)
    openai_client.chat.completions.create(model="gpt-4o-mini", messages=[])

    lines = read_log()
    assert [(x["client_id"], x["phone"], x["conversation_id"]) for x in lines] == [
        ("escola-norte", "+5511940028922", "conv-a"),
        ("padaria-sol", "+5511940028922", None),  # phone=None means "not given", so the block's phone stays
        ("acme-clinic", None, None),
    ]
    assert [x["event_id"] for x in lines] == ["evt-0001", "evt-0002", "evt-0003"]


def test_with_options_keeps_recording_and_other_attributes_pass_through(read_log, server, openai_client, log_root):
    server.reply(shapes.openai_chat("gpt-4o-mini", 10, 2))

    openai_client.with_options(timeout=5).chat.completions.create(model="gpt-4o-mini", messages=[])

    assert openai_client.base_url == server.openai_base_url + "/"
    assert len(read_log()) == 1


def test_async_clients_chat_stream_and_error(read_log, server, recorder, log_root):
    async def chatbot() -> str:
        oa = recorded(openai.AsyncOpenAI(base_url=server.openai_base_url, api_key="x", max_retries=0), recorder,
                      client_id="acme-clinic")
        gq = recorded(groq.AsyncGroq(base_url=server.groq_base_url, api_key="x", max_retries=0), recorder,
                      client_id="padaria-sol")
        server.reply(shapes.openai_chat("gpt-4o-mini", 11, 2))
        await oa.chat.completions.create(model="gpt-4o-mini", messages=[])
        server.reply_stream(shapes.groq_chat_chunks("llama-3.3-70b-versatile", ["a", "b"], 45, 2))
        stream = await gq.chat.completions.create(model="llama-3.3-70b-versatile", messages=[], stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream])
        server.reply(shapes.groq_error(429), status=429)
        with pytest.raises(groq.RateLimitError):
            await gq.chat.completions.create(model="llama-3.3-70b-versatile", messages=[])
        return text

    assert asyncio.run(chatbot()) == "ab"
    lines = read_log()
    assert [(x["client_id"], x["provider"]) for x in lines] == [
        ("acme-clinic", "openai"), ("padaria-sol", "groq"), ("padaria-sol", "groq")]
    assert lines[0]["response"]["usage"]["prompt_tokens"] == 11
    assert lines[1]["response"]["x_groq"]["usage"]["prompt_tokens"] == 45
    assert lines[2]["error"]["status"] == 429


def test_unwritable_log_folder_never_reaches_the_caller(server, recorder, caplog, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the raw-logs root should be")
    recorder.files.root = blocker
    client = recorded(openai.OpenAI(base_url=server.openai_base_url, api_key="x", max_retries=0), recorder,
                      client_id="acme-clinic")
    server.reply(shapes.openai_chat("gpt-4o-mini", 10, 2, content="ainda respondo"))

    completion = client.chat.completions.create(model="gpt-4o-mini", messages=[])

    assert completion.choices[0].message.content == "ainda respondo"
    assert recorder.files.failed_writes == 1
    assert "usage log line not written" in caplog.text
