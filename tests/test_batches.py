"""Batches of raw lines: bounded in bytes, whole lines only, offsets that follow the lines."""
import threading

import pytest

from usage_etl.ingest import plan_batches, read_ahead
from usage_etl.rawlog import FileState


def write_lines(path, count, width):
    """Write `count` lines of exactly `width` bytes each (newline included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(b"x" * (width - 1) + b"\n" for _ in range(count)))


def test_batches_never_hold_more_than_the_budget_and_cover_every_line_once(tmp_path):
    write_lines(tmp_path / "2026/11/10/a.jsonl", 25, 100)  # 2,500 bytes
    write_lines(tmp_path / "2026/11/10/b.jsonl", 3, 100)  # 300 bytes
    batches = list(plan_batches(tmp_path, ["2026/11/10/a.jsonl", "2026/11/10/b.jsonl"], {}, 1_000))
    # 1,000-byte budget: a.jsonl reads as 1,000 + 1,000 + 500 bytes; the 500 and b's 300 share a batch
    assert [b.bytes for b in batches] == [1_000, 1_000, 800]
    assert [[len(c.lines) for c in b.chunks] for b in batches] == [[10], [10], [5, 3]]
    assert batches[-1].states == {"2026/11/10/a.jsonl": FileState(2_500, 25, batches[-1].states["2026/11/10/a.jsonl"].head_hash),
                                  "2026/11/10/b.jsonl": FileState(300, 3, batches[-1].states["2026/11/10/b.jsonl"].head_hash)}


def test_a_line_longer_than_the_budget_is_a_batch_of_its_own(tmp_path):
    write_lines(tmp_path / "2026/11/10/a.jsonl", 1, 50)
    path = tmp_path / "2026/11/10/a.jsonl"
    path.write_bytes(path.read_bytes() + b"y" * 2_999 + b"\n" + b"z" * 49 + b"\n")
    batches = list(plan_batches(tmp_path, ["2026/11/10/a.jsonl"], {}, 1_000))
    assert sum(b.bytes for b in batches) == 3_100
    assert [len(c.lines) for b in batches for c in b.chunks] == [1, 1, 1]
    assert max(b.bytes for b in batches) == 3_000  # the long line, whole


def test_a_batch_keeps_the_first_line_of_each_event_id():
    from usage_etl import warehouse

    con = warehouse.open_warehouse(":memory:")
    con.execute("create temp table priced_calls as select * exclude (ingested_at) from usage_logs limit 0")
    lines = [("e1", "2026/11/10/b.jsonl", 1, 10), ("e1", "2026/11/10/a.jsonl", 7, 20), ("e1", "2026/11/10/a.jsonl", 3, 30),
             ("e2", "2026/11/10/a.jsonl", 1, 40), ("e3", "2026/11/10/b.jsonl", 2, 50), ("e3", "2026/11/10/b.jsonl", 9, 60)]
    for event_id, raw_file, raw_line, tokens in lines:
        con.execute("""insert into priced_calls (event_id, client_id, source, provider, endpoint, created_at, has_usage,
                       is_error, raw_file, raw_line, total_tokens, cost_status)
                       values (?, 'acme', 'groq', 'groq', 'chat.completions', '2026-11-10 12:00:00+00', true, false, ?, ?, ?,
                               'priced')""", [event_id, raw_file, raw_line, tokens])
    con.execute("create temp table batch_calls as " + warehouse.read_sql("dedupe_batch_calls.sql").replace("{priced_calls}", "priced_calls"))
    kept = con.execute("select event_id, raw_file, raw_line, total_tokens from batch_calls order by event_id").fetchall()
    assert kept == [("e1", "2026/11/10/a.jsonl", 3, 30), ("e2", "2026/11/10/a.jsonl", 1, 40),
                    ("e3", "2026/11/10/b.jsonl", 2, 50)]


def test_the_next_batch_is_read_while_the_caller_works_on_this_one():
    produced = []
    second_read = threading.Event()

    def batches():
        for n in (1, 2, 3):
            produced.append(n)
            if n == 2:
                second_read.set()
            yield n

    seen = []
    for batch in read_ahead(batches()):
        if batch == 1:
            assert second_read.wait(5), "batch 2 was not read while batch 1 was being worked on"
            assert produced == [1, 2]  # one batch ahead, not more
        seen.append(batch)
    assert seen == [1, 2, 3]


def test_a_read_error_reaches_the_caller_after_the_batches_before_it():
    def batches():
        yield 1
        raise OSError("disk gone")

    seen = []
    with pytest.raises(OSError, match="disk gone"):
        for batch in read_ahead(batches()):
            seen.append(batch)
    assert seen == [1]
