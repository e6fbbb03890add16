"""End-to-end runs of the ingest and backfill flows on real SQLite / PostgreSQL and a DuckDB file."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal

import duckdb
import pytest
from sqlalchemy import create_engine, select, func

from usage_etl.db.schema import ingest_files, rejected_lines, usage_logs
from tests.flows.conftest import SEED_COST, groq_call, line, write

pytestmark = pytest.mark.usefixtures("prefect_harness")


def _usage_totals(db_url: str) -> tuple[int, Decimal]:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        costs = conn.execute(select(usage_logs.c.cost_usd)).scalars().all()
    engine.dispose()
    return len(costs), sum((Decimal(c) for c in costs if c is not None), Decimal(0))


def _file_offsets(db_url: str) -> list[tuple[str, int, int]]:
    """How far each raw file was read, by the saved offsets: (raw_file, read_offset, lines_read)."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(ingest_files.c.raw_file, ingest_files.c.read_offset, ingest_files.c.lines_read)
                            .order_by(ingest_files.c.raw_file)).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def _warehouse_totals(path, sql: str = "select count(*), coalesce(sum(cost_usd), 0) from usage_logs") -> tuple[int, Decimal]:
    con = duckdb.connect(str(path), read_only=True)
    n, cost = con.execute(sql).fetchone()
    con.close()
    return n, Decimal(cost)


def _model_totals(path) -> tuple[int, Decimal]:
    """Calls and cost as the reports see them: the daily_costs model."""
    return _warehouse_totals(path, "select sum(requests), sum(cost_usd) from daily_costs")


def test_ingest_twice_changes_nothing_and_counts_each_call_once(db_url, make_settings, tmp_path):
    from flows.ingest import ingest

    settings = make_settings(db_url)
    raw = settings.raw_logs
    body = b"".join(line(groq_call(f"e{i}", f"2026-11-10T12:00:0{i}Z")) for i in range(3))
    write(raw, "2026/11/10/bot-1.jsonl", body + line(groq_call("e0", "2026-11-10T12:00:00Z")))  # a retried line
    first = ingest(settings=settings)
    assert (first.lines, first.loaded, first.duplicates, first.rejected) == (4, 3, 1, 0)
    assert first.cost_usd == 3 * SEED_COST
    second = ingest(settings=settings)
    assert (second.lines, second.loaded) == (0, 0)
    assert _usage_totals(db_url) == (3, Decimal("0.0004551"))
    assert _warehouse_totals(settings.warehouse) == (3, Decimal("0.0004551"))


def test_a_call_logged_again_in_a_later_run_keeps_one_row_in_both_stores(db_url, make_settings):
    from flows.ingest import ingest

    settings = make_settings(db_url)
    write(settings.raw_logs, "2026/11/10/bot-1.jsonl", line(groq_call("e0", "2026-11-10T12:00:00Z")))
    ingest(settings=settings)
    write(settings.raw_logs, "2026/11/10/bot-1.jsonl", line(groq_call("e0", "2026-11-10T12:00:00Z")), mode="ab")
    write(settings.raw_logs, "2026/11/10/bot-2.jsonl", line(groq_call("e0", "2026-11-10T12:00:00Z")))
    again = ingest(settings=settings)
    assert (again.lines, again.loaded, again.duplicates, again.cost_usd) == (2, 0, 2, 0)
    assert _usage_totals(db_url) == (1, SEED_COST)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    assert con.execute("select count(*), count(distinct event_id) from usage_logs").fetchone() == (1, 1)
    con.close()


def test_half_written_last_line_is_loaded_once_when_finished(db_url, make_settings):
    from flows.ingest import ingest

    settings = make_settings(db_url)
    full = line(groq_call("e2", "2026-11-10T12:00:02Z"))
    write(settings.raw_logs, "2026/11/10/bot-1.jsonl", line(groq_call("e1", "2026-11-10T12:00:01Z")) + full[:40])
    first = ingest(settings=settings)
    assert (first.lines, first.loaded, first.rejected) == (1, 1, 0)
    write(settings.raw_logs, "2026/11/10/bot-1.jsonl", full[40:], mode="ab")
    second = ingest(settings=settings)
    assert (second.lines, second.loaded, second.rejected) == (1, 1, 0)
    assert ingest(settings=settings).lines == 0
    assert _usage_totals(db_url) == (2, 2 * SEED_COST)


def test_gzip_and_crlf_files_and_lines_without_event_id(db_url, make_settings):
    from flows.ingest import ingest

    settings = make_settings(db_url)
    no_id = line(groq_call(None, "2026-11-10T13:00:00Z"))
    write(settings.raw_logs, "2026/11/10/old-1.jsonl.gz", line(groq_call("g1", "2026-11-10T12:00:00Z")) + no_id)
    write(settings.raw_logs, "2026/11/10/win-1.jsonl", no_id.replace(b"\n", b"\r\n"))  # same call, CRLF copy
    summary = ingest(settings=settings)
    assert (summary.lines, summary.loaded, summary.duplicates) == (3, 2, 1)
    assert _usage_totals(db_url) == (2, 2 * SEED_COST)


def test_bad_lines_go_to_the_quarantine_with_file_line_and_reason(db_url, make_settings):
    from flows.ingest import ingest

    settings = make_settings(db_url)
    write(settings.raw_logs, "2026/11/10/bot-1.jsonl",
          line(groq_call("ok", "2026-11-10T12:00:00Z")) + b"{not json\n" + b'\xff\xfe\n' + b"[1, 2]\r\n")
    summary = ingest(settings=settings)
    assert (summary.loaded, summary.rejected) == (1, 3)
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(select(rejected_lines.c.raw_file, rejected_lines.c.raw_line, rejected_lines.c.raw_text)
                            .order_by(rejected_lines.c.raw_line)).all()
    engine.dispose()
    assert [(r.raw_file, r.raw_line) for r in rows] == [("2026/11/10/bot-1.jsonl", n) for n in (2, 3, 4)]
    assert (rows[0].raw_text, rows[2].raw_text) == ("{not json", "[1, 2]")  # the text without its line ending
    assert ingest(settings=settings).rejected == 0  # quarantined once, not again on the next run


def test_backfill_replaces_a_day_and_leaves_the_others(db_url, make_settings):
    from flows.ingest import backfill, ingest

    settings = make_settings(db_url)
    write(settings.raw_logs, "2026/11/10/bot-1.jsonl", line(groq_call("d10", "2026-11-10T12:00:00Z")))
    write(settings.raw_logs, "2026/11/11/bot-1.jsonl", line(groq_call("d11", "2026-11-11T12:00:00Z")))
    ingest(settings=settings)
    summary = backfill(since=date(2026, 11, 11), until=date(2026, 11, 11), settings=settings)
    assert (summary.files, summary.replaced, summary.loaded) == (1, 1, 1)
    assert _usage_totals(db_url) == (2, 2 * SEED_COST)
    assert _warehouse_totals(settings.warehouse) == (2, 2 * SEED_COST)
    assert _model_totals(settings.warehouse) == (2, 2 * SEED_COST)

    # both days again, the first now with a second call: each day's models are brought up to date with it
    write(settings.raw_logs, "2026/11/10/bot-1.jsonl",
          line(groq_call("d10", "2026-11-10T12:00:00Z")) + line(groq_call("d10b", "2026-11-10T18:00:00Z")))
    summary = backfill(since=date(2026, 11, 10), until=date(2026, 11, 11), settings=settings)
    assert (summary.files, summary.replaced, summary.loaded) == (2, 2, 3)
    assert _usage_totals(db_url) == (3, 3 * SEED_COST)
    assert _warehouse_totals(settings.warehouse) == (3, 3 * SEED_COST)
    assert _model_totals(settings.warehouse) == (3, 3 * SEED_COST)


KILL_SCRIPT = """
import os, sys
from usage_etl import usage_db
def killed(*args, **kwargs):
    os._exit(9)  # the process dies after the warehouse load, before the usage database load
usage_db.UsageDbTransaction.write_new_calls = killed
usage_db.UsageDbTransaction.write_calls = killed
from flows.ingest import ingest
from usage_etl.settings import Settings
ingest(settings=Settings())
"""


def test_run_killed_between_warehouse_and_usage_db_then_rerun_equals_one_clean_run(db_url, make_settings, tmp_path):
    from prefect.settings import PREFECT_API_URL

    from flows.ingest import ingest

    killed = make_settings(db_url, "killed")
    write(killed.raw_logs, "2026/11/09/bot-1.jsonl", line(groq_call("k-day-before", "2026-11-09T12:00:00Z")))
    ingest(settings=killed)  # the models are built, and current, before the run that dies
    body = b"".join(line(groq_call(f"k{i}", f"2026-11-10T12:00:{i:02d}Z", prompt=100 + i)) for i in range(20))
    write(killed.raw_logs, "2026/11/10/bot-1.jsonl", body)
    env = {**os.environ, "USAGE_ETL_DB_URL": db_url, "USAGE_ETL_WAREHOUSE": str(killed.warehouse),
           "USAGE_ETL_RAW_LOGS": str(killed.raw_logs), "PREFECT_API_URL": PREFECT_API_URL.value() or ""}
    proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 9, proc.stderr[-2000:]
    assert _warehouse_totals(killed.warehouse)[0] == 21  # the warehouse got the batch
    assert _usage_totals(db_url)[0] == 1  # the usage database did not
    rerun = ingest(settings=killed)
    assert rerun.loaded == 20
    clean = make_settings(f"sqlite:///{tmp_path / 'clean.sqlite'}", "clean")
    ingest(settings=clean)
    assert _usage_totals(db_url) == _usage_totals(clean.db_url)
    assert _warehouse_totals(killed.warehouse) == _warehouse_totals(clean.warehouse)
    assert _model_totals(killed.warehouse) == _model_totals(clean.warehouse) == _warehouse_totals(clean.warehouse)
    assert _usage_totals(clean.db_url)[0] == 21


def test_a_failed_usage_db_write_stops_the_writes_queued_behind_it(db_url, make_settings, monkeypatch):
    import flows.ingest as ingest_flow
    from usage_etl import ingest as ingest_steps

    settings = make_settings(db_url)
    lines = [line(groq_call(f"q{i:02d}", f"2026-11-10T12:00:{i:02d}Z")) for i in range(30)]
    assert len(set(map(len, lines))) == 1
    write(settings.raw_logs, "2026/11/10/bot-1.jsonl", b"".join(lines))
    settings.batch_bytes = 10 * len(lines[0])  # three batches of ten lines
    real_write, written = ingest_steps.write_usage_db, []

    def second_write_fails(tx, load, counts):
        written.append(load.new_calls.num_rows)
        if len(written) == 2:
            raise OSError("usage database gone")
        real_write(tx, load, counts)

    monkeypatch.setattr(ingest_steps, "write_usage_db", second_write_fails)
    monkeypatch.setattr(ingest_flow, "load_into_usage_db", ingest_flow.load_into_usage_db.with_options(retries=0))
    with pytest.raises(OSError, match="usage database gone"):
        ingest_flow.ingest(settings=settings)
    assert written == [10, 10]  # the third batch, queued behind the failed one, was never written
    # the offsets stop after the last batch written
    assert _file_offsets(db_url) == [("2026/11/10/bot-1.jsonl", 10 * len(lines[0]), 10)]
    assert _usage_totals(db_url) == (10, 10 * SEED_COST)

    monkeypatch.setattr(ingest_steps, "write_usage_db", real_write)
    rerun = ingest_flow.ingest(settings=settings)
    assert rerun.loaded == 20
    assert _usage_totals(db_url) == _warehouse_totals(settings.warehouse) == (30, 30 * SEED_COST)


def test_a_call_repeated_in_the_batch_parsed_while_its_first_batch_loads_counts_once(db_url, make_settings):
    from flows.ingest import ingest

    settings = make_settings(db_url)
    lines = [line(groq_call(f"r{i:02d}", f"2026-11-10T12:00:{i:02d}Z")) for i in range(20)]
    assert len(set(map(len, lines))) == 1
    # batches of ten lines: the second repeats three calls of the first; the third, two of the second and five
    # of the first
    body = lines[:10] + lines[10:17] + lines[0:3] + lines[17:20] + lines[10:12] + lines[5:10]
    write(settings.raw_logs, "2026/11/10/bot-1.jsonl", b"".join(body))
    settings.batch_bytes = 10 * len(lines[0])
    summary = ingest(settings=settings)
    assert (summary.lines, summary.loaded, summary.duplicates) == (30, 20, 10)
    assert summary.cost_usd == 20 * SEED_COST  # $0.003034
    assert _usage_totals(db_url) == _warehouse_totals(settings.warehouse) == (20, Decimal("0.003034"))
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    assert con.execute("select count(distinct event_id) from usage_logs").fetchone() == (20,)
    con.close()


def test_the_next_batch_is_parsed_while_this_one_is_loaded(db_url, make_settings, monkeypatch):
    import threading

    from flows.ingest import ingest
    from usage_etl import ingest as ingest_steps

    settings = make_settings(db_url)
    lines = [line(groq_call(f"p{i:02d}", f"2026-11-10T12:00:{i:02d}Z")) for i in range(20)]
    write(settings.raw_logs, "2026/11/10/bot-1.jsonl", b"".join(lines))
    settings.batch_bytes = 10 * len(lines[0])  # two batches of ten lines
    second_parse_started = threading.Event()
    real_parse, real_load = ingest_steps.parse_batch, ingest_steps.load_warehouse
    seen_during_first_load = []

    def parse(con, batch):
        if batch.chunks[0].first_line == 11:
            second_parse_started.set()
        return real_parse(con, batch)

    def load(con):
        if not seen_during_first_load:
            seen_during_first_load.append(second_parse_started.wait(timeout=10))
        return real_load(con)

    monkeypatch.setattr(ingest_steps, "parse_batch", parse)
    monkeypatch.setattr(ingest_steps, "load_warehouse", load)
    summary = ingest(settings=settings)
    assert seen_during_first_load == [True]  # one after the other, the wait would have timed out: [False]
    assert (summary.loaded, summary.cost_usd) == (20, 20 * SEED_COST)
    assert _usage_totals(db_url) == _warehouse_totals(settings.warehouse) == (20, Decimal("0.003034"))


def test_a_file_that_cannot_be_read_stops_the_run_after_the_batches_before_it_are_loaded(db_url, make_settings):
    from flows.ingest import ingest
    from usage_etl.rawlog import RawLogError

    settings = make_settings(db_url)
    lines = [line(groq_call(f"g{i:02d}", f"2026-11-10T12:00:{i:02d}Z")) for i in range(20)]
    write(settings.raw_logs, "2026/11/10/bot-1.jsonl", b"".join(lines))
    broken = settings.raw_logs / "2026/11/10/bot-2.jsonl.gz"
    broken.write_bytes(b"\x1f\x8b\x08\x00 this is not gzip data at all")
    settings.batch_bytes = 10 * len(lines[0])  # bot-1 is two batches; the second is only complete once bot-2 is read
    with pytest.raises(RawLogError, match="2026/11/10/bot-2.jsonl.gz: not a readable gzip file"):
        ingest(settings=settings)
    assert _usage_totals(db_url) == _warehouse_totals(settings.warehouse) == (10, 10 * SEED_COST)
    assert _file_offsets(db_url) == [("2026/11/10/bot-1.jsonl", 10 * len(lines[0]), 10)]
