"""Every real recorded body (../shared/fixtures/real), served to the real SDK, is logged exactly as sent."""
from __future__ import annotations

import json

import pytest

from usage_etl.recorder.envelope import carries_usage, error_of, rfc3339

REAL = {
    "chat": ["01_openai_chat_basic", "02_openai_chat_tool_calls", "03_openai_chat_reasoning_o3mini",
             "04_openai_chat_reasoning_tool_calls_gpt5mini", "05_openai_chat_audio_input", "06_openai_chat_cache_write",
             "07_openai_chat_cached_tokens", "11_openai_chat_docs_functions_no_prompt_details",
             "19_groq_chat_basic_llama33", "20_groq_chat_tool_calls", "21_groq_chat_gptoss_reasoning_cached",
             "22_groq_chat_qwen3_reasoning", "23_groq_chat_compound_usage_breakdown", "24_groq_chat_float_precision"],
    "responses": ["12_openai_responses_basic", "13_openai_responses_cached", "14_openai_responses_reasoning_cached_websearch",
                  "15_openai_responses_cache_write", "17_openai_responses_docs_reasoning",
                  "18_openai_responses_docs_functions_no_input_details"],
    "transcription": ["29_openai_transcription_docs_json_tokens", "30_openai_transcription_docs_json_text_only",
                      "31_openai_transcription_docs_json_tokens_text_prompt", "32_openai_transcription_docs_diarized_duration",
                      "34_openai_transcription_whisper1_verbose_json", "35_openai_transcription_gpt4o_tokens",
                      "36_groq_transcription_json", "37_groq_transcription_verbose_json_words",
                      "38_groq_transcription_verbose_json_short"],
    "chat_chunk": ["08_openai_chat_stream_final_usage_chunk", "10_openai_chat_stream_final_usage_chunk_gpt4o",
                   "25_groq_chat_stream_final_chunk_xgroq_usage_only", "26_groq_chat_stream_final_chunk_both_usages",
                   "27_groq_chat_stream_final_chunk_gptoss_reasoning"],
}
CASES = [(kind, name) for kind, names in REAL.items() for name in names]


@pytest.mark.parametrize(("kind", "name"), CASES, ids=[name for _, name in CASES])
def test_real_body_is_logged_unchanged(real_fixtures, server, openai_client, groq_client, read_log, kind, name):
    body = json.loads((real_fixtures / f"{name}.json").read_text())
    client = groq_client if "_groq_" in name else openai_client
    unfinished_chunk = json.loads((real_fixtures / "09_openai_chat_stream_finish_chunk_usage_null.json").read_text())

    if kind == "chat":
        server.reply(body)
        client.chat.completions.create(model="m", messages=[])
    elif kind == "responses":
        server.reply(body)
        client.responses.create(model="m", input="oi")
    elif kind == "transcription":
        server.reply(body)
        client.audio.transcriptions.create(file=("a.ogg", b"OggS"), model="whisper-1", audio_seconds=1.5)
    else:  # a stream whose usage chunk comes after a finish chunk with "usage": null
        server.reply_stream([unfinished_chunk, body])
        assert len(list(client.chat.completions.create(model="m", messages=[], stream=True))) == 2

    [line] = read_log()
    assert line["response"] == body
    assert line["provider"] == ("groq" if "_groq_" in name else "openai")


def test_streamed_responses_completed_event_is_logged_unchanged(real_fixtures, server, openai_client, read_log):
    event = json.loads((real_fixtures / "16_openai_responses_stream_completed_event.json").read_text())
    server.reply_stream([("response.completed", event)], done_marker=False)

    [got] = list(openai_client.responses.create(model="gpt-5.1-codex-max", input="oi", stream=True))

    assert got.type == "response.completed"
    [line] = read_log()
    assert (line["endpoint"], line["response"]) == ("responses", event)


def test_streamed_transcription_done_event_is_logged(real_fixtures, server, openai_client, read_log):
    delta = {"type": "transcript.text.delta", "delta": "I see", "logprobs": []}
    done = json.loads((real_fixtures / "33_openai_transcription_docs_stream_done_event.json").read_text())
    server.reply_stream([delta, done], done_marker=False)

    events = openai_client.audio.transcriptions.create(
        file=("a.ogg", b"OggS"), model="gpt-4o-mini-transcribe", stream=True, audio_seconds=9.0)

    assert [e.type for e in events] == ["transcript.text.delta", "transcript.text.done"]
    [line] = read_log()
    assert line["endpoint"] == "audio.transcriptions"
    assert line["request"] == {"model": "gpt-4o-mini-transcribe", "audio_seconds": 9.0, "stream": True}
    assert line["response"] == done


@pytest.mark.parametrize(
    ("chunk", "expected"),
    [
        ({"object": "chat.completion.chunk", "choices": [], "usage": None}, False),
        ({"object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 1}}, True),
        ({"object": "chat.completion.chunk", "x_groq": {"id": "req_1"}}, False),
        ({"object": "chat.completion.chunk", "x_groq": {"id": "req_1", "usage": {"prompt_tokens": 1}}}, True),
        ({"type": "response.output_text.delta"}, False),
        ({"type": "response.completed", "response": {}}, True),
        ({"type": "response.incomplete", "response": {}}, True),
        ({"type": "transcript.text.done", "text": ""}, True),
    ],
    ids=["usage-null", "openai-usage", "groq-no-usage", "groq-x_groq-usage", "responses-delta", "responses-completed",
         "responses-incomplete", "transcript-done"],
)
def test_carries_usage(chunk, expected):
    assert carries_usage(chunk) is expected


def test_rfc3339_is_utc_with_offset_and_milliseconds():
    from datetime import datetime, timedelta, timezone

    assert rfc3339(datetime(2026, 11, 23, 21, 0, 0, 123456, tzinfo=timezone(timedelta(hours=-3)))) == (
        "2026-11-24T00:00:00.123+00:00")
    assert rfc3339(datetime(2026, 11, 23, 9, 5)) == "2026-11-23T09:05:00.000+00:00"


def test_error_of_an_exception_without_a_body():
    assert error_of(TimeoutError("read timed out")) == {"status": None, "type": "TimeoutError", "message": "read timed out"}
