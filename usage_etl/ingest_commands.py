"""`usage-etl ingest`, `backfill` and `nightly`."""
from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from usage_etl import prefect_api
from usage_etl.db.engine import UsageDatabaseError
from usage_etl.rawlog import RawLogError
from usage_etl.settings import Settings
from usage_etl.warehouse import WarehouseError

OPERATOR_ERRORS = (UsageDatabaseError, RawLogError, WarehouseError)


def register(sub) -> None:
    """Add the ingest sub-commands to the parser."""
    p = sub.add_parser("ingest", help="load every complete raw line not loaded before")
    p.add_argument("--raw-logs", type=Path, help="raw-logs root (default: USAGE_ETL_RAW_LOGS)")
    p.set_defaults(func=run_ingest)

    p = sub.add_parser("backfill", help="re-read whole day partitions and replace their rows")
    p.add_argument("--since", type=_day, required=True, help="first day, YYYY-MM-DD")
    p.add_argument("--until", type=_day, required=True, help="last day, YYYY-MM-DD (included)")
    p.add_argument("--raw-logs", type=Path, help="raw-logs root (default: USAGE_ETL_RAW_LOGS)")
    p.set_defaults(func=run_backfill)

    p = sub.add_parser("nightly", help="what the schedule runs: ingest, reprice if prices changed, then the reports")
    p.add_argument("--raw-logs", type=Path, help="raw-logs root (default: USAGE_ETL_RAW_LOGS)")
    p.add_argument("--as-of", type=_day, help="run as if today were this day (default: today)")
    p.set_defaults(func=run_nightly)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day in YYYY-MM-DD form: {value!r}") from None


def _fail(exc: Exception) -> int:
    print(f"usage-etl: {exc}", file=sys.stderr)
    return 2


def run_ingest(args, settings: Settings) -> int:
    """Run the ingest flow and print its summary."""
    ingest = prefect_api.import_flows("flows.ingest").ingest

    try:
        summary = ingest(raw_logs=str(args.raw_logs) if args.raw_logs else None, settings=settings)
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    print(summary.to_text())
    return 0


def run_backfill(args, settings: Settings) -> int:
    """Run the backfill flow over the given days and print its summary."""
    backfill = prefect_api.import_flows("flows.ingest").backfill

    if args.until < args.since:
        return _fail(ValueError(f"--until {args.until} is before --since {args.since}"))
    try:
        summary = backfill(
            since=args.since, until=args.until, raw_logs=str(args.raw_logs) if args.raw_logs else None,
            settings=settings, progress=sys.stderr.isatty(),
        )
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    print(summary.to_text())
    return 0


def run_nightly(args, settings: Settings) -> int:
    """Run the nightly flow: ingest, reprice if prices changed, then yesterday's reports (and on Mondays the weekly)."""
    nightly = prefect_api.import_flows("flows.nightly").nightly
    from usage_etl.reporting.commands import format_result

    try:
        result = nightly(
            raw_logs=str(args.raw_logs) if args.raw_logs else None,
            as_of=args.as_of.isoformat() if args.as_of else None,
            settings=settings,
        )
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    print(result["ingest"].to_text())
    print()
    if result["reprice"] is None:
        print("reprice: no price added or changed since the last reprice; nothing re-costed")
    else:
        print(result["reprice"].to_text())
    for report in result["reports"]:
        print()
        print(format_result(report))
    return 0
