"""The ingest's steps on one batch of raw lines, with no Prefect in sight: stage, parse, price, load.

A batch lives in temp tables of the warehouse's DuckDB connection: raw_lines → parsed_calls /
rejected_batch → batch_calls (priced, one row per event_id) (+ known_calls, those the warehouse holds already).
The flows in flows/ call these steps in order.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy import Engine

from usage_etl import warehouse
from usage_etl.parse import parse_raw_lines
from usage_etl.pricing.price_table import build_price_table, priced_calls_sql
from usage_etl.rawlog import Chunk, FileState, chunk_to_arrow, read_chunks
from usage_etl.usage_db import UsageDbTransaction, export_calls, export_rejects

INVALID_UTF8_REASON = "not valid UTF-8 text"
STAGE_ROWS_PER_SLICE = 8192


@dataclass
class Batch:
    """Complete lines from one or more files, read together, and where each file stands after them."""

    chunks: list[Chunk]
    states: dict[str, FileState]

    @property
    def bytes(self) -> int:
        """Count the raw bytes in the batch."""
        return sum(c.bytes_read for c in self.chunks)


@dataclass
class BatchCounts:
    """What one batch did."""

    lines: int = 0
    blank: int = 0
    calls: int = 0
    rejected: int = 0
    loaded: int = 0
    duplicates: int = 0
    unpriced: int = 0
    no_usage: int = 0
    errors: int = 0
    cost_usd: Decimal = Decimal(0)
    reject_reasons: Counter = field(default_factory=Counter)


@dataclass
class IngestSummary:
    """What one ingest or backfill run did, for the operator."""

    files: int = 0
    bytes: int = 0
    lines: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    unpriced: int = 0
    no_usage: int = 0
    errors: int = 0
    cost_usd: Decimal = Decimal(0)
    replaced: int = 0
    reject_reasons: Counter = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0

    def add(self, counts: BatchCounts) -> None:
        """Fold one batch's counts into the run's."""
        self.lines += counts.lines
        self.loaded += counts.loaded
        self.duplicates += counts.duplicates
        self.rejected += counts.rejected
        self.unpriced += counts.unpriced
        self.no_usage += counts.no_usage
        self.errors += counts.errors
        self.cost_usd += counts.cost_usd
        self.reject_reasons.update(counts.reject_reasons)

    def finish(self) -> "IngestSummary":
        """Stop the clock."""
        self.elapsed = time.monotonic() - self.started
        return self

    @property
    def lines_per_second(self) -> float:
        """Lines read per second of the run."""
        return self.lines / self.elapsed if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict:
        """The summary as plain JSON-able values (money as a decimal string)."""
        return {
            "files": self.files,
            "bytes": self.bytes,
            "lines": self.lines,
            "loaded": self.loaded,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "top_reject_reasons": self.reject_reasons.most_common(5),
            "unpriced": self.unpriced,
            "no_usage": self.no_usage,
            "errors": self.errors,
            "total_cost_usd": str(self.cost_usd),
            "replaced": self.replaced,
            "elapsed_seconds": round(self.elapsed, 3),
            "lines_per_second": round(self.lines_per_second, 1),
        }

    def to_text(self) -> str:
        """The summary as the lines the CLI prints."""
        out = [
            f"files            {self.files}",
            f"lines read       {self.lines}",
            f"loaded           {self.loaded}",
            f"duplicates       {self.duplicates}",
            f"rejected         {self.rejected}",
        ]
        for reason, n in self.reject_reasons.most_common(5):
            out.append(f"  {n:>6}  {reason}")
        out += [
            f"unpriced calls   {self.unpriced + self.no_usage}"
            + (f" (no price: {self.unpriced}, no usage logged: {self.no_usage})" if self.unpriced + self.no_usage else ""),
            f"errors           {self.errors}",
            f"total cost       ${self.cost_usd:f}",
            f"elapsed          {self.elapsed:.2f} s",
            f"lines per second {self.lines_per_second:,.0f}",
        ]
        if self.replaced:
            out.insert(1, f"replaced calls   {self.replaced}")
        return "\n".join(out)


def plan_batches(root: Path, raw_files: list[str], states: dict[str, FileState], batch_bytes: int) -> Iterator[Batch]:
    """Read the unread complete lines of `raw_files`, grouped into batches of about `batch_bytes`."""
    chunks: list[Chunk] = []
    after: dict[str, FileState] = {}
    size = 0
    for raw_file in raw_files:
        for chunk in read_chunks(root, raw_file, states.get(raw_file, FileState()), batch_bytes):
            if chunks and size + chunk.bytes_read > batch_bytes:  # a batch never holds more than batch_bytes
                yield Batch(chunks, after)
                chunks, after, size = [], {}, 0
            chunks.append(chunk)
            after[raw_file] = chunk.state
            size += chunk.bytes_read
    if chunks:
        yield Batch(chunks, after)


def read_ahead(batches: Iterator[Batch]) -> Iterator[Batch]:
    """Yield the batches, reading the next one in a thread while the caller works on this one.

    Reading is Python work (file reads, finding newlines, checking UTF-8) and DuckDB releases the GIL while it
    parses, so the two overlap. One batch is read ahead: memory holds at most one more batch of raw text.
    """
    with ThreadPoolExecutor(1, thread_name_prefix="read-ahead") as pool:
        pending = pool.submit(next, batches, None)
        while (batch := pending.result()) is not None:
            pending = pool.submit(next, batches, None)
            yield batch


def stage_batch(con: duckdb.DuckDBPyConnection, batch: Batch) -> int:
    """Make the batch's lines the `raw_lines` view of the connection; return the line count."""
    tables = [chunk_to_arrow(c) for c in batch.chunks if len(c.lines)]
    table = pa.concat_tables(tables) if tables else pa.table(
        {"raw_file": pa.array([], pa.string()), "raw_line": pa.array([], pa.int64()), "line": pa.array([], pa.large_string())}
    )
    # Scanned in place (copying a gigabyte of text into a table costs seconds), in slices of a few thousand
    # lines: DuckDB gives each Arrow record batch to one thread, so one big batch would parse on one core.
    table = pa.Table.from_batches(table.to_batches(max_chunksize=STAGE_ROWS_PER_SLICE), table.schema)
    con.register("raw_lines", table)
    return table.num_rows


def parse_batch(con: duckdb.DuckDBPyConnection, batch: Batch) -> BatchCounts:
    """Parse `raw_lines` into `parsed_calls` and `rejected_batch`, adding lines that were not UTF-8."""
    parsed = parse_raw_lines(con, "raw_lines")
    invalid = [(c.raw_file, n, INVALID_UTF8_REASON, text) for c in batch.chunks for n, text in c.invalid_utf8]
    if invalid:
        con.executemany("insert into rejected_batch values (?, ?, ?, ?)", invalid)
    counts = BatchCounts(lines=parsed.lines, blank=parsed.blank - len(invalid), calls=parsed.calls)
    counts.rejected = parsed.rejected + len(invalid)
    counts.reject_reasons = Counter(
        dict(con.execute("select reason, count(*) from rejected_batch group by reason").fetchall())
    )
    return counts


def price_batch(con: duckdb.DuckDBPyConnection, engine: Engine) -> None:
    """Price `parsed_calls` with the prices in force at each call, keep one row per event_id, note the known ones."""
    build_price_table(con, engine, "parsed_calls")
    # priced and deduplicated in one statement: materialising the priced calls in between costs a pass over them
    priced = f"({priced_calls_sql('parsed_calls', 'prices')})"
    con.execute("create or replace temp table batch_calls as "
                + warehouse.read_sql("dedupe_batch_calls.sql").replace("{priced_calls}", priced))
    con.execute("create or replace temp table known_calls as " + warehouse.read_sql("select_known_calls.sql"))


def new_call_counts(con: duckdb.DuckDBPyConnection, counts: BatchCounts) -> None:
    """Count, among the batch's calls not in the warehouse yet, the unpriced, failed and their cost."""
    row = con.execute(warehouse.read_sql("count_new_batch_calls.sql")).fetchone()
    counts.unpriced, counts.no_usage, counts.errors, counts.cost_usd = row[0], row[1], row[2], Decimal(row[3])


def load_warehouse(con: duckdb.DuckDBPyConnection) -> int:
    """Add the batch's calls and rejects to the warehouse (in the caller's transaction, if one is open)."""
    warehouse.load_rejects(con, "rejected_batch")
    return warehouse.load_calls(con, "batch_calls")


@dataclass
class UsageDbLoad:
    """One batch's writes to the usage database, taken out of DuckDB: calls, bad lines and file offsets.

    Taking them out lets the usage database write one batch while DuckDB parses the next. The calls come
    in two parts: `new_calls`, which the warehouse did not hold before this batch and so, almost always,
    neither does the usage database (written the cheap way), and `known_calls`, which it did (upserted).
    """

    new_calls: pa.Table
    known_calls: pa.Table
    rejects: list[tuple]
    states: dict[str, FileState]


def export_for_usage_db(con: duckdb.DuckDBPyConnection, batch: Batch) -> UsageDbLoad:
    """Take the batch's calls and bad lines out of DuckDB for the usage database."""
    new = "(select * from batch_calls anti join known_calls using (event_id))"
    known = "(select * from batch_calls semi join known_calls using (event_id))"
    return UsageDbLoad(export_calls(con, new), export_calls(con, known), export_rejects(con, "rejected_batch"),
                       batch.states)


def write_usage_db(tx: UsageDbTransaction, load: UsageDbLoad, counts: BatchCounts) -> None:
    """Write an exported batch (calls, bad lines, file offsets) in the caller's transaction."""
    tx.write_rejects(load.rejects)
    counts.loaded = tx.write_new_calls(load.new_calls) + tx.write_calls(load.known_calls)
    counts.duplicates = counts.calls - counts.loaded
    tx.save_file_states(load.states)


def load_usage_db(con: duckdb.DuckDBPyConnection, tx: UsageDbTransaction, batch: Batch, counts: BatchCounts) -> None:
    """Load the batch's calls, rejects and file offsets into the usage database, in the caller's transaction."""
    write_usage_db(tx, export_for_usage_db(con, batch), counts)
