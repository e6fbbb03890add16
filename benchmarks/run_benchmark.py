"""Measure ingest speed and memory against the floor, and backfill memory; write docs/benchmarks.md.

    .venv/bin/python benchmarks/run_benchmark.py [--lines 1000000] [--backfill-days 30 --backfill-lines 100000]

Floor: a bare DuckDB scan of the same fields from the same files plus a COPY of those rows into a
PostgreSQL table, measured in the same run: floor and ingest alternate (--repeats times) and their medians
are compared, so that a slow spell of a shared machine does not land on one side only. Target: ingest
(PostgreSQL + DuckDB, parsed, priced, deduplicated) within 2x the floor, not counting the fixed start-up the
same command spends on a one-line log; peak memory under 2 GB; a 30-day backfill using no more memory than
one day.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))
from generate_logs import generate  # noqa: E402

NOTES_HEADING = "## Where the time goes"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
# The floor reads every field the ingest reads from a line (one json_extract of these paths per line) and COPYs
# the rows into an unindexed PostgreSQL table: (column, JSON path, DuckDB type).
FLOOR_FIELDS = [
    ("event_id", "$.event_id", "varchar"), ("logged_at", "$.logged_at", "timestamptz"),
    ("client_id", "$.client_id", "varchar"), ("provider", "$.provider", "varchar"),
    ("endpoint", "$.endpoint", "varchar"), ("conversation_id", "$.conversation_id", "varchar"),
    ("phone", "$.phone", "varchar"), ("request_model", "$.request.model", "varchar"),
    ("request_audio_seconds", "$.request.audio_seconds", "decimal(18,3)"),
    ("error_status", "$.error.status", "integer"), ("error_type", "$.error.type", "varchar"),
    ("response_model", "$.response.model", "varchar"),
    ("duration", "$.response.duration", "decimal(18,3)"),
    ("response_error_type", "$.response.error.type", "varchar"),
    ("prompt_tokens", "$.response.usage.prompt_tokens", "bigint"),
    ("completion_tokens", "$.response.usage.completion_tokens", "bigint"),
    ("total_tokens", "$.response.usage.total_tokens", "bigint"),
    ("input_tokens", "$.response.usage.input_tokens", "bigint"),
    ("output_tokens", "$.response.usage.output_tokens", "bigint"),
    ("seconds", "$.response.usage.seconds", "decimal(18,3)"),
    ("cached_tokens", "$.response.usage.prompt_tokens_details.cached_tokens", "bigint"),
    ("cache_write_tokens", "$.response.usage.prompt_tokens_details.cache_write_tokens", "bigint"),
    ("audio_prompt_tokens", "$.response.usage.prompt_tokens_details.audio_tokens", "bigint"),
    ("reasoning_tokens", "$.response.usage.completion_tokens_details.reasoning_tokens", "bigint"),
    ("audio_completion_tokens", "$.response.usage.completion_tokens_details.audio_tokens", "bigint"),
    ("input_cached_tokens", "$.response.usage.input_tokens_details.cached_tokens", "bigint"),
    ("output_reasoning_tokens", "$.response.usage.output_tokens_details.reasoning_tokens", "bigint"),
    ("x_groq_id", "$.response.x_groq.id", "varchar"), ("x_groq_usage", "$.response.x_groq.usage", "json"),
    ("queue_time", "$.response.usage.queue_time", "double"),
    ("prompt_time", "$.response.usage.prompt_time", "double"),
    ("completion_time", "$.response.usage.completion_time", "double"),
    ("total_time", "$.response.usage.total_time", "double"),
]
PG_TYPES = {"varchar": "text", "decimal(18,3)": "numeric(18,3)", "double": "double precision"}  # else the same name
# The floor of earlier pages: 8 fields, each read by its own json_extract (kept for comparison).
NARROW_FLOOR_SELECT = """
    json_extract_string(line, '$.event_id') as event_id,
    json_extract_string(line, '$.client_id') as client_id,
    json_extract_string(line, '$.provider') as provider,
    json_extract_string(line, '$.endpoint') as endpoint,
    try_cast(json_extract_string(line, '$.logged_at') as timestamptz) as created_at,
    coalesce(json_extract_string(line, '$.response.model'), json_extract_string(line, '$.request.model')) as model,
    try_cast(json_extract(line, '$.response.usage.prompt_tokens') as bigint) as prompt_tokens,
    try_cast(json_extract(line, '$.response.usage.completion_tokens') as bigint) as completion_tokens
"""
NARROW_FLOOR_COLUMNS = """event_id text, client_id text, provider text, endpoint text, created_at timestamptz, model text,
    prompt_tokens bigint, completion_tokens bigint"""


def floor_select() -> tuple[str, str]:
    """The floor's DuckDB select list (from one json_extract per line) and its PostgreSQL columns."""
    paths = ", ".join(f"'{path}'" for _, path, _ in FLOOR_FIELDS)
    columns = []
    for i, (name, _, duck_type) in enumerate(FLOOR_FIELDS, 1):
        if duck_type == "varchar":
            columns.append(f"v[{i}] ->> '$' as {name}")
        elif duck_type == "json":
            columns.append(f"v[{i}] as {name}")
        else:
            columns.append(f"try_cast(v[{i}] as {duck_type}) as {name}")
    select = f"{', '.join(columns)} from (select json_extract(line, [{paths}]) as v from lines)"
    return select, ", ".join(f"{name} {PG_TYPES.get(duck_type, duck_type)}" for name, _, duck_type in FLOOR_FIELDS)


def create_db() -> str:
    """Create a throwaway PostgreSQL database and return its name."""
    name = f"usage_etl_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'create database "{name}"')
    return name


def drop_db(name: str) -> None:
    """Drop a throwaway database."""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


def discard_run(work: Path, db: str) -> None:
    """Drop a measured run's database and delete its warehouse files."""
    drop_db(db)
    for path in work.glob(f"{db}.duckdb*"):
        path.unlink()


def measure_floor(raw: Path, work: Path, select: str, columns: str) -> float:
    """Bare DuckDB scan of the fields + COPY of the rows into an unindexed PostgreSQL table; wall seconds."""
    db = create_db()
    try:
        start = time.perf_counter()
        con = duckdb.connect()
        files = sorted(str(p) for p in raw.rglob("*.jsonl"))
        csv = work / "floor.csv"
        con.execute(f"""create view lines as select line from read_csv({files!r}, columns={{'line': 'varchar'}},
                        delim='\\x01', quote='', escape='', header=false, max_line_size=10000000)""")
        con.execute(f"copy (select {select}) to '{csv}' (format csv, header false)")
        with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{db}") as conn:
            conn.execute(f"create table floor ({columns})")
            with conn.cursor() as cur, open(csv, "rb") as fh, cur.copy("copy floor from stdin (format csv)") as copy:
                while block := fh.read(8 << 20):
                    copy.write(block)
        return time.perf_counter() - start
    finally:
        drop_db(db)
        (work / "floor.csv").unlink(missing_ok=True)


def run_command(args: list[str], env: dict) -> tuple[float, int, str]:
    """Run one usage-etl command; return wall seconds, peak RSS in MB of the command, and its output."""
    wrapped = ["/usr/bin/time", "-f", "MAXRSS_KB=%M", str(REPO / ".venv/bin/usage-etl"), *args]
    start = time.perf_counter()
    proc = subprocess.run(wrapped, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{args} failed:\n{proc.stdout}\n{proc.stderr[-3000:]}")
    rss_kb = int(next(l for l in proc.stderr.splitlines() if l.startswith("MAXRSS_KB=")).split("=")[1])
    return elapsed, rss_kb // 1024, proc.stdout


def run_env(work: Path, raw: Path, db: str) -> dict:
    """The environment of one measured run (its own database, warehouse and Prefect home)."""
    return {
        **os.environ,
        "USAGE_ETL_DB_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{db}",
        "USAGE_ETL_WAREHOUSE": str(work / f"{db}.duckdb"),
        "USAGE_ETL_RAW_LOGS": str(raw),
        "PREFECT_HOME": str(work / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
    }


def measured_ingest(work: Path, raw: Path, args: list[str]) -> tuple[float, int, str]:
    """Run one command against a fresh database and warehouse."""
    db = create_db()
    try:
        return run_command(args, run_env(work, raw, db))
    finally:
        discard_run(work, db)


def _kept_notes(out: Path) -> str:
    """The hand-written analysis at the end of the page (from its NOTES_HEADING on), kept across re-runs."""
    text = out.read_text() if out.exists() else ""
    at = text.find(NOTES_HEADING)
    return "\n" + text[at:] if at >= 0 else ""


def main() -> None:
    """Generate the logs, measure, and write docs/benchmarks.md."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3, help="floor and ingest runs, interleaved; medians count")
    parser.add_argument("--backfill-days", type=int, default=30)
    parser.add_argument("--backfill-lines", type=int, default=100_000)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "usage-etl-bench")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)

    day = work / f"day-{args.lines}"
    if not day.exists():
        generate(day, args.lines, 1, start)
    size_gb = sum(p.stat().st_size for p in day.rglob("*.jsonl")) / 1e9
    one = work / "one-line"
    if not one.exists():
        generate(one, 1, 1, start)

    measured_ingest(work, one, ["ingest"])  # warm-up: creates Prefect's own database under PREFECT_HOME once
    startup = statistics.median(measured_ingest(work, one, ["ingest"])[0] for _ in range(3))
    # Floor and ingest alternate, so that a slow spell of a shared machine hits both; the medians are compared.
    floors, narrow_floors, ingests = [], [], []
    for _ in range(args.repeats):
        floors.append(measure_floor(day, work, *floor_select()))
        narrow_floors.append(measure_floor(day, work, f"{NARROW_FLOOR_SELECT} from lines", NARROW_FLOOR_COLUMNS))
        ingests.append(measured_ingest(work, day, ["ingest"]))
    floor, narrow_floor = statistics.median(floors), statistics.median(narrow_floors)
    total, _, out = sorted(ingests, key=lambda run: run[0])[len(ingests) // 2]
    rss = max(run[1] for run in ingests)
    ingest_net = total - startup
    print(f"floors {floors}, ingests {[run[0] for run in ingests]} (start-up {startup:.1f}s), peak {rss} MB\n{out}")

    month = work / f"month-{args.backfill_days}x{args.backfill_lines}"
    if not month.exists():
        generate(month, args.backfill_lines, args.backfill_days, start)
    first = start.date().isoformat()
    last = (start + timedelta(days=args.backfill_days - 1)).date().isoformat()
    middle = (start + timedelta(days=(args.backfill_days - 1) // 2)).date().isoformat()
    b1, b1_rss, _ = measured_ingest(work, month, ["backfill", "--since", first, "--until", first])
    db = create_db()
    try:  # all the days, then one day again into the warehouse and database that now hold them
        env = run_env(work, month, db)
        bn, bn_rss, bn_out = run_command(["backfill", "--since", first, "--until", last], env)
        bf, bf_rss, _ = run_command(["backfill", "--since", middle, "--until", middle], env)
    finally:
        discard_run(work, db)
    print(f"backfill 1 day {b1:.1f}s {b1_rss} MB; {args.backfill_days} days {bn:.1f}s {bn_rss} MB; "
          f"1 day into the full warehouse {bf:.1f}s {bf_rss} MB")

    ratio = ingest_net / floor
    runs = ", ".join(f"{f:.1f} / {t - startup:.1f} s ({(t - startup) / f:.2f}x)" for f, (t, _, _) in zip(floors, ingests))
    lines = [
        "# Benchmarks",
        "",
        f"Measured by `benchmarks/run_benchmark.py` on {datetime.now(timezone.utc):%Y-%m-%d}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, PostgreSQL on 127.0.0.1. Re-run it to refresh this page.",
        "",
        f"## One day of {args.lines:,} lines ({size_gb:.2f} GB) into PostgreSQL and DuckDB",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| floor: bare DuckDB scan of every field the ingest reads ({len(FLOOR_FIELDS)} JSON paths, one json_extract "
        f"per line) + COPY of those rows into an unindexed PostgreSQL table, median of {args.repeats} | {floor:.1f} s | |",
        f"| narrower floor of earlier pages (8 fields, a json_extract each) | {narrow_floor:.1f} s | |",
        f"| fixed start-up (same command on a one-line log, median of 3 after a warm-up: Prefect ephemeral server, imports) | {startup:.1f} s | small |",
        f"| `usage-etl ingest`, wall time, median of {args.repeats} | {total:.1f} s | |",
        f"| ingest minus start-up | {ingest_net:.1f} s = {ratio:.2f}x floor ({ingest_net / narrow_floor:.2f}x the narrower "
        f"one) | at most 2x floor {'(met)' if ratio <= 2 else '(NOT met)'} |",
        f"| lines per second (minus start-up) | {args.lines / ingest_net:,.0f} | |",
        f"| each run in turn: floor / ingest minus start-up | {runs} | |",
        f"| peak memory (max RSS of the command, highest of the runs) | {rss} MB | under 2048 MB {'(met)' if rss < 2048 else '(NOT met)'} |",
        "",
        f"## Backfill: {args.backfill_days} days of {args.backfill_lines:,} lines",
        "",
        "| run | wall time | peak memory |",
        "|---|---|---|",
        f"| backfill of 1 day | {b1:.1f} s | {b1_rss} MB |",
        f"| backfill of {args.backfill_days} days | {bn:.1f} s | {bn_rss} MB |",
        f"| then a backfill of 1 day ({middle}) into that warehouse and database | {bf:.1f} s | {bf_rss} MB |",
        "",
        f"Memory of {args.backfill_days} days vs one day into an empty warehouse: {bn_rss / max(b1_rss, 1):.2f}x; "
        f"vs one day into the same warehouse: {bn_rss / max(bf_rss, 1):.2f}x "
        f"({'flat' if bn_rss <= min(b1_rss, bf_rss) * 1.15 else 'NOT flat'}; target: no more than one day, "
        "within 15% of both).",
        "",
        "Ingest summary of the median one-day run:",
        "",
        "```",
        out.strip(),
        "```",
        "",
        f"Backfill summary of the {args.backfill_days}-day run:",
        "",
        "```",
        bn_out.strip(),
        "```",
        "",
    ]
    args.out.write_text("\n".join(lines) + _kept_notes(args.out))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
