"""Helpers for end-to-end runs of the real flows on tmp_path."""
from __future__ import annotations

import gzip
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from usage_etl.settings import Settings


def groq_call(event_id: str | None, logged_at: str, client: str = "acme", prompt: int = 150, completion: int = 80,
              phone: str = "+5511987651234") -> dict:
    """One successful Groq llama-3.3-70b-versatile chat call: 150 + 80 tokens cost $0.0001517."""
    envelope = {
        "logged_at": logged_at, "client_id": client, "provider": "groq", "endpoint": "chat.completions",
        "conversation_id": "conv-1", "phone": phone, "request": {"model": "llama-3.3-70b-versatile"},
        "response": {
            "id": f"chatcmpl-{event_id}", "object": "chat.completion", "model": "llama-3.3-70b-versatile",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Oi!"}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                      "queue_time": 0.1, "prompt_time": 0.01, "completion_time": 0.02, "total_time": 0.03},
            "x_groq": {"id": "req_1"},
        },
    }
    if event_id is not None:
        envelope["event_id"] = event_id
    return envelope


def line(envelope: dict) -> bytes:
    """Serialise one envelope as a JSONL line."""
    return json.dumps(envelope).encode() + b"\n"


def write(root: Path, rel: str, data: bytes, mode: str = "wb") -> Path:
    """Write (or append) raw bytes to a raw log file, gzip-compressing `.gz` files."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if rel.endswith(".gz"):
        data = gzip.compress(data)
    with open(path, mode) as fh:
        fh.write(data)
    return path


@pytest.fixture
def make_settings(tmp_path):
    """Build Settings pointing every store at tmp_path (usage DB URL given by the test)."""
    def _make(db_url: str, name: str = "run") -> Settings:
        base = tmp_path / name
        base.mkdir(exist_ok=True)
        return Settings(db_url=db_url, warehouse=base / "usage.duckdb", raw_logs=tmp_path / "raw",
                        reports_dir=base / "reports")
    return _make


SEED_COST = Decimal("0.0001517")


def cli_env(tmp_path: Path) -> dict:
    """The environment of a CLI run on a one-call log under tmp_path, with no Prefect server configured."""
    raw = tmp_path / "raw"
    write(raw, "2026/11/10/bot-1.jsonl", line(groq_call("e1", "2026-11-10T12:00:00Z")))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API_URL", "USAGE_ETL_"))}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               USAGE_ETL_DB_URL=f"sqlite:///{tmp_path / 'usage.sqlite'}", USAGE_ETL_WAREHOUSE=str(tmp_path / "w.duckdb"),
               USAGE_ETL_RAW_LOGS=str(raw))
    return env
