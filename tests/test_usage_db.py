"""The usage-database loader on SQLite and PostgreSQL: exact money, duplicates once, offsets with the rows."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from usage_etl import warehouse
from usage_etl.db.engine import UsageDatabaseError, open_usage_db
from usage_etl.db.schema import rejected_lines, usage_logs
from usage_etl.rawlog import FileState
from usage_etl.usage_db import UsageDatabase, export_calls, export_rejects


def _batch(con, rows: list[dict]) -> None:
    """Make a `batch_calls` table shaped like the warehouse's usage_logs, holding `rows`."""
    con.execute("create or replace temp table batch_calls as select * from usage_logs limit 0")
    for row in rows:
        full = {
            "client_id": "acme", "source": "groq", "provider": "groq", "endpoint": "chat.completions",
            "model": "llama-3.3-70b-versatile", "created_at": datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc),
            "has_usage": True, "is_error": False, "raw_file": "2026/11/10/bot-1.jsonl", "cost_status": "priced",
            "ingested_at": datetime(2026, 11, 11, tzinfo=timezone.utc), **row,
        }
        cols = ", ".join(full)
        con.execute(f"insert into batch_calls ({cols}) values ({', '.join('?' for _ in full)})", list(full.values()))


def test_calls_load_once_with_exact_cost_and_extras(db_url):
    engine = open_usage_db(db_url)
    db = UsageDatabase(engine)
    con = warehouse.open_warehouse(":memory:")
    _batch(con, [
        {"event_id": "e1", "raw_line": 1, "prompt_tokens": 150, "completion_tokens": 80, "total_tokens": 230,
         "cost_usd": Decimal("0.0001517"), "price_source": "catalogue", "extras": '{"queue_time": 0.022124504000000003}',
         "conversation_id": "conv-1", "phone": "+5511987651234"},
        {"event_id": "e2", "raw_line": 2, "cost_usd": None, "cost_status": "unpriced", "model": "mystery-model"},
    ])
    with db.transaction() as tx:
        assert tx.write_calls(export_calls(con, "batch_calls")) == 2
    with db.transaction() as tx:  # the same batch again: nothing new
        assert tx.write_calls(export_calls(con, "batch_calls")) == 0
    with engine.connect() as conn:
        rows = {r.event_id: r for r in conn.execute(select(usage_logs)).all()}
    assert rows["e1"].cost_usd == Decimal("0.0001517")
    assert rows["e1"].extras == {"queue_time": 0.022124504000000003}
    assert rows["e1"].conversation_id == "conv-1"
    assert rows["e1"].total_tokens == 230
    assert rows["e2"].cost_usd is None and rows["e2"].cost_status == "unpriced"
    assert rows["e1"].created_at.replace(tzinfo=timezone.utc) == datetime(2026, 11, 10, 12, 0, tzinfo=timezone.utc)


def test_new_calls_are_copied_and_a_loaded_one_among_them_falls_back_to_the_upsert(db_url):
    engine = open_usage_db(db_url)
    db = UsageDatabase(engine)
    con = warehouse.open_warehouse(":memory:")
    _batch(con, [{"event_id": "e1", "raw_line": 1, "cost_usd": Decimal("0.0001517")}])
    with db.transaction() as tx:
        assert tx.write_new_calls(export_calls(con, "batch_calls")) == 1
    # e1 is loaded already: on PostgreSQL the COPY fails on the key, is undone, and the upsert adds e2 alone
    _batch(con, [{"event_id": "e1", "raw_line": 1, "cost_usd": Decimal("9")},
                 {"event_id": "e2", "raw_line": 2, "cost_usd": Decimal("0.25")}])
    with db.transaction() as tx:
        assert tx.write_new_calls(export_calls(con, "batch_calls")) == 1
        tx.save_file_states({"2026/11/10/bot-1.jsonl": FileState(200, 2, "abc")})  # the transaction goes on
    assert db.totals() == {"calls": 2, "cost_usd": Decimal("0.0001517") + Decimal("0.25")}
    assert db.file_states() == {"2026/11/10/bot-1.jsonl": FileState(200, 2, "abc")}


def test_tiny_costs_keep_twelve_decimals(db_url):
    engine = open_usage_db(db_url)
    con = warehouse.open_warehouse(":memory:")
    _batch(con, [{"event_id": "tiny", "raw_line": 1, "cost_usd": Decimal("0.000000590001")}])
    with UsageDatabase(engine).transaction() as tx:
        tx.write_calls(export_calls(con, "batch_calls"))
    with engine.connect() as conn:
        assert conn.execute(select(usage_logs.c.cost_usd)).scalar_one() == Decimal("0.000000590001")


def test_offsets_are_saved_and_rolled_back_with_the_rows(db_url):
    db = UsageDatabase(open_usage_db(db_url))
    con = warehouse.open_warehouse(":memory:")
    _batch(con, [{"event_id": "e1", "raw_line": 1, "cost_usd": Decimal("0.1")}])
    with pytest.raises(RuntimeError):
        with db.transaction() as tx:
            tx.write_calls(export_calls(con, "batch_calls"))
            tx.save_file_states({"2026/11/10/bot-1.jsonl": FileState(100, 1, "abc")})
            raise RuntimeError("killed mid-batch")
    assert db.file_states() == {}
    assert db.totals()["calls"] == 0
    with db.transaction() as tx:
        tx.write_calls(export_calls(con, "batch_calls"))
        tx.save_file_states({"2026/11/10/bot-1.jsonl": FileState(100, 1, "abc")})
    assert db.file_states() == {"2026/11/10/bot-1.jsonl": FileState(100, 1, "abc")}
    with db.transaction() as tx:
        tx.save_file_states({"2026/11/10/bot-1.jsonl": FileState(250, 3, "abc")})
    assert db.file_states()["2026/11/10/bot-1.jsonl"] == FileState(250, 3, "abc")


def test_rejects_are_kept_once_and_forget_files_clears_a_file(db_url):
    engine = open_usage_db(db_url)
    db = UsageDatabase(engine)
    con = warehouse.open_warehouse(":memory:")
    con.execute("create temp table rejected_batch as select 'f.jsonl' raw_file, 7::bigint raw_line, "
                "'not JSON' reason, '{oops' raw_text")
    _batch(con, [{"event_id": "e1", "raw_line": 1, "raw_file": "f.jsonl", "cost_usd": Decimal("0.5")},
                 {"event_id": "e2", "raw_line": 1, "raw_file": "g.jsonl", "cost_usd": Decimal("0.25")}])
    for _ in range(2):
        with db.transaction() as tx:
            tx.write_rejects(export_rejects(con, "rejected_batch"))
            tx.write_calls(export_calls(con, "batch_calls"))
            tx.save_file_states({"f.jsonl": FileState(10, 1, None)})
    with engine.connect() as conn:
        assert conn.execute(select(rejected_lines.c.raw_line, rejected_lines.c.reason, rejected_lines.c.raw_text)).all() == [
            (7, "not JSON", "{oops")
        ]
    with db.transaction() as tx:
        assert tx.forget_files(["f.jsonl"]) == 1
    assert db.totals() == {"calls": 1, "cost_usd": Decimal("0.25")}
    assert db.file_states() == {}
    with engine.connect() as conn:
        assert conn.execute(select(rejected_lines)).all() == []


def test_unreachable_database_is_one_sentence(tmp_path):
    with pytest.raises(UsageDatabaseError, match="cannot connect to the usage database"):
        open_usage_db("postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    with pytest.raises(UsageDatabaseError, match="does not exist"):
        open_usage_db(f"sqlite:///{tmp_path / 'missing.sqlite'}", create=False)
