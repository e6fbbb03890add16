"""Write sample raw logs the way the chatbot does: real SDK clients, recorded, against a local stand-in API.

Deterministic: a seeded random plan, an injected clock and seeded event ids, so the same
arguments always write the same bytes.
"""
from __future__ import annotations

import math
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from usage_etl.recorder import shapes
from usage_etl.recorder.clients import recorded
from usage_etl.recorder.recorder import Recorder, call_context
from usage_etl.recorder.standin import StandInServer

WRITER, TAG = "chatbot", "demo"
PHONES = {
    "acme-clinic": ["+5511987654321", "+5511912345678", "+5511955501234"],
    "padaria-sol": ["+5521998765432", "+5521976543210"],
    "escola-norte": ["+5511940028922", "+5521988887777", "+5511933334444"],
}
REPLIES = [
    "Olá! Como posso ajudar?", "Sua consulta está marcada para terça às 14h.", "Temos pão de queijo fresquinho hoje.",
    "As matrículas vão até sexta-feira.", "Pode me mandar uma foto do documento?", "Obrigado, até logo!",
]
VOICE_NOTES = [
    "Oi, queria saber se ainda tem horário amanhã.", "Bom dia, vocês entregam no Flamengo?",
    "Preciso do boletim do meu filho.", "Pode confirmar meu pedido, por favor?",
]
# The kinds of call a day is made of, with how many of each a day has on top of one of each.
KINDS: dict[str, float] = {
    "openai_chat_mini": 7, "openai_chat_4o": 3, "groq_chat_llama": 6, "groq_chat_gptoss": 3,
    "openai_stream": 3, "groq_stream": 3, "responses": 1, "whisper": 2, "mini_transcribe": 2,
    "groq_whisper": 3, "groq_whisper_json": 1, "error": 1.5,
}
UNKNOWN_MODEL = "llama-4-experimental"
FAKE_AUDIO = b"OggS\x00\x02" + bytes(64)  # the stand-in does not listen; the SDK only needs a file to upload


class ManualClock:
    """A clock that says whatever moment it was last set to."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@dataclass
class DemoSummary:
    """What the demo wrote."""

    files: list[Path] = field(default_factory=list)
    calls: int = 0
    errors: int = 0

    @property
    def bytes(self) -> int:
        """Return the total size of the files written."""
        return sum(p.stat().st_size for p in self.files if p.exists())

    def to_text(self) -> str:
        """Describe the run in a few lines."""
        return f"{self.calls} calls ({self.errors} failed) in {len(self.files)} files, {self.bytes} bytes"


def target_files(out: Path, days: int, end: date) -> list[Path]:
    """Return the files a demo over these days writes."""
    probe = Recorder(out, writer=WRITER, tag=TAG)
    return [probe.files.path_for(end - timedelta(days=n)) for n in range(days - 1, -1, -1)]


def generate_samples(out: Path, days: int, end: date, seed: int = 2026) -> DemoSummary:
    """Write `days` days of sample calls ending on `end` (UTC) under `out`."""
    from groq import Groq
    from openai import OpenAI

    rng = random.Random(seed)
    ids = random.Random(seed + 1)
    clock = ManualClock(datetime.combine(end, time(), timezone.utc))
    recorder = Recorder(out, writer=WRITER, tag=TAG, clock=clock,
                        event_ids=lambda: uuid.UUID(int=ids.getrandbits(128), version=4).hex)
    summary = DemoSummary(files=target_files(out, days, end))
    with StandInServer() as server:
        openai = recorded(OpenAI(base_url=server.openai_base_url, api_key="sk-demo", max_retries=0), recorder)
        groq = recorded(Groq(base_url=server.groq_base_url, api_key="gsk-demo", max_retries=0), recorder)
        calls = _Calls(rng, server, openai, groq)
        for n in range(days - 1, -1, -1):
            day = end - timedelta(days=n)
            for moment, kind in _plan_day(rng, day, with_unknown_model=n % 5 == 0):
                clock.moment = moment
                calls.created = int(moment.timestamp()) - rng.randint(1, 4)
                client_id = rng.choice(sorted(PHONES))
                phone = rng.choice(PHONES[client_id])
                conversation = f"conv-{rng.randrange(16**8):08x}" if rng.random() < 0.85 else None
                with call_context(client_id=client_id, phone=phone, conversation_id=conversation):
                    failed = calls.make(kind)
                summary.calls += 1
                summary.errors += failed
    return summary


def _plan_day(rng: random.Random, day: date, with_unknown_model: bool) -> list[tuple[datetime, str]]:
    """Pick the day's calls: one of each kind, then a few dozen more by weight, at times spread over the day."""
    kinds = list(KINDS) + rng.choices(list(KINDS), weights=list(KINDS.values()), k=rng.randint(18, 28))
    if with_unknown_model:
        kinds.append("unknown_model")
    start = datetime.combine(day, time(), timezone.utc)
    # Brazil's working hours (UTC-3) are 11:00-23:59 UTC; a few calls come at night.
    seconds = sorted(rng.randint(11 * 3600, 86_399) if rng.random() < 0.9 else rng.randint(0, 11 * 3600) for _ in kinds)
    rng.shuffle(kinds)
    return [(start + timedelta(seconds=s, milliseconds=rng.randrange(1000)), k) for s, k in zip(seconds, kinds)]


class _Calls:
    """The chatbot's calls, one method per kind; each queues the stand-in's answer, then calls the SDK."""

    def __init__(self, rng: random.Random, server: StandInServer, openai, groq) -> None:
        self.rng = rng
        self.server = server
        self.openai = openai
        self.groq = groq
        self.created = 0

    def make(self, kind: str) -> bool:
        """Make one call of `kind`; say whether it failed (the failure is logged by the recorder)."""
        method: Callable[[], None] = getattr(self, kind)
        try:
            method()
        except Exception as exc:  # only the SDK's own API errors are expected here
            if type(exc).__module__.split(".")[0] not in ("openai", "groq"):
                raise
            return True
        return False

    def _hex(self, n: int) -> str:
        return f"{self.rng.getrandbits(4 * n):0{n}x}"

    def _messages(self) -> list[dict]:
        return [{"role": "system", "content": "Você é o atendente virtual."},
                {"role": "user", "content": self.rng.choice(VOICE_NOTES)}]

    def _tokens(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def openai_chat_mini(self) -> None:
        self._openai_chat("gpt-4o-mini")

    def openai_chat_4o(self) -> None:
        self._openai_chat("gpt-4o-2024-08-06")

    def _openai_chat(self, model: str) -> None:
        prompt = self._tokens(300, 2400)
        # Long system prompts repeat: about a third of calls hit the prompt cache (in blocks of 128 tokens).
        cached = (prompt - 1024) // 128 * 128 if prompt > 1100 and self.rng.random() < 0.5 else 0
        self.server.reply(shapes.openai_chat(
            model, prompt, self._tokens(8, 220), cached=cached, content=self.rng.choice(REPLIES),
            id=f"chatcmpl-{self._hex(29)}", created=self.created))
        self.openai.chat.completions.create(model=model, messages=self._messages())

    def groq_chat_llama(self) -> None:
        model = "llama-3.3-70b-versatile"
        self.server.reply(shapes.groq_chat(
            model, self._tokens(120, 1800), self._tokens(10, 260), content=self.rng.choice(REPLIES),
            id=f"chatcmpl-{uuid.UUID(int=self.rng.getrandbits(128), version=4)}", request_id=f"req_{self._hex(26)}",
            created=self.created))
        self.groq.chat.completions.create(model=model, messages=self._messages())

    def groq_chat_gptoss(self) -> None:
        model = "openai/gpt-oss-120b"
        prompt = self._tokens(200, 1500)
        cached = prompt // 256 * 256 if self.rng.random() < 0.4 else None
        completion = self._tokens(60, 400)
        self.server.reply(shapes.groq_chat(
            model, prompt, completion, cached=cached, reasoning=completion // 2, content=self.rng.choice(REPLIES),
            id=f"chatcmpl-{uuid.UUID(int=self.rng.getrandbits(128), version=4)}", request_id=f"req_{self._hex(26)}",
            created=self.created))
        self.groq.chat.completions.create(model=model, messages=self._messages())

    def unknown_model(self) -> None:
        self.server.reply(shapes.groq_chat(
            UNKNOWN_MODEL, self._tokens(100, 900), self._tokens(10, 120), content=self.rng.choice(REPLIES),
            id=f"chatcmpl-{uuid.UUID(int=self.rng.getrandbits(128), version=4)}", request_id=f"req_{self._hex(26)}",
            created=self.created))
        self.groq.chat.completions.create(model=UNKNOWN_MODEL, messages=self._messages())

    def openai_stream(self) -> None:
        model = "gpt-4o-mini"
        words = self.rng.choice(REPLIES).split(" ")
        self.server.reply_stream(shapes.openai_chat_chunks(
            model, [w + " " for w in words], self._tokens(200, 1500), len(words) * 2,
            id=f"chatcmpl-{self._hex(29)}", created=self.created))
        stream = self.openai.chat.completions.create(
            model=model, messages=self._messages(), stream=True, stream_options={"include_usage": True})
        "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    def groq_stream(self) -> None:
        model = "llama-3.3-70b-versatile"
        words = self.rng.choice(REPLIES).split(" ")
        self.server.reply_stream(shapes.groq_chat_chunks(
            model, [w + " " for w in words], self._tokens(100, 1200), len(words) * 2,
            top_level_usage=self.rng.random() < 0.5,
            id=f"chatcmpl-{uuid.UUID(int=self.rng.getrandbits(128), version=4)}", request_id=f"req_{self._hex(26)}",
            created=self.created))
        stream = self.groq.chat.completions.create(model=model, messages=self._messages(), stream=True)
        "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    def responses(self) -> None:
        model = "gpt-4o-mini"
        rid = f"resp_{self._hex(48)}"
        text = self.rng.choice(REPLIES)
        if self.rng.random() < 0.5:
            self.server.reply_stream(shapes.openai_response_events(
                model, self._tokens(200, 1200), self._tokens(10, 150), text=text, id=rid, created=self.created),
                done_marker=False)
            for _ in self.openai.responses.create(model=model, input=self._messages(), stream=True):
                pass
        else:
            prompt = self._tokens(200, 2200)
            cached = (prompt - 1024) // 128 * 128 if prompt > 1100 else 0
            self.server.reply(shapes.openai_response(
                model, prompt, self._tokens(10, 150), cached=cached, text=text, id=rid, created=self.created))
            self.openai.responses.create(model=model, input=self._messages())

    def _audio_seconds(self) -> float:
        return round(self.rng.uniform(1.5, 75.0), 2)

    def whisper(self) -> None:
        seconds = self._audio_seconds()
        self.server.reply(shapes.whisper_verbose(self.rng.choice(VOICE_NOTES), seconds, billed_seconds=math.ceil(seconds)))
        self.openai.audio.transcriptions.create(
            file=("voice.ogg", FAKE_AUDIO), model="whisper-1", response_format="verbose_json", audio_seconds=seconds)

    def mini_transcribe(self) -> None:
        seconds = self._audio_seconds()
        text = self.rng.choice(VOICE_NOTES)
        self.server.reply(shapes.openai_transcription_tokens(text, int(seconds * 10), len(text) // 4))
        self.openai.audio.transcriptions.create(
            file=("voice.ogg", FAKE_AUDIO), model="gpt-4o-mini-transcribe", response_format="json", audio_seconds=seconds)

    def groq_whisper(self) -> None:
        seconds = self._audio_seconds()
        self.server.reply(shapes.groq_transcription_verbose(
            self.rng.choice(VOICE_NOTES), seconds, request_id=f"req_{self._hex(26)}"))
        self.groq.audio.transcriptions.create(
            file=("voice.ogg", FAKE_AUDIO), model="whisper-large-v3-turbo", response_format="verbose_json",
            audio_seconds=seconds)

    def groq_whisper_json(self) -> None:
        # A `json` transcription names no length: the recorder's request.audio_seconds is what gets billed.
        seconds = self._audio_seconds()
        self.server.reply(shapes.groq_transcription_json(self.rng.choice(VOICE_NOTES), request_id=f"req_{self._hex(26)}"))
        self.groq.audio.transcriptions.create(
            file=("voice.ogg", FAKE_AUDIO), model="whisper-large-v3-turbo", response_format="json", audio_seconds=seconds)

    def error(self) -> None:
        status = self.rng.choice([429, 429, 500])
        if self.rng.random() < 0.5:
            self.server.reply(shapes.openai_error(status), status=status)
            self.openai.chat.completions.create(model="gpt-4o-mini", messages=self._messages())
        else:
            self.server.reply(shapes.groq_error(status), status=status)
            self.groq.chat.completions.create(model="llama-3.3-70b-versatile", messages=self._messages())
