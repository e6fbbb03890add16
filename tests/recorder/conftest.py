"""Fixtures of the recorder tests: a stand-in API server, a recorder with a fixed clock, real SDK clients."""
from __future__ import annotations

import itertools
import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from usage_etl.recorder import Recorder, recorded
from usage_etl.recorder.standin import StandInServer

FIXED_NOW = datetime(2026, 11, 20, 14, 30, 5, 250000, tzinfo=timezone.utc)


def read_envelopes(root: Path) -> list[dict]:
    """Return every line under `root`, parsed, in file then line order."""
    lines = []
    for path in sorted(root.rglob("*.jsonl")):
        lines += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return lines


@pytest.fixture
def read_log(log_root: Path):
    """Return a function giving every envelope written under the test's raw-logs root."""
    return lambda: read_envelopes(log_root)


@pytest.fixture(scope="session")
def standin():
    """Serve queued provider-shaped replies on 127.0.0.1 for the whole session."""
    with StandInServer() as server:
        yield server


@pytest.fixture
def server(standin):
    """Give each test the stand-in with no reply left over and no request seen."""
    standin.replies.clear()
    standin.requests.clear()
    yield standin
    assert not standin.replies, "a queued reply was not used"


@pytest.fixture
def log_root(tmp_path: Path) -> Path:
    """Return the raw-logs root of one test."""
    return tmp_path / "raw_logs"


@pytest.fixture
def recorder(log_root: Path) -> Recorder:
    """Return a recorder with a fixed clock and event ids evt-0001, evt-0002, ..."""
    counter = itertools.count(1)
    return Recorder(log_root, writer="chatbot", tag="test", clock=lambda: FIXED_NOW,
                    event_ids=lambda: f"evt-{next(counter):04d}")


@pytest.fixture
def openai_client(server, recorder):
    """Return a real `openai.OpenAI` pointed at the stand-in, recorded for client acme-clinic."""
    from openai import OpenAI

    return recorded(OpenAI(base_url=server.openai_base_url, api_key="sk-test", max_retries=0), recorder,
                    client_id="acme-clinic")


@pytest.fixture
def groq_client(server, recorder):
    """Return a real `groq.Groq` pointed at the stand-in, recorded for client padaria-sol."""
    from groq import Groq

    return recorded(Groq(base_url=server.groq_base_url, api_key="gsk-test", max_retries=0), recorder,
                    client_id="padaria-sol")
