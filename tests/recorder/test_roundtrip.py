"""Round trip: lines this recorder wrote, loaded by `usage-etl ingest`, priced to the last decimal."""
from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import groq
import openai
import pytest

from usage_etl.recorder import call_context, recorded
from usage_etl.recorder import shapes

USAGE_ETL = Path(sys.executable).parent / "usage-etl"


def test_ingest_prices_what_the_recorder_wrote(server, recorder, log_root, tmp_path):
    gq = recorded(groq.Groq(base_url=server.groq_base_url, api_key="x", max_retries=0), recorder, client_id="padaria-sol")
    oa = recorded(openai.OpenAI(base_url=server.openai_base_url, api_key="x", max_retries=0), recorder,
                  client_id="acme-clinic")
    server.reply(shapes.groq_chat("llama-3.3-70b-versatile", 150, 80))
    server.reply(shapes.openai_error(429), status=429)
    with call_context(phone="+5521976543210", conversation_id="conv-7"):
        gq.chat.completions.create(model="llama-3.3-70b-versatile", messages=[{"role": "user", "content": "oi"}])
    with pytest.raises(openai.RateLimitError):
        oa.chat.completions.create(model="gpt-4o-mini", messages=[])

    env = {
        **os.environ,
        "USAGE_ETL_DB_URL": f"sqlite:///{tmp_path / 'u.sqlite'}",
        "USAGE_ETL_WAREHOUSE": str(tmp_path / "w.duckdb"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }
    run = subprocess.run([str(USAGE_ETL), "ingest", "--raw-logs", str(log_root)], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]

    with sqlite3.connect(tmp_path / "u.sqlite") as db:
        rows = db.execute(
            "select event_id, client_id, phone, conversation_id, provider, model, prompt_tokens, completion_tokens,"
            " cost_usd, is_error, error_status from usage_logs order by event_id"
        ).fetchall()
    assert len(rows) == 2
    chat, failed = rows
    assert chat[:8] == ("evt-0001", "padaria-sol", "+5521976543210", "conv-7", "groq", "llama-3.3-70b-versatile", 150, 80)
    # $0.59 per million prompt tokens, $0.79 per million completion tokens: 150 * 0.59e-6 + 80 * 0.79e-6.
    assert Decimal(chat[8]) == Decimal("0.0001517")
    assert not chat[9]
    assert failed[0] == "evt-0002" and failed[1] == "acme-clinic"
    assert bool(failed[9]) and failed[10] == 429
