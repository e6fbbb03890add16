"""Email the rendered reports to their recipients, by SMTP or, with no SMTP server configured, to an outbox folder.

email_deliveries: one row per (report_kind, period, client_id, recipient). status is 'sent' (accepted by the SMTP
server), 'outbox' (written as an .eml file) or 'failed' (error holds why, never the SMTP password); attempts is the
number of tries of the last run; sent_at is when the last run tried. A 'sent' or 'outbox' row is not delivered
again unless asked to resend; a 'failed' row is tried again on the next run.
"""
from __future__ import annotations

import logging
import re
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from usage_etl.db.schema import email_deliveries
from usage_etl.reporting.recipients import Recipient, list_recipients
from usage_etl.reporting.rendered import RenderedReport
from usage_etl.settings import SmtpSettings

log = logging.getLogger(__name__)

RETRY_DELAYS = (2, 10, 30)  # seconds before the 2nd, 3rd and 4th try of one message
SMTP_TIMEOUT_SECONDS = 60
DELIVERED = ("sent", "outbox")
CID_LINK = re.compile(r"""cid:([^"'\s)>]+)""")
UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9@._+-]")


@dataclass
class DeliveryResult:
    """What one delivery run did, counted per (report, recipient)."""

    sent: int = 0
    outbox: int = 0
    failed: int = 0
    already_sent: int = 0
    no_recipient: list[str] = field(default_factory=list)  # client ids whose report has nobody to go to
    failures: list[str] = field(default_factory=list)  # "client_id -> recipient: error"

    def __str__(self) -> str:
        parts = [f"{self.sent} sent"] if self.sent or not self.outbox else []
        if self.outbox:
            parts.append(f"{self.outbox} to outbox")
        if self.failed:
            parts.append(f"{self.failed} failed")
        if self.already_sent:
            parts.append(f"{self.already_sent} already sent")
        if self.no_recipient:
            parts.append(f"no recipient for {', '.join(self.no_recipient)}")
        return ", ".join(parts)


class Mailer(Protocol):
    """Where messages go: an SMTP server, or a folder of .eml files."""

    status: str  # the email_deliveries status of a message this mailer took: 'sent' or 'outbox'

    def deliver(self, message: EmailMessage, recipient: str, report: RenderedReport) -> None:
        """Hand one message for one recipient over, or raise."""


class SmtpMailer:
    """Send each message over its own SMTP connection (STARTTLS and login as configured)."""

    status = "sent"

    def __init__(self, settings: SmtpSettings, timeout: float = SMTP_TIMEOUT_SECONDS):
        self.settings = settings
        self.timeout = timeout

    def deliver(self, message: EmailMessage, recipient: str, report: RenderedReport) -> None:
        """Send one message to one recipient."""
        s = self.settings
        with smtplib.SMTP(s.host, s.port, timeout=self.timeout) as smtp:
            if s.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if s.username:
                smtp.login(s.username, s.password.get_secret_value() if s.password else "")
            smtp.send_message(message, from_addr=parseaddr(s.from_)[1], to_addrs=[recipient])


class OutboxMailer:
    """Write each message to `<outbox>/<kind>/<period>/<client_id>--<recipient>.eml`."""

    status = "outbox"

    def __init__(self, outbox: Path):
        self.outbox = Path(outbox)

    def deliver(self, message: EmailMessage, recipient: str, report: RenderedReport) -> None:
        """Write one message as an .eml file, replacing an earlier one of the same report and recipient."""
        path = outbox_path(self.outbox, report, recipient)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".eml.partial")
        partial.write_bytes(bytes(message))
        partial.replace(path)


def outbox_path(outbox: Path, report: RenderedReport, recipient: str) -> Path:
    """Return where the outbox keeps one report's message to one recipient."""
    name = f"{_file_safe(report.client_id)}--{_file_safe(recipient)}.eml"
    return outbox / _file_safe(report.kind) / _file_safe(report.period) / name


def _file_safe(text: str) -> str:
    return UNSAFE_FILE_CHARS.sub("_", text)


def build_message(report: RenderedReport, sender: str, recipient: str | Recipient) -> EmailMessage:
    """Build the report's email: text and HTML alternatives, the HTML's charts inline by Content-ID."""
    linked = list(dict.fromkeys(CID_LINK.findall(report.email_html)))
    missing = [name for name in linked if name not in report.images]
    if missing:
        raise ValueError(f"{report.kind} report {report.period} of {report.client_id}: the HTML links "
                         f"cid:{', cid:'.join(missing)} but has no such image")
    if isinstance(recipient, Recipient):
        to = formataddr((recipient.name, recipient.email)) if recipient.name else recipient.email
    else:
        to = recipient
    message = EmailMessage()
    message["Subject"] = report.subject
    message["From"] = sender
    message["To"] = to
    message["Date"] = format_datetime(datetime.now(timezone.utc))
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message.set_content(report.text)
    message.add_alternative(report.email_html, subtype="html")
    html_part = message.get_payload()[1]
    for name in linked:
        html_part.add_related(report.images[name], maintype="image", subtype="png", cid=f"<{name}>",
                              disposition="inline", filename=f"{name}.png")
    return message


def _domain(address: str) -> str:
    email = parseaddr(address)[1]
    return email.rpartition("@")[2] or "localhost"


def deliver_reports(reports: Sequence[RenderedReport], engine: Engine, smtp: SmtpSettings, outbox: Path,
                    resend: bool = False, sleep: Callable[[float], None] = time.sleep,
                    retry_delays: Sequence[float] = RETRY_DELAYS, mailer: Mailer | None = None) -> DeliveryResult:
    """Email each report to its client's recipients; record each outcome; a failure never stops the others.

    Args:
        reports: the rendered reports; each goes to the recipients of its client_id ('_all': the operator).
        engine: the usage database, which holds report_recipients and email_deliveries.
        smtp: the SMTP settings; when no host is configured, messages are written under `outbox`.
        outbox: the folder of .eml files used without SMTP.
        resend: deliver again what was already sent or written to the outbox.
        sleep: waits between tries (tests pass a no-op).
        retry_delays: seconds to wait before each retry of a message whose failure may be temporary.
        mailer: where messages go; by default SMTP when configured, else the outbox.
    """
    mailer = mailer or (SmtpMailer(smtp) if smtp.configured else OutboxMailer(outbox))
    secrets = [smtp.password.get_secret_value()] if smtp.password and smtp.password.get_secret_value() else []
    result = DeliveryResult()
    for report in reports:
        recipients = list_recipients(engine, report.client_id)
        if not recipients:
            log.info("no recipient for the %s report %s of %s", report.kind, report.period, report.client_id)
            result.no_recipient.append(report.client_id)
            continue
        delivered = set() if resend else delivered_recipients(engine, report)
        for recipient in recipients:
            if recipient.email in delivered:
                result.already_sent += 1
                continue
            message = build_message(report, smtp.from_, recipient)
            attempts, error = _deliver_with_retries(mailer, message, recipient.email, report, sleep, retry_delays)
            error = _redact(error, secrets) if error else None
            status = mailer.status if error is None else "failed"
            record_delivery(engine, report, recipient.email, status, attempts, error)
            if error is None:
                log.info("%s the %s report %s of %s to %s", "sent" if status == "sent" else "wrote to the outbox",
                         report.kind, report.period, report.client_id, recipient.email)
                result.sent += status == "sent"
                result.outbox += status == "outbox"
            else:
                log.warning("could not send the %s report %s of %s to %s (tries: %d): %s", report.kind,
                            report.period, report.client_id, recipient.email, attempts, error)
                result.failed += 1
                result.failures.append(f"{report.client_id} -> {recipient.email}: {error}")
    return result


def _deliver_with_retries(mailer: Mailer, message: EmailMessage, recipient: str, report: RenderedReport,
                          sleep: Callable[[float], None], retry_delays: Sequence[float]) -> tuple[int, str | None]:
    """Try one message until it goes through, fails for good, or the delays run out; return (attempts, error)."""
    attempts = 0
    while True:
        attempts += 1
        try:
            mailer.deliver(message, recipient, report)
            return attempts, None
        except OSError as exc:  # smtplib's errors are OSErrors too
            error = _describe(exc)
            if not _may_pass_later(exc) or attempts > len(retry_delays):
                return attempts, error
            log.info("try %d of %s to %s failed (%s); trying again in %s s", attempts, report.client_id,
                     recipient, error, retry_delays[attempts - 1])
            sleep(retry_delays[attempts - 1])


def _may_pass_later(exc: OSError) -> bool:
    """Say whether a failure may pass on a later try: a lost connection or a 4xx reply, not a 5xx refusal."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return True


def _describe(exc: OSError) -> str:
    """Return one line saying why a try failed."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        detail = "; ".join(f"{code} {_text(msg)}" for code, msg in exc.recipients.values())
    elif isinstance(exc, smtplib.SMTPResponseException):
        detail = f"{exc.smtp_code} {_text(exc.smtp_error)}"
    else:
        detail = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {detail}".replace("\r", " ").replace("\n", " ")


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _redact(text: str, secrets: list[str]) -> str:
    """Replace every secret in `text` by '***'."""
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def delivered_recipients(engine: Engine, report: RenderedReport) -> set[str]:
    """Return the recipients this report was already sent or written to the outbox for."""
    query = select(email_deliveries.c.recipient).where(
        email_deliveries.c.report_kind == report.kind,
        email_deliveries.c.period == report.period,
        email_deliveries.c.client_id == report.client_id,
        email_deliveries.c.status.in_(DELIVERED),
    )
    with engine.connect() as conn:
        return set(conn.scalars(query))


def record_delivery(engine: Engine, report: RenderedReport, recipient: str, status: str, attempts: int,
                    error: str | None, at: datetime | None = None) -> None:
    """Insert or update the email_deliveries row of one report and one recipient."""
    values = dict(report_kind=report.kind, period=report.period, client_id=report.client_id, recipient=recipient,
                  status=status, attempts=attempts, error=error, sent_at=at or datetime.now(timezone.utc))
    with engine.begin() as conn:
        dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        stmt = dialect_insert(email_deliveries).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["report_kind", "period", "client_id", "recipient"],
            set_={c: stmt.excluded[c] for c in ("status", "attempts", "error", "sent_at")},
        )
        conn.execute(stmt)
