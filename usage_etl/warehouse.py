"""The DuckDB warehouse: the same usage_logs rows as the usage database, plus the models reports read.

The warehouse connection is also where each batch is parsed and priced (in temp tables), so the rows
move between steps without leaving DuckDB.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from usage_etl import SQL_DIR
from usage_etl.settings import DEFAULT_MEMORY_LIMIT

CHECKPOINT_THRESHOLD = "1GB"
CREATE_STATEMENTS = (
    "create_usage_logs.sql", "create_rejected_lines.sql", "create_model_state.sql", "create_model_changes.sql",
)


class WarehouseError(RuntimeError):
    """The warehouse file cannot be opened; the message is one sentence for the operator."""


def open_warehouse(path: Path | str, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> duckdb.DuckDBPyConnection:
    """Open (creating if needed) the warehouse file and its tables; ':memory:' gives a throwaway one.

    `memory_limit` caps DuckDB's memory (DuckDB's syntax: '512MB', '2GB').
    """
    target = str(path)
    if target != ":memory:":
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(target)
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open the DuckDB warehouse {target}: {exc}") from exc
    _use_utc(con)
    try:
        con.execute("set memory_limit = ?", [memory_limit])
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(f"USAGE_ETL_WAREHOUSE_MEMORY is not a memory size DuckDB reads (like 512MB): {exc}") from exc
    # At the default 16 MB of WAL DuckDB checkpoints several times per batch; every 1 GB is enough.
    con.execute(f"set checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
    for name in CREATE_STATEMENTS:
        con.execute(read_sql(name))
    _drop_usage_logs_key(con)
    return con


def another_connection(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Open a second connection to the same warehouse, in UTC like the first.

    Each connection has its own temp tables, so two batches can be worked on at once, one per connection.
    """
    other = con.cursor()
    _use_utc(other)
    return other


def _use_utc(con: duckdb.DuckDBPyConnection) -> None:
    """Work in UTC on this connection (DuckDB's time zone is a per-connection setting)."""
    con.execute("set TimeZone = 'UTC'")


def _drop_usage_logs_key(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild a usage_logs made before the event_id key was dropped (DuckDB cannot drop a key in place)."""
    keyed = con.execute(
        "select count(*) from duckdb_constraints() where table_name = 'usage_logs' and constraint_type = 'PRIMARY KEY'"
    ).fetchall()[0][0]  # all fetched: a result left open blocks register() later
    if not keyed:
        return
    with transaction(con):
        con.execute("create table usage_logs_unkeyed as select * from usage_logs order by created_at")
        con.execute("drop table usage_logs")
        con.execute("alter table usage_logs_unkeyed rename to usage_logs")


def read_sql(name: str) -> str:
    """Return the text of one SQL file under warehouse/."""
    return (SQL_DIR / name).read_text()


def load_calls(con: duckdb.DuckDBPyConnection, calls: str) -> int:
    """Insert the batch's calls not in the warehouse yet (those not in the temp table known_calls); return how many."""
    added = con.execute(read_sql("insert_usage_logs.sql").replace("{calls}", calls)).fetchall()[0][0]
    if added:
        mark_models_stale(con, f"select created_at from {calls}")
    return added


def mark_models_stale(con: duckdb.DuckDBPyConnection, changed_calls: str, params: dict | None = None) -> None:
    """Note that usage_logs changed, and in which hours (those of `changed_calls`, a query with a created_at
    column), so the next refresh rebuilds the models there; call it in the change's transaction."""
    con.execute("update model_state set stale = true")
    con.execute(f"insert into model_changes select distinct date_trunc('hour', created_at) from ({changed_calls})",
                params or {})


def load_rejects(con: duckdb.DuckDBPyConnection, rejects: str) -> None:
    """Mirror the batch's quarantined lines into the warehouse."""
    con.execute(read_sql("insert_rejected_lines.sql").replace("{rejects}", rejects))


def forget_files(con: duckdb.DuckDBPyConnection, raw_files: list[str]) -> int:
    """Delete the warehouse rows that came from these files; return how many calls went."""
    con.execute("create or replace temp table forget_files (raw_file varchar)")
    con.executemany("insert into forget_files values (?)", [(f,) for f in raw_files])
    forgotten = "select created_at from usage_logs where raw_file in (select raw_file from forget_files)"
    gone = con.execute(f"select count(*) from ({forgotten})").fetchone()[0]
    if gone:
        mark_models_stale(con, forgotten)  # before the rows go: their hours
    con.execute("delete from usage_logs where raw_file in (select raw_file from forget_files)")
    con.execute("delete from rejected_lines where raw_file in (select raw_file from forget_files)")
    return gone


def keep_partial_row_groups(con: duckdb.DuckDBPyConnection) -> None:
    """Stop the warehouse's checkpoints from merging small row groups into their neighbours until it is closed.

    For runs that only insert: each batch ends in one part-filled row group, and merging it into the next
    rewrites whole compressed row groups (~3.5 CPU-s per 1M rows, more than the inserts' compression).
    A partial row group only costs a little metadata and scan overhead. The merge also reclaims deleted rows,
    so runs that delete (backfill) keep it, and merge the row groups they delete from. The setting is DuckDB's
    global one: it holds for the open database file (every connection to it), and a new open starts without it.
    """
    con.execute("set max_vacuum_tasks = 0")


def checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    """Write what was committed into the warehouse file, freeing the memory that held it."""
    con.execute("checkpoint")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Run a block in one warehouse transaction: all of it is kept, or none."""
    con.execute("begin transaction")
    try:
        yield
    except BaseException:
        con.execute("rollback")
        raise
    con.execute("commit")
