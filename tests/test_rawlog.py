"""The reader: only complete lines, from the saved offset, in plain, CRLF and gzip files."""
from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import pytest

from usage_etl.rawlog import FileState, RawLogError, chunk_to_arrow, discover_files, partition_day, read_chunks


def _write(root: Path, rel: str, data: bytes) -> str:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return rel


def _read_all(root: Path, rel: str, state: FileState = FileState(), max_bytes: int = 1 << 20):
    chunks = list(read_chunks(root, rel, state, max_bytes))
    lines = [line.rstrip("\r\n") for c in chunks for line in c.lines.to_pylist()]
    return lines, (chunks[-1].state if chunks else state), chunks


def test_half_written_last_line_is_left_for_later(tmp_path):
    rel = _write(tmp_path, "2026/11/10/bot-1.jsonl", b'{"a":1}\n{"b":2}\n{"c":')
    lines, state, _ = _read_all(tmp_path, rel)
    assert lines == ['{"a":1}', '{"b":2}']
    assert state.read_offset == 16 and state.lines_read == 2

    with open(tmp_path / rel, "ab") as fh:  # the writer finishes the line and starts another
        fh.write(b'3}\n{"d":4}')
    lines, state, chunks = _read_all(tmp_path, rel, state)
    assert lines == ['{"c":3}']
    assert chunks[0].first_line == 3
    assert state.lines_read == 3 and state.read_offset == 24


def test_nothing_new_reads_nothing(tmp_path):
    rel = _write(tmp_path, "2026/11/10/bot-1.jsonl", b'{"a":1}\n')
    _, state, _ = _read_all(tmp_path, rel)
    lines, again, chunks = _read_all(tmp_path, rel, state)
    assert lines == [] and chunks == [] and again == state


def test_crlf_lines_are_split_at_each_newline_and_keep_their_ending(tmp_path):
    # the text is not copied to cut the endings off: parsing ignores them, the quarantine trims them
    rel = _write(tmp_path, "2026/11/10/bot-1.jsonl", b'{"a":1}\r\n{"b":2}\r\n')
    lines, state, chunks = _read_all(tmp_path, rel)
    assert lines == ['{"a":1}', '{"b":2}']
    assert chunks[0].lines.to_pylist() == ['{"a":1}\r\n', '{"b":2}\r\n']
    assert state.read_offset == 18


def test_gzip_file_is_read_and_resumed_by_decompressed_offset(tmp_path):
    rel = _write(tmp_path, "2026/11/10/bot-1.jsonl.gz", gzip.compress(b'{"a":1}\n{"b":2}\n'))
    lines, state, _ = _read_all(tmp_path, rel)
    assert lines == ['{"a":1}', '{"b":2}'] and state.read_offset == 16
    _write(tmp_path, rel, gzip.compress(b'{"a":1}\n{"b":2}\n{"c":3}\n'))  # rotated file grew
    lines, state, chunks = _read_all(tmp_path, rel, state)
    assert lines == ['{"c":3}'] and chunks[0].first_line == 3


def test_small_batches_split_a_file_without_losing_lines(tmp_path):
    body = b"".join(b'{"n":%d}\n' % i for i in range(1, 101))
    rel = _write(tmp_path, "2026/11/10/bot-1.jsonl", body)
    lines, state, chunks = _read_all(tmp_path, rel, max_bytes=64)
    assert len(chunks) > 5
    assert lines == [f'{{"n":{i}}}' for i in range(1, 101)]
    assert [c.first_line for c in chunks][:2] == [1, chunks[0].state.lines_read + 1]
    assert state.read_offset == len(body)


def test_invalid_utf8_line_is_set_aside_with_its_number(tmp_path):
    rel = _write(tmp_path, "2026/11/10/bot-1.jsonl", b'{"a":1}\n\xff\xfe{"x":1}\n{"b":2}\n')
    lines, _, chunks = _read_all(tmp_path, rel)
    assert lines == ['{"a":1}', "", '{"b":2}']
    assert [n for n, _ in chunks[0].invalid_utf8] == [2]


def test_a_replaced_file_is_read_again_from_the_start(tmp_path):
    rel = _write(tmp_path, "2026/11/10/bot-1.jsonl", b'{"old":1}\n{"old":2}\n')
    _, state, _ = _read_all(tmp_path, rel)
    _write(tmp_path, rel, b'{"new":1}\n{"new":2}\n{"new":3}\n')
    lines, _, _ = _read_all(tmp_path, rel, state)
    assert lines == ['{"new":1}', '{"new":2}', '{"new":3}']


def test_arrow_table_numbers_lines_from_the_chunk_start(tmp_path):
    rel = _write(tmp_path, "2026/11/10/bot-1.jsonl", b'{"a":1}\n{"b":2}\n{"c":3}\n')
    _, state, _ = _read_all(tmp_path, rel)
    _write(tmp_path, rel, b'{"a":1}\n{"b":2}\n{"c":3}\n{"d":4}\n{"e":5}\n')
    _, _, chunks = _read_all(tmp_path, rel, state)
    table = chunk_to_arrow(chunks[0]).to_pydict()
    assert table == {"raw_file": [rel, rel], "raw_line": [4, 5], "line": ['{"d":4}\n', '{"e":5}\n']}


def test_discover_files_keeps_day_partitions_in_range(tmp_path):
    for rel in ("2026/11/09/a.jsonl", "2026/11/10/a.jsonl", "2026/11/10/b.jsonl.gz", "2026/11/11/a.jsonl",
                "notes/readme.jsonl", "2026/11/10/a.txt"):
        _write(tmp_path, rel, b"")
    assert discover_files(tmp_path) == ["2026/11/09/a.jsonl", "2026/11/10/a.jsonl", "2026/11/10/b.jsonl.gz", "2026/11/11/a.jsonl"]
    assert discover_files(tmp_path, date(2026, 11, 10), date(2026, 11, 10)) == ["2026/11/10/a.jsonl", "2026/11/10/b.jsonl.gz"]
    assert partition_day("2026/02/30/a.jsonl") is None


def test_missing_folder_is_one_clear_error(tmp_path):
    with pytest.raises(RawLogError, match="does not exist"):
        discover_files(tmp_path / "nowhere")
