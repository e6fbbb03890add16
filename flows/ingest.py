"""Ingest flows: read new raw lines → parse → price → load the warehouse → load the usage database.

`ingest` reads whatever is new since the last run (safe at any time, any number of times);
`backfill` re-reads whole day partitions from scratch and replaces their rows, one day per transaction.
"""
from __future__ import annotations

from collections import deque
from datetime import date, datetime, timezone
from pathlib import Path

from prefect import flow

from tasks.ingest import (
    add_to_usage_db,
    add_to_warehouse,
    export_for_usage_db,
    list_raw_files,
    load_into_usage_db,
    load_into_warehouse,
    parse_lines,
    price_lines,
    publish_summary,
    refresh_models,
    save_warehouse,
)
from usage_etl import warehouse
from usage_etl.db.engine import open_usage_db
from usage_etl.ingest import IngestSummary, plan_batches, read_ahead
from usage_etl.rawlog import partition_day
from usage_etl.settings import Settings
from usage_etl.usage_db import UsageDatabase

# Usage-database writes queued behind DuckDB: the one running and the next, so DuckDB never waits for the
# database to start on a batch (the database is the slower side on a big ingest). Each holds an exported batch.
WRITES_QUEUED = 2


@flow(name="ingest", log_prints=False)
def ingest(raw_logs: str | None = None, settings: Settings | None = None) -> IngestSummary:
    """Load every complete raw line not loaded before.

    Args:
        raw_logs: the raw-logs root; USAGE_ETL_RAW_LOGS when None.
        settings: the job's settings; read from the environment when None.
    """
    settings = settings or Settings()
    root = Path(raw_logs) if raw_logs else settings.raw_logs
    started_at = datetime.now(timezone.utc)
    files = list_raw_files(root)
    engine = open_usage_db(settings.db_url)
    usage_db = UsageDatabase(engine)
    con = warehouse.open_warehouse(settings.warehouse, settings.warehouse_memory)
    warehouse.keep_partial_row_groups(con)  # ingest only inserts: nothing for a merge to reclaim
    writing: deque = deque()  # the usage database's writes, oldest first: each starts when the one before ends
    # Two connections to the warehouse, each with its own temp tables: while one prices and loads a batch (mostly
    # on one core), the other parses the next one (on every core). Batches take turns on them.
    cons = (con, warehouse.another_connection(con))
    parsing = None  # the parse of the batch after the one being loaded
    unreadable = None  # an error reading the batch after this one: raised once this one is loaded, as before
    try:
        summary = IngestSummary(files=len(files))
        batches = read_ahead(plan_batches(root, files, usage_db.file_states(), settings.batch_bytes))
        batch, turn = next(batches, None), 0
        if batch is not None:
            parsing = parse_lines.submit(cons[0], batch)
        while batch is not None:
            counts = parsing.result()
            try:
                following = next(batches, None)
            except Exception as exc:  # whatever stops the reading (a corrupt gzip, say): this batch loads first
                following, unreadable = None, exc
            this = cons[turn % 2]
            parsing = parse_lines.submit(cons[(turn + 1) % 2], following) if following is not None else None
            # priced only now, after the batch before it is in the warehouse: its known calls include that one's
            counts = price_lines(this, engine, counts)
            load_into_warehouse(this)
            load = export_for_usage_db(this, batch)
            if len(writing) == WRITES_QUEUED:
                summary.add(writing.popleft().result())
            # in order, and only after the previous write succeeded: file offsets never pass a batch not written
            writing.append(load_into_usage_db.submit(usage_db, load, counts, wait_for=list(writing)[-1:]))
            summary.bytes += batch.bytes
            if unreadable is not None:
                raise unreadable
            batch, turn = following, turn + 1
        refresh_models(con, settings.timezone)  # DuckDB's work, while the usage database writes the last batches
        save_warehouse(con)
        while writing:
            summary.add(writing.popleft().result())
        summary.finish()
        usage_db.record_run("ingest", started_at, summary.to_dict())
        publish_summary("ingest", summary)
        return summary
    finally:
        # a failure upstream: let the work in flight end before closing the connections it uses
        for work in [*writing, parsing]:
            if work is not None:
                work.wait()
        cons[1].close()
        con.close()
        engine.dispose()


@flow(name="backfill", log_prints=False)
def backfill(since: date, until: date, raw_logs: str | None = None, settings: Settings | None = None,
             progress: bool = False) -> IngestSummary:
    """Re-read the day partitions from `since` to `until` and replace their rows, re-priced with today's prices.

    Args:
        since: first day partition (YYYY/MM/DD folder) to re-read.
        until: last day partition, included.
        raw_logs: the raw-logs root; USAGE_ETL_RAW_LOGS when None.
        settings: the job's settings; read from the environment when None.
        progress: show a progress bar on the terminal.
    """
    settings = settings or Settings()
    root = Path(raw_logs) if raw_logs else settings.raw_logs
    started_at = datetime.now(timezone.utc)
    files = list_raw_files(root, since, until)
    days: dict[date, list[str]] = {}
    for raw_file in files:
        days.setdefault(partition_day(raw_file), []).append(raw_file)
    engine = open_usage_db(settings.db_url)
    usage_db = UsageDatabase(engine)
    bar = _progress_bar(sum((root / f).stat().st_size for f in files), progress)
    try:
        summary = IngestSummary(files=len(files))
        for day in sorted(days):
            bar.set_description(day.isoformat())
            # one warehouse connection per day: closing it frees the blocks DuckDB cached while reading the
            # history (the day's known calls and forgotten files, its conversations), so memory stays one day's
            con = warehouse.open_warehouse(settings.warehouse, settings.warehouse_memory)
            try:
                with warehouse.transaction(con), usage_db.transaction() as tx:
                    warehouse.forget_files(con, days[day])
                    summary.replaced += tx.forget_files(days[day])
                    for batch in read_ahead(plan_batches(root, days[day], {}, settings.batch_bytes)):
                        counts = parse_lines(con, batch)
                        counts = price_lines(con, engine, counts)
                        add_to_warehouse(con)
                        counts = add_to_usage_db(con, tx, batch, counts)
                        summary.add(counts)
                        summary.bytes += batch.bytes
                        bar.update(sum(c.bytes_read for c in batch.chunks))
                refresh_models(con, settings.timezone)  # the day's models now: a refresh covers one day, not all
                warehouse.checkpoint(con)  # write the day to the file rather than hold it in memory
            finally:
                con.close()
        bar.close()
        summary.finish()
        usage_db.record_run("backfill", started_at, summary.to_dict())
        publish_summary("backfill", summary)
        return summary
    finally:
        engine.dispose()


def _progress_bar(total_bytes: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total_bytes, unit="B", unit_scale=True, disable=not enabled, leave=False)


if __name__ == "__main__":
    ingest()
