"""Generate realistic raw response logs of any size: `python benchmarks/generate_logs.py OUT --lines N --days D`.

Lines follow ../shared/spec/response-log.md, ~1.1 KB each on average, in the mix a WhatsApp bot
produces: OpenAI and Groq chat (some streamed, some cached), Responses API, Whisper and
gpt-4o-mini-transcribe transcriptions, ~1% failed calls, ~0.3% exact duplicate lines (a log shipper
that retried) and ~0.05% bad lines.

Calls come in conversations, as on WhatsApp: an end user (a phone number from the client's base of users)
exchanges a few messages with the bot, ~8 calls on average, interleaved with a few hundred other
conversations going on at the same time. 4 conversations in 5 carry a conversation_id; the others are
logged without one (an older bot version), as the contract allows.
"""
from __future__ import annotations

import argparse
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import orjson

CLIENTS = [f"client-{i:02d}" for i in range(1, 21)]
USERS_PER_CLIENT = 20_000  # a client's base of end users (phone numbers); a day sees ~6,000 of them per client
CALLS_PER_CONVERSATION = 8  # on average; geometric, so most are short and a few are long
OPEN_CONVERSATIONS = 400  # conversations going on at any moment, their calls interleaved in the log
FILLER = "Olá! Posso ajudar com o seu pedido. " * 12  # the bot's answers make lines ~1 KB


def _chat_openai(rng, model, stream):
    p, c = rng.randint(40, 3000), rng.randint(5, 600)
    cached = rng.choice([0, 0, 0, (p // 128) * 64])
    usage = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c,
             "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
             "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                           "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}
    if stream:
        return {"id": f"chatcmpl-{uuid.UUID(int=rng.getrandbits(128)).hex[:24]}", "object": "chat.completion.chunk",
                "created": 1770933892, "model": model, "choices": [], "usage": usage, "obfuscation": "h9RiQLL"}
    return {"id": f"chatcmpl-{uuid.UUID(int=rng.getrandbits(128)).hex[:24]}", "object": "chat.completion",
            "created": 1770933892, "model": model, "service_tier": "default",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": FILLER[: rng.randint(300, 600)]},
                         "finish_reason": "stop"}], "usage": usage, "system_fingerprint": "fp_de604bd877"}


def _chat_groq(rng, model, stream):
    p, c = rng.randint(40, 3000), rng.randint(5, 600)
    usage = {"queue_time": round(rng.random() / 10, 9), "prompt_tokens": p, "prompt_time": 0.002665957,
             "completion_tokens": c, "completion_time": 0.029090909, "total_tokens": p + c, "total_time": 0.031756866}
    body = {"id": f"chatcmpl-{uuid.UUID(int=rng.getrandbits(128))}", "created": 1744043573, "model": model,
            "system_fingerprint": "fp_72a5dc99ee", "x_groq": {"id": f"req_{rng.getrandbits(64):016x}"}}
    if stream:
        body.update(object="chat.completion.chunk",
                    choices=[{"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}])
        body["x_groq"]["usage"] = usage
    else:
        body.update(object="chat.completion", usage=usage, usage_breakdown={"models": None},
                    choices=[{"index": 0, "message": {"role": "assistant", "content": FILLER[: rng.randint(300, 600)]},
                              "finish_reason": "stop", "logprobs": None}])
    return body


def _responses(rng):
    i, o = rng.randint(40, 3000), rng.randint(5, 600)
    return {"id": f"resp_{rng.getrandbits(96):024x}", "object": "response", "created_at": 1757604033,
            "model": "gpt-4o-2024-08-06", "status": "completed",
            "output": [{"type": "message", "role": "assistant", "status": "completed",
                        "content": [{"type": "output_text", "annotations": [], "text": FILLER[: rng.randint(300, 600)]}]}],
            "usage": {"input_tokens": i, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": o,
                      "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": i + o}}


@dataclass
class Conversation:
    """One end user's exchange with a client's bot: who, under which id, and how many calls are left."""

    client: str
    phone: str
    conversation_id: str | None
    calls_left: int


def new_conversation(rng: random.Random) -> Conversation:
    """Start a conversation of one of a client's users (a returning user as often as the base size allows)."""
    client = rng.randrange(len(CLIENTS))
    phone = f"+55119{10_000_000 + client * USERS_PER_CLIENT + rng.randrange(USERS_PER_CLIENT)}"
    conversation_id = f"conv-{rng.getrandbits(40):010x}" if rng.random() < 0.8 else None
    calls = 1
    while rng.random() > 1 / CALLS_PER_CONVERSATION:
        calls += 1
    return Conversation(CLIENTS[client], phone, conversation_id, calls)


def make_line(rng: random.Random, when: datetime, conversation: Conversation) -> bytes:
    """Make one envelope line at time `when`, a call of `conversation`."""
    kind = rng.random()
    request: dict = {}
    if kind < 0.35:
        provider, endpoint, model = "openai", "chat.completions", rng.choice(["gpt-4o-mini", "gpt-4o-2024-08-06", "gpt-4.1-nano"])
        stream = rng.random() < 0.3
        response = _chat_openai(rng, model, stream)
        request = {"model": model, "stream": stream}
    elif kind < 0.75:
        provider, endpoint, model = "groq", "chat.completions", rng.choice(["llama-3.3-70b-versatile", "openai/gpt-oss-120b"])
        stream = rng.random() < 0.3
        response = _chat_groq(rng, model, stream)
        request = {"model": model, "stream": stream}
    elif kind < 0.82:
        provider, endpoint, model = "openai", "responses", "gpt-4o-2024-08-06"
        response = _responses(rng)
    elif kind < 0.90:
        provider, endpoint, model = "groq", "audio.transcriptions", "whisper-large-v3-turbo"
        seconds = round(rng.uniform(2, 90), 3)
        response = {"task": "transcribe", "language": "Portuguese", "duration": seconds, "text": FILLER[:300],
                    "x_groq": {"id": f"req_{rng.getrandbits(64):016x}"}}
        request = {"model": model, "audio_seconds": seconds, "response_format": "verbose_json"}
    elif kind < 0.95:
        provider, endpoint, model = "openai", "audio.transcriptions", "whisper-1"
        seconds = round(rng.uniform(2, 90), 2)
        response = {"task": "transcribe", "language": "portuguese", "duration": seconds, "text": FILLER[:300],
                    "usage": {"type": "duration", "seconds": int(seconds + 0.999)}}
        request = {"model": model, "audio_seconds": seconds, "response_format": "verbose_json"}
    else:
        provider, endpoint, model = "openai", "audio.transcriptions", "gpt-4o-mini-transcribe"
        a, o = rng.randint(50, 900), rng.randint(20, 300)
        response = {"text": FILLER[:300], "usage": {"type": "tokens", "input_tokens": a, "output_tokens": o,
                    "total_tokens": a + o, "input_token_details": {"text_tokens": 0, "audio_tokens": a}}}
        request = {"model": model, "response_format": "json"}
    envelope = {"event_id": uuid.UUID(int=rng.getrandbits(128)).hex, "logged_at": when.isoformat().replace("+00:00", "Z"),
                "client_id": conversation.client, "provider": provider, "endpoint": endpoint,
                "conversation_id": conversation.conversation_id, "phone": conversation.phone, "request": request}
    if rng.random() < 0.01:
        envelope["error"] = {"status": rng.choice([429, 500, 503]), "type": "rate_limit_exceeded", "message": "Rate limit reached"}
    else:
        envelope["response"] = response
    return orjson.dumps(envelope) + b"\n"


def generate(out: Path, lines: int, days: int, start: datetime, seed: int = 7, writers: int = 2) -> list[Path]:
    """Write `lines` lines per day for `days` days under `out` (YYYY/MM/DD/writer-N.jsonl)."""
    rng = random.Random(seed)
    written = []
    for d in range(days):
        day = start + timedelta(days=d)
        folder = out / f"{day:%Y/%m/%d}"
        folder.mkdir(parents=True, exist_ok=True)
        files = [open(folder / f"bot-{w}.jsonl", "wb") for w in range(writers)]
        step = 86_400 / lines
        going_on = [new_conversation(rng) for _ in range(OPEN_CONVERSATIONS)]
        last = b""
        for i in range(lines):
            fh = files[i % writers]
            r = rng.random()
            if r < 0.003 and last:
                fh.write(last)  # a log shipper's retry: the same line again
                continue
            if r < 0.0035:
                fh.write(b'{"logged_at": "2026-11-01T00:00:00Z", "client_id": 42, "provider": "openai"}\n')
                continue
            at = rng.randrange(OPEN_CONVERSATIONS)
            conversation = going_on[at]
            last = make_line(rng, day + timedelta(seconds=i * step), conversation)
            fh.write(last)
            conversation.calls_left -= 1
            if conversation.calls_left == 0:
                going_on[at] = new_conversation(rng)
        for fh in files:
            written.append(Path(fh.name))
            fh.close()
    return written


def main() -> None:
    """Parse arguments and write the logs."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=10_000, help="lines per day")
    parser.add_argument("--days", type=int, default=1)
    parser.add_argument("--start", default="2026-10-01", help="first day (UTC)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    start = datetime.fromisoformat(args.start).replace(tzinfo=timezone.utc)
    files = generate(args.out, args.lines, args.days, start, args.seed)
    total = sum(f.stat().st_size for f in files)
    print(f"wrote {len(files)} files, {total / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
