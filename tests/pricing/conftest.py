"""Shared helpers of the pricing tests: the usage database on SQLite and PostgreSQL, the CLI in-process, calls."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

import pytest
from sqlalchemy import Engine, func, insert, select

from usage_etl.cli import main
from usage_etl.db.engine import open_usage_db
from usage_etl.db.schema import pricing_config, usage_logs


@pytest.fixture
def engine(db_url):
    """Open the test's usage database (SQLite file or fresh PostgreSQL schema) with its schema."""
    engine = open_usage_db(db_url)
    yield engine
    engine.dispose()


@dataclass(frozen=True)
class Run:
    """What one `usage-etl` command did: exit code, standard output and standard error."""

    code: int
    out: str
    err: str


@pytest.fixture
def cli(db_url, monkeypatch, capsys):
    """Run `usage-etl ...` in-process against the test's usage database."""
    monkeypatch.setenv("USAGE_ETL_DB_URL", db_url)
    capsys.readouterr()

    def run(*argv: str) -> Run:
        code = main(list(argv))
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run


def table_rows(out: str, header_start: str = "provider") -> list[dict[str, str]]:
    """Read the aligned table a command printed (columns apart by two or more spaces) as dicts."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    header = re.split(r"\s{2,}", lines[start].strip())
    rows = []
    for line in lines[start + 1:]:
        if not line.strip():
            break
        rows.append(dict(zip(header, re.split(r"\s{2,}", line.strip()))))
    return rows


def count_prices(engine: Engine) -> int:
    """Count the pricing_config rows."""
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(pricing_config)).scalar_one()


def add_calls(engine: Engine, calls: list[tuple[str, str, str, str]]) -> None:
    """Store calls (event_id, provider, model, created_at RFC 3339) in usage_logs, as ingest would."""
    now = datetime(2026, 11, 20, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(insert(usage_logs), [
            dict(event_id=event_id, client_id="acme", source="sdk", provider=provider, endpoint="chat.completions",
                 model=model, cost_status="priced", is_error=False,
                 created_at=datetime.fromisoformat(created_at.replace("Z", "+00:00")),
                 raw_file="2026/11/10/bot-1.jsonl", raw_line=n, ingested_at=now)
            for n, (event_id, provider, model, created_at) in enumerate(calls, start=1)
        ])
