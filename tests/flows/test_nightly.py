"""`usage-etl nightly` end to end on the sample logs: ingest, reprice when prices change, reports, outbox emails."""
from __future__ import annotations

import json
import re
from datetime import timezone
from decimal import Decimal
from email import policy
from email.parser import BytesParser

import pytest
from sqlalchemy import create_engine, select

from tests.conftest import REPO_ROOT
from usage_etl.cli import main
from usage_etl.db.schema import usage_logs

SAMPLE_LOGS = REPO_ROOT / "raw_logs"
RECIPIENTS = REPO_ROOT / "docs" / "examples" / "recipients.csv"
# 2026-11-22 in São Paulo (UTC-3, no DST in 2026) is [03:00Z on the 22nd, 03:00Z on the 23rd)
DAY_START, DAY_END = "2026-11-22 03:00:00", "2026-11-23 03:00:00"


@pytest.fixture
def env(db_url, tmp_path, monkeypatch):
    """Point every store at tmp_path and the usage database under test; read the repo's sample logs."""
    values = {"DB_URL": db_url, "WAREHOUSE": str(tmp_path / "usage.duckdb"), "RAW_LOGS": str(SAMPLE_LOGS),
              "REPORTS_DIR": str(tmp_path / "reports"), "TIMEZONE": "America/Sao_Paulo", "LOCALE": "en"}
    for name, value in values.items():
        monkeypatch.setenv(f"USAGE_ETL_{name}", value)
    for name in ("HOST", "USERNAME", "PASSWORD"):
        monkeypatch.delenv(f"SMTP_{name}", raising=False)
    return values


def day_calls(db_url: str, client_id: str | None = None, model: str | None = None) -> list:
    """Read one local day's (2026-11-22) calls straight from usage_logs, independently of the reports."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(usage_logs)).all()  # the table's types: datetimes and Decimals on both databases
    engine.dispose()
    calls = []
    for row in rows:
        created_at = row.created_at
        if created_at.tzinfo is not None:
            created_at = created_at.astimezone(timezone.utc)
        stamp = created_at.strftime("%Y-%m-%d %H:%M:%S")
        if DAY_START <= stamp < DAY_END and client_id in (None, row.client_id) and model in (None, row.model):
            calls.append(row)
    return calls


def day_cost(db_url: str, client_id: str | None = None, model: str | None = None) -> Decimal:
    """Sum cost_usd of one local day's calls (2026-11-22)."""
    return sum((Decimal(c.cost_usd or 0) for c in day_calls(db_url, client_id, model)), Decimal(0))


def run_nightly(capsys) -> str:
    capsys.readouterr()
    assert main(["nightly", "--as-of", "2026-11-23"]) == 0
    return capsys.readouterr().out


def test_nightly_on_the_sample_logs(prefect_harness, env, capsys, tmp_path):
    reports = tmp_path / "reports"
    assert main(["recipients", "import", str(RECIPIENTS)]) == 0

    out = run_nightly(capsys)
    for label, value in {"lines read": 484, "loaded": 482, "duplicates": 1, "rejected": 1}.items():
        assert re.search(rf"^{label}\s+{value}$", out, re.M), (label, out)
    assert "no price added or changed" not in out  # the first run fingerprints the prices (a full reprice, no change)

    # 2026-11-23 is a Monday: yesterday's daily reports and the weekly reports of 2026-W47, each client and `_all`
    clients = ["_all", "acme-clinic", "escola-norte", "padaria-sol"]
    assert sorted(p.stem for p in (reports / "daily" / "2026-11-22").glob("*.html")) == clients
    assert sorted(p.stem for p in (reports / "weekly" / "2026-W47").glob("*.html")) == clients
    for client in clients:
        figures = json.loads((reports / "daily" / "2026-11-22" / f"{client}.json").read_text())
        assert Decimal(figures["total_cost_usd"]) == day_cost(env["DB_URL"], None if client == "_all" else client)

    # no SMTP configured: one .eml per recipient in the outbox (acme-clinic has two recipients)
    outbox = reports / "outbox"
    emails = sorted(p.relative_to(outbox).as_posix() for p in outbox.rglob("*.eml"))
    assert len(emails) == 10 and len([e for e in emails if e.startswith("daily/2026-11-22/acme-clinic--")]) == 2
    message = BytesParser(policy=policy.default).parse((outbox / "daily" / "2026-11-22" / "_all--ops@example.com.eml")
                                                       .open("rb"))
    assert message["To"] == "Operator <ops@example.com>"
    assert "+5511" not in message.get_body(("plain",)).get_content()  # phones masked in what is emailed

    # a second night with nothing new: nothing loaded, no price change, no email sent twice
    out = run_nightly(capsys)
    assert re.search(r"^loaded\s+0$", out, re.M) and "no price added or changed" in out
    assert len(list(outbox.rglob("*.eml"))) == 10
    assert out.count("delivery: 0 sent, 5 already sent") == 2  # daily and weekly: every recipient had it already

    # a global price for llama-3.3-70b-versatile from local midnight of the 22nd: the next night re-costs those days
    before = day_cost(env["DB_URL"], None)
    llama_before = day_cost(env["DB_URL"], None, "llama-3.3-70b-versatile")
    assert main(["prices", "set", "--provider", "groq", "--model", "llama-3.3-70b-versatile", "--unit", "per_1m_tokens",
                 "--prompt", "1", "--completion", "1", "--from", "2026-11-22T03:00:00Z"]) == 0
    out = run_nightly(capsys)
    assert "2026-11-22" in out and "reprice run" in out
    llama = [c for c in day_calls(env["DB_URL"], None, "llama-3.3-70b-versatile") if not c.is_error]
    tokens = sum(c.prompt_tokens + c.completion_tokens for c in llama)
    assert len(llama) >= 1 and llama_before != tokens / Decimal(1_000_000)
    llama_after = day_cost(env["DB_URL"], None, "llama-3.3-70b-versatile")
    assert llama_after == Decimal(tokens) / 1_000_000  # $1 per million tokens, prompt and completion alike
    assert day_cost(env["DB_URL"], None) == before - llama_before + llama_after
    figures = json.loads((reports / "daily" / "2026-11-22" / "_all.json").read_text())
    assert Decimal(figures["total_cost_usd"]) == before - llama_before + llama_after
    restated = sum((Decimal(r["difference_usd"]) for r in figures["restatements"] if r["day"] == "2026-11-22"),
                   Decimal(0))
    assert restated == llama_after - llama_before  # the report says by how much the day was restated
