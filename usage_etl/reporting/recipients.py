"""Who receives each client's reports: the report_recipients table and its CSV file.

report_recipients: one row per (client_id, email); client_id '_all' is the operator, who receives the
operator's report. A CSV import adds new rows and updates the name of rows already there; it never removes
anyone, so importing one client's file cannot silently stop another's emails (`recipients remove` does that).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select, update

from usage_etl.csv_rows import csv_rows
from usage_etl.db.schema import report_recipients

CSV_COLUMNS = ("client_id", "email", "name")
REQUIRED_CSV_COLUMNS = ("client_id", "email")
# One '@', no spaces, a dot in the domain: enough to catch typos and swapped columns, not a full RFC 5322 parser.
EMAIL_PATTERN = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\".]+$")
MAX_EMAIL_LENGTH = 320


class RecipientsError(ValueError):
    """A recipients file or command is wrong; the message is one sentence for the operator."""


@dataclass(frozen=True)
class Recipient:
    """One person who receives one client's reports."""

    client_id: str
    email: str
    name: str | None = None


def check_email(email: str) -> None:
    """Raise RecipientsError when `email` is not an email address."""
    if not email:
        raise RecipientsError("email is empty")
    if len(email) > MAX_EMAIL_LENGTH or not EMAIL_PATTERN.match(email):
        raise RecipientsError(f"invalid email {email!r}")


def read_recipients_csv(path: Path) -> list[Recipient]:
    """Read a recipients CSV; raise RecipientsError naming the first bad line and why."""
    recipients: list[Recipient] = []
    seen: dict[tuple[str, str], int] = {}
    for line, row in csv_rows(path, REQUIRED_CSV_COLUMNS, RecipientsError):
        try:
            recipient = _recipient_from_row(row)
        except RecipientsError as exc:
            raise RecipientsError(f"{path} line {line}: {exc}") from None
        key = (recipient.client_id, recipient.email.lower())
        if key in seen:
            raise RecipientsError(f"{path} line {line}: repeats line {seen[key]} ({recipient.client_id}, "
                                  f"{recipient.email})")
        seen[key] = line
        recipients.append(recipient)
    return recipients


def _recipient_from_row(row: dict) -> Recipient:
    client_id = (row.get("client_id") or "").strip()
    email = (row.get("email") or "").strip()
    name = (row.get("name") or "").strip() or None
    if not client_id:
        raise RecipientsError("client_id is empty")
    check_email(email)
    return Recipient(client_id, email, name)


def import_recipients(engine: Engine, recipients: list[Recipient]) -> tuple[int, int]:
    """Add new recipients and update the names of known ones, in one transaction; return (added, updated)."""
    added = updated = 0
    with engine.begin() as conn:
        for r in recipients:
            key = (report_recipients.c.client_id == r.client_id) & (report_recipients.c.email == r.email)
            known = conn.execute(select(report_recipients.c.name).where(key)).first()
            if known is None:
                conn.execute(insert(report_recipients).values(client_id=r.client_id, email=r.email, name=r.name))
                added += 1
            elif known.name != r.name:
                conn.execute(update(report_recipients).where(key).values(name=r.name))
                updated += 1
    return added, updated


def remove_recipient(engine: Engine, client_id: str, email: str) -> bool:
    """Remove one recipient of one client; say whether there was one."""
    with engine.begin() as conn:
        deleted = conn.execute(delete(report_recipients).where(
            report_recipients.c.client_id == client_id, report_recipients.c.email == email)).rowcount
    return deleted > 0


def list_recipients(engine: Engine, client_id: str | None = None) -> list[Recipient]:
    """Return the recipients of one client, or of every client, by client and email."""
    query = select(report_recipients).order_by(report_recipients.c.client_id, report_recipients.c.email)
    if client_id is not None:
        query = query.where(report_recipients.c.client_id == client_id)
    with engine.connect() as conn:
        return [Recipient(row.client_id, row.email, row.name) for row in conn.execute(query)]


def write_recipients_csv(recipients: list[Recipient], out: io.TextIOBase) -> None:
    """Write recipients as a CSV that `recipients import` reads."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in recipients:
        writer.writerow((r.client_id, r.email, r.name or ""))
