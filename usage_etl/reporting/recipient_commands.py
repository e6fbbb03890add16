"""`usage-etl recipients import|list|remove`: who receives each client's reports."""
from __future__ import annotations

import sys
from pathlib import Path

from usage_etl.db.engine import UsageDatabaseError, open_usage_db
from usage_etl.reporting.recipients import (
    RecipientsError,
    check_email,
    import_recipients,
    list_recipients,
    read_recipients_csv,
    remove_recipient,
    write_recipients_csv,
)
from usage_etl.settings import Settings

OPERATOR_ERRORS = (RecipientsError, UsageDatabaseError)


def register(sub) -> None:
    """Add the `recipients` sub-commands to the parser."""
    recipients = sub.add_parser("recipients", help="who receives each client's reports by email")
    cmd = recipients.add_subparsers(dest="recipients_command", required=True)

    p = cmd.add_parser("import", help="add the recipients of a CSV file (all rows or none); known ones get the "
                                      "file's name; nobody is removed")
    p.add_argument("file", type=Path, help="CSV: client_id, email[, name]; client_id '_all' is the operator")
    p.set_defaults(func=run_import)

    p = cmd.add_parser("list", help="print the recipients as CSV (the format `recipients import` reads)")
    p.add_argument("--client", metavar="ID", help="only this client's recipients ('_all': the operator's)")
    p.set_defaults(func=run_list)

    p = cmd.add_parser("remove", help="stop sending one client's reports to one address")
    p.add_argument("client", help="the client id ('_all': the operator)")
    p.add_argument("email")
    p.set_defaults(func=run_remove)


def _fail(exc: Exception) -> int:
    print(f"usage-etl: {exc}", file=sys.stderr)
    return 2


def run_import(args, settings: Settings) -> int:
    """Add every recipient of a CSV file, or none when a row is bad."""
    try:
        recipients = read_recipients_csv(args.file)
        added, updated = import_recipients(open_usage_db(settings.db_url), recipients)
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    unchanged = len(recipients) - added - updated
    print(f"imported {len(recipients)} recipient(s) from {args.file}: {added} added, {updated} renamed, "
          f"{unchanged} unchanged")
    return 0


def run_list(args, settings: Settings) -> int:
    """Print the recipients as CSV."""
    try:
        recipients = list_recipients(open_usage_db(settings.db_url), args.client)
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    write_recipients_csv(recipients, sys.stdout)
    return 0


def run_remove(args, settings: Settings) -> int:
    """Remove one recipient of one client."""
    try:
        check_email(args.email)
        removed = remove_recipient(open_usage_db(settings.db_url), args.client, args.email)
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    if not removed:
        return _fail(RecipientsError(f"{args.email} is not a recipient of {args.client}"))
    print(f"removed {args.email} from {args.client}'s recipients")
    return 0
