"""Parse a batch of raw lines into calls and quarantined lines, in DuckDB, with no Python per line.

The reader stages the lines as a table (raw_file, raw_line, line); parsing reads every envelope once with
json_transform, checks it against the response-log contract (docs/log-format.md) and splits the batch into
`parsed_calls` (usage_etl.columns.PARSED_CALL_COLUMNS) and `rejected_batch` (REJECTED_LINE_COLUMNS).
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb

from usage_etl import warehouse
from usage_etl.columns import PARSED_CALL_COLUMNS, REJECTED_LINE_COLUMNS


@dataclass(frozen=True)
class ParseCounts:
    """How the lines of one batch were split."""

    lines: int
    calls: int
    rejected: int
    blank: int


def create_parse_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define the JSON-leaf helper macros parsing uses on this connection."""
    con.execute(warehouse.read_sql("create_parse_macros.sql"))


def parse_raw_lines(con: duckdb.DuckDBPyConnection, raw_lines: str = "raw_lines") -> ParseCounts:
    """Split the table `raw_lines` into `parsed_calls` and the temp table `rejected_batch`; return the counts.

    `parsed_calls` is a view of the good rows of the temp table `decoded_lines` (kept until the next batch):
    copying a batch's calls into a table of their own would cost a single-threaded pass over them.
    """
    create_parse_macros(con)
    con.execute(
        "create or replace temp table decoded_lines as "
        + warehouse.read_sql("decode_raw_lines.sql").replace("{raw_lines}", raw_lines)
    )
    con.execute("create or replace temp view parsed_calls as " + warehouse.read_sql("select_parsed_calls.sql"))
    con.execute("create or replace temp table rejected_batch as "
        + warehouse.read_sql("select_rejected_lines.sql").replace("{raw_lines}", raw_lines))
    _check_columns(con, "parsed_calls", PARSED_CALL_COLUMNS)
    _check_columns(con, "rejected_batch", REJECTED_LINE_COLUMNS)
    lines = con.execute(f"select count(*) from {raw_lines}").fetchone()[0]
    decoded = con.execute("select count(*) from decoded_lines").fetchone()[0]
    calls = con.execute("select count(*) from parsed_calls").fetchone()[0]
    return ParseCounts(lines=lines, calls=calls, rejected=decoded - calls, blank=lines - decoded)


def _check_columns(con: duckdb.DuckDBPyConnection, table: str, expected: dict[str, str]) -> None:
    """Fail loudly if a SQL edit broke the column contract between steps."""
    names = [row[0] for row in con.execute(f"describe {table}").fetchall()]
    if names != list(expected):
        raise AssertionError(f"{table} has columns {names}, the contract says {list(expected)}")
