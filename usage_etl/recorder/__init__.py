"""The writer side of the raw response log: what the chatbot uses to log each OpenAI/Groq call.

    recorder = Recorder("raw_logs", writer="chatbot")
    client = recorded(OpenAI(), recorder, client_id="acme-clinic")
    with call_context(phone="+5511987654321", conversation_id="c-42"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[...])
"""
from usage_etl.recorder.clients import recorded
from usage_etl.recorder.recorder import (
    AsyncRecordedStream,
    CallContext,
    RecordedStream,
    Recorder,
    call_context,
    current_context,
)

__all__ = ["AsyncRecordedStream", "CallContext", "RecordedStream", "Recorder", "call_context", "current_context", "recorded"]
