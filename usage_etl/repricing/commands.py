"""`usage-etl reprice`."""
from __future__ import annotations

import argparse
import sys
from datetime import date

from usage_etl import prefect_api
from usage_etl.db.engine import UsageDatabaseError
from usage_etl.settings import Settings
from usage_etl.warehouse import WarehouseError


def register(sub) -> None:
    """Add the reprice sub-command to the parser."""
    p = sub.add_parser("reprice", help="re-cost stored calls with today's prices and record the restatements")
    p.add_argument("--since", type=_day, help="first local day to re-cost, YYYY-MM-DD (default: every day)")
    p.add_argument("--client", help="re-cost only this client's calls")
    p.set_defaults(func=run_reprice)


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day in YYYY-MM-DD form: {value!r}") from None


def run_reprice(args, settings: Settings) -> int:
    """Re-cost the calls from --since on (of --client), print the restatements and their total.

    Args:
        args: parsed arguments: `since` (a date or None) and `client` (a client id or None).
        settings: the job's settings (usage database, warehouse, time zone of the days).
    """
    reprice = prefect_api.import_flows("flows.reprice").reprice

    try:
        summary = reprice(since=args.since, client_id=args.client, settings=settings)
    except (UsageDatabaseError, WarehouseError) as exc:
        print(f"usage-etl: {exc}", file=sys.stderr)
        return 2
    print(summary.to_text())
    return 0
