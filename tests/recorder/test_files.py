"""Daily files: whole lines only, from many processes and threads; failures logged, never raised."""
from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone

import pytest

from usage_etl.recorder import Recorder
from usage_etl.recorder import files as files_module
from usage_etl.recorder import shapes

PROCESSES, LINES_PER_PROCESS = 4, 500
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


# One chatbot process: appends LINES_PER_PROCESS big lines. Run as a fresh interpreter (not a fork) so that no
# thread of the test session (Prefect's harness, logging) is copied into the child half-way through a lock.
WRITER = """
import sys
from datetime import datetime, timezone
from usage_etl.recorder import Recorder
from usage_etl.recorder import shapes

root, worker, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
noon = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)
recorder = Recorder(root, writer="chatbot", tag="shared", clock=lambda: noon)
for i in range(count):
    size = 5_000 + (worker * 7_919 + i * 104_729) % 60_000  # 5 kB to 65 kB: far above PIPE_BUF
    body = shapes.openai_chat("gpt-4o-mini", 10, 2, content=str(worker) * size, id=f"w{worker}-{i}")
    recorder.record(body, provider="openai", client_id="acme-clinic", event_id=f"{worker}-{i}-{size}")
"""


def test_processes_appending_to_one_file_write_only_whole_lines(tmp_path):
    workers = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(w), str(LINES_PER_PROCESS)],
                                stderr=subprocess.PIPE) for w in range(PROCESSES)]
    results = [(p.wait(120), p.stderr.read().decode()) for p in workers]
    assert results == [(0, "")] * PROCESSES

    [path] = list(tmp_path.rglob("*.jsonl"))
    assert path.relative_to(tmp_path).as_posix() == "2026/11/20/chatbot-shared.jsonl"
    data = path.read_bytes()
    assert data.endswith(b"\n")
    lines = data.split(b"\n")[:-1]
    assert len(lines) == PROCESSES * LINES_PER_PROCESS
    seen = set()
    for line in lines:
        envelope = json.loads(line)
        worker, i, size = envelope["event_id"].split("-")
        content = envelope["response"]["choices"][0]["message"]["content"]
        assert content == worker * int(size)  # the payload arrived whole, not mixed with another process's
        seen.add((int(worker), int(i)))
    assert seen == {(w, i) for w in range(PROCESSES) for i in range(LINES_PER_PROCESS)}


def test_threads_sharing_a_recorder_write_whole_lines(tmp_path):
    recorder = Recorder(tmp_path, tag="t", clock=lambda: NOON)

    def chat(t: int) -> None:
        for i in range(200):
            recorder.record(shapes.openai_chat("gpt-4o-mini", t, i, content="x" * 20_000), provider="openai",
                            client_id="acme-clinic")

    threads = [threading.Thread(target=chat, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    lines = (tmp_path / "2026/11/20/chatbot-t.jsonl").read_text().splitlines()
    usages = sorted((json.loads(x)["response"]["usage"]["prompt_tokens"], json.loads(x)["response"]["usage"]["completion_tokens"]) for x in lines)
    assert usages == sorted((t, i) for t in range(8) for i in range(200))
    assert len({json.loads(x)["event_id"] for x in lines}) == 1600  # a fresh event id per call


def test_file_is_chosen_by_the_utc_date_of_logged_at(tmp_path):
    sao_paulo_evening = datetime(2026, 11, 23, 22, 30, tzinfo=timezone(timedelta(hours=-3)))
    recorder = Recorder(tmp_path, writer="bot", tag="a", clock=lambda: sao_paulo_evening)

    recorder.record(shapes.openai_chat("gpt-4o-mini", 1, 1), provider="openai", client_id="acme-clinic")

    [path] = list(tmp_path.rglob("*.jsonl"))
    assert path.relative_to(tmp_path).as_posix() == "2026/11/24/bot-a.jsonl"
    assert json.loads(path.read_text())["logged_at"] == "2026-11-24T01:30:00.000+00:00"


def test_missing_folder_is_created(tmp_path):
    root = tmp_path / "not" / "there" / "yet"
    recorder = Recorder(root, tag="a", clock=lambda: NOON)

    recorder.record(shapes.groq_chat("llama-3.3-70b-versatile", 1, 1), provider="groq", client_id="acme-clinic")

    assert (root / "2026/11/20/chatbot-a.jsonl").read_text().count("\n") == 1


def test_unwritable_folder_is_logged_not_raised(tmp_path, caplog):
    root = tmp_path / "root-is-a-file"
    root.write_text("")
    recorder = Recorder(root, tag="a", clock=lambda: NOON)

    event_id = recorder.record(shapes.openai_chat("gpt-4o-mini", 1, 1), provider="openai", client_id="acme-clinic")

    assert len(event_id) == 32
    assert recorder.files.failed_writes == 1
    assert f"usage log line not written to {root}/2026/11/20/chatbot-a.jsonl" in caplog.text


def test_disk_full_mid_line_keeps_the_next_line_whole(tmp_path, monkeypatch, caplog):
    recorder = Recorder(tmp_path, tag="a", clock=lambda: NOON)
    real_write = os.write
    calls = []

    def full_disk(fd: int, data: bytes) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real_write(fd, data[:100])  # the disk fills after 100 bytes
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files_module.os, "write", full_disk)
    recorder.record({"object": "chat.completion", "model": "m"}, provider="openai", client_id="c", event_id="torn")
    monkeypatch.setattr(files_module.os, "write", real_write)
    recorder.record({"object": "chat.completion", "model": "m"}, provider="openai", client_id="c", event_id="next")

    lines = (tmp_path / "2026/11/20/chatbot-a.jsonl").read_bytes().split(b"\n")
    assert len(lines[0]) == 100 and lines[0].startswith(b'{"logged_at"')  # the torn line, quarantined by the ETL
    assert json.loads(lines[1])["event_id"] == "next"
    assert lines[2] == b""
    assert "No space left on device" in caplog.text


def test_record_a_raw_dict(tmp_path, real_fixtures):
    recorder = Recorder(tmp_path, tag="a", clock=lambda: NOON)
    body = json.loads((real_fixtures / "19_groq_chat_basic_llama33.json").read_text())

    recorder.record(body, provider="groq", client_id="padaria-sol", phone="+5521976543210", event_id="e1")

    line = json.loads((tmp_path / "2026/11/20/chatbot-a.jsonl").read_text())
    assert line == {
        "logged_at": "2026-11-20T12:00:00.000+00:00", "event_id": "e1", "client_id": "padaria-sol",
        "provider": "groq", "endpoint": "chat.completions", "conversation_id": None, "phone": "+5521976543210",
        "response": body,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"endpoint": "chat.completions"}, "provider is needed"),
        ({"provider": "openai"}, "endpoint must be one of"),
        ({"provider": "openai", "endpoint": "audio.transcriptions"}, "model is needed for audio endpoints"),
        ({"provider": "openai", "endpoint": "embeddings"}, "endpoint must be one of"),
    ],
    ids=["no-provider", "audio-without-endpoint", "audio-without-model", "unknown-endpoint"],
)
def test_a_dict_that_cannot_be_described_is_refused(tmp_path, kwargs, message):
    recorder = Recorder(tmp_path, tag="a", clock=lambda: NOON)

    with pytest.raises(ValueError, match=message):
        recorder.record({"text": "oi", "object": None}, client_id="c", **kwargs)

    assert not list(tmp_path.rglob("*.jsonl"))
