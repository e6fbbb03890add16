"""`usage-etl` sub-commands of the recorder area: `demo`."""
from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from usage_etl.settings import Settings


def register(sub) -> None:
    """Add this area's sub-commands to the parser."""
    p = sub.add_parser(
        "demo",
        help="write sample raw logs: the real OpenAI/Groq SDKs, recorded, against a local stand-in API",
    )
    p.add_argument("--out", type=Path, help="raw-logs root to write to (default: USAGE_ETL_RAW_LOGS)")
    p.add_argument("--days", type=_positive, default=14, help="how many days of calls (default 14)")
    p.add_argument("--end", type=_day, help="last day, YYYY-MM-DD, UTC (default: yesterday)")
    p.add_argument("--seed", type=int, default=2026, help="seed of the random plan (default 2026)")
    p.add_argument("--replace", action="store_true", help="overwrite the demo's own files if they exist")
    p.set_defaults(func=run_demo)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day in YYYY-MM-DD form: {value!r}") from None


def _positive(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"not a positive number of days: {value!r}")
    return n


def run_demo(args, settings: Settings) -> int:
    """Write the sample logs and print what was written.

    Args:
        args: `out`, `days`, `end`, `seed`, `replace` from the command line.
        settings: the job's settings (`raw_logs` is the default output folder).
    """
    from usage_etl.recorder.demo import generate_samples, target_files

    out = args.out or settings.raw_logs
    end = args.end or datetime.now(timezone.utc).date() - timedelta(days=1)
    existing = [p for p in target_files(out, args.days, end) if p.exists()]
    if existing and not args.replace:
        print(f"usage-etl: {existing[0]} already exists (and {len(existing) - 1} more); "
              "pass --replace to write them again", file=sys.stderr)
        return 2
    for path in existing:
        path.unlink()
    summary = generate_samples(out, args.days, end, seed=args.seed)
    print(f"wrote {summary.to_text()} under {out}")
    return 0
