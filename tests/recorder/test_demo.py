"""`usage-etl demo` and the committed samples it wrote under raw_logs/."""
from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from usage_etl.cli import main
from usage_etl.recorder.demo import generate_samples

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "raw_logs"
SAMPLE_DAYS = [f"2026/11/{d:02d}" for d in range(10, 24)]


def _kind(line: dict) -> tuple:
    body = line.get("response") or {}
    model = body.get("model") or (body.get("response") or {}).get("model") or line["request"]["model"]
    how = "error" if "error" in line else "stream" if line["request"].get("stream") else "call"
    return line["provider"], line["endpoint"], model, how


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """Run the demo as the committed samples were made: 14 days ending 2026-11-23, default seed."""
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--days", "14", "--end", "2026-11-23"]) == 0
    return out


def test_committed_samples_are_what_the_demo_writes(regenerated):
    for day in SAMPLE_DAYS:
        assert (regenerated / day / "chatbot-demo.jsonl").read_bytes() == (SAMPLES / day / "chatbot-demo.jsonl").read_bytes(), day


def test_samples_cover_every_kind_of_call(regenerated):
    lines = [json.loads(x) for p in sorted(regenerated.rglob("*.jsonl")) for x in p.read_text().splitlines()]
    kinds = Counter(_kind(x) for x in lines)

    for expected in [
        ("openai", "chat.completions", "gpt-4o-mini", "call"),
        ("openai", "chat.completions", "gpt-4o-2024-08-06", "call"),
        ("groq", "chat.completions", "llama-3.3-70b-versatile", "call"),
        ("groq", "chat.completions", "openai/gpt-oss-120b", "call"),
        ("openai", "chat.completions", "gpt-4o-mini", "stream"),
        ("groq", "chat.completions", "llama-3.3-70b-versatile", "stream"),
        ("openai", "responses", "gpt-4o-mini", "call"),
        ("openai", "responses", "gpt-4o-mini", "stream"),
        ("openai", "audio.transcriptions", "whisper-1", "call"),
        ("openai", "audio.transcriptions", "gpt-4o-mini-transcribe", "call"),
        ("groq", "audio.transcriptions", "whisper-large-v3-turbo", "call"),
        ("groq", "chat.completions", "llama-4-experimental", "call"),
    ]:
        assert kinds[expected] >= 1, expected
    assert {x["error"]["status"] for x in lines if "error" in x} == {429, 500}
    assert {x["client_id"] for x in lines} == {"acme-clinic", "padaria-sol", "escola-norte"}
    assert all(x["phone"].startswith(("+5511", "+5521")) for x in lines)
    assert sum(x["conversation_id"] is not None for x in lines) > 0.75 * len(lines)
    assert len({x["event_id"] for x in lines}) == len(lines)
    assert any(x["response"]["usage"]["prompt_tokens_details"]["cached_tokens"] > 0
               for x in lines if _kind(x)[1:] == ("chat.completions", "gpt-4o-mini", "call"))
    per_day = Counter(x["logged_at"][:10] for x in lines)
    assert sorted(per_day) == [f"2026-11-{d}" for d in range(10, 24)]
    assert all(24 <= n <= 48 for n in per_day.values())  # a few dozen a day


def test_committed_samples_are_small_and_whole_but_for_the_legacy_file():
    files = sorted(SAMPLES.rglob("*.jsonl"))
    assert sum(p.stat().st_size for p in files) < 2_000_000
    assert [p.relative_to(SAMPLES).as_posix() for p in files] == (
        [f"{d}/chatbot-demo.jsonl" for d in SAMPLE_DAYS[:-1]]
        + ["2026/11/23/chatbot-demo.jsonl", "2026/11/23/legacy-shipper-1.jsonl"]
    )
    for path in files[:-1]:
        for line in path.read_text().splitlines():
            assert json.loads(line)["logged_at"].startswith(path.parent.relative_to(SAMPLES).as_posix().replace("/", "-"))


def test_legacy_file_holds_one_duplicate_and_one_bad_line():
    duplicate, bad = (SAMPLES / "2026/11/23/legacy-shipper-1.jsonl").read_text().splitlines()
    demo_lines = (SAMPLES / "2026/11/23/chatbot-demo.jsonl").read_text().splitlines()

    assert demo_lines.count(duplicate) == 1
    assert bad == demo_lines[5][:200]
    with pytest.raises(json.JSONDecodeError):
        json.loads(bad)


def test_demo_refuses_to_append_to_its_own_files_without_replace(tmp_path, capsys):
    args = ["demo", "--out", str(tmp_path), "--days", "1", "--end", "2026-01-05", "--seed", "3"]
    assert main(args) == 0
    first = (tmp_path / "2026/01/05/chatbot-demo.jsonl").read_bytes()

    assert main(args) == 2
    assert "pass --replace" in capsys.readouterr().err
    assert main([*args, "--replace"]) == 0
    assert (tmp_path / "2026/01/05/chatbot-demo.jsonl").read_bytes() == first


def test_another_seed_writes_other_calls(tmp_path):
    a = generate_samples(tmp_path / "a", 1, date(2026, 1, 5), seed=1)
    b = generate_samples(tmp_path / "b", 1, date(2026, 1, 5), seed=2)

    assert a.files[0].read_bytes() != b.files[0].read_bytes()
    assert a.calls == len(a.files[0].read_text().splitlines())
