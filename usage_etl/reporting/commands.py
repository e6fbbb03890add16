"""`usage-etl report daily|weekly`: render (and with --email send) the cost reports."""
from __future__ import annotations

import argparse
import sys
from datetime import date

from usage_etl import prefect_api
from usage_etl.db.engine import UsageDatabaseError
from usage_etl.reporting.periods import parse_week
from usage_etl.settings import Settings
from usage_etl.warehouse import WarehouseError

OPERATOR_ERRORS = (UsageDatabaseError, WarehouseError)


def register(sub) -> None:
    """Add this area's sub-commands to the parser."""
    register_report(sub)


def register_report(sub) -> None:
    """Add `report daily` and `report weekly`."""
    report = sub.add_parser("report", help="render (and with --email send) the cost reports")
    kinds = report.add_subparsers(dest="report_kind", required=True)

    daily = kinds.add_parser("daily", help="one local day's reports (default: yesterday)")
    daily.add_argument("--date", type=_day, help="the local day, YYYY-MM-DD (default: yesterday in USAGE_ETL_TIMEZONE)")
    _add_common(daily)
    daily.set_defaults(func=run_report)

    weekly = kinds.add_parser("weekly", help="one ISO week's reports (default: the last full week)")
    weekly.add_argument("--week", type=_week, help="the ISO week, YYYY-Www (default: the last full week)")
    _add_common(weekly)
    weekly.set_defaults(func=run_report)


def _add_common(parser: argparse.ArgumentParser) -> None:
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--client", metavar="ID", help="only this client's report ('_all': only the operator's)")
    who.add_argument("--all", action="store_true", help="every client's report and the operator's (the default)")
    parser.add_argument("--email", action="store_true", help="email what was rendered to its recipients")
    parser.add_argument("--resend", action="store_true", help="with --email: send again reports already sent")


def _day(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day in YYYY-MM-DD form: {value!r}") from None


def _week(value: str) -> str:
    try:
        return parse_week(value).label
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def run_report(args, settings: Settings) -> int:
    """Run the daily or weekly report flow and print where each report went."""
    flows = prefect_api.import_flows("flows.reports")
    daily_reports, weekly_reports = flows.daily_reports, flows.weekly_reports

    options = {"client_id": None if args.all else args.client, "send_email": args.email, "resend": args.resend,
               "settings": settings}
    try:
        if args.report_kind == "daily":
            result = daily_reports(report_date=args.date, **options)
        else:
            result = weekly_reports(week=args.week, **options)
    except OPERATOR_ERRORS as exc:
        print(f"usage-etl: {exc}", file=sys.stderr)
        return 2
    print(format_result(result))
    return 0


def format_result(result: dict) -> str:
    """Return the flow's result as lines for the terminal: each report's cost and file."""
    lines = [f"{result['kind']} reports {result['period']}: {len(result['reports'])} rendered"]
    for client_id, path in result["reports"].items():
        lines.append(f"  {client_id}: ${result['total_cost_usd'][client_id]}  {path}")
    if result.get("delivery") is not None:
        lines.append(f"delivery: {result['delivery']}")
    return "\n".join(lines)
