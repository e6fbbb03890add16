"""Batches of raw lines: bounded in bytes, whole lines only, offsets that follow the lines."""
from usage_etl.ingest import plan_batches
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
