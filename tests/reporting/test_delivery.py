"""Email delivery against a real local SMTP server (aiosmtpd) and the outbox, on SQLite and PostgreSQL."""
from __future__ import annotations

import base64
import logging
import re
import socket
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from sqlalchemy import select

from usage_etl.db.engine import open_usage_db
from usage_etl.db.schema import email_deliveries
from usage_etl.reporting.delivery import (
    DeliveryResult,
    build_message,
    deliver_reports,
    outbox_path,
)
from usage_etl.reporting.figures import client_report
from usage_etl.reporting.periods import daily_period
from usage_etl.reporting.recipients import Recipient, import_recipients
from usage_etl.reporting.render import render_report
from usage_etl.reporting.rendered import RenderedReport
from usage_etl.settings import SmtpSettings

# A 1x1 PNG.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
OTHER_PNG = PNG + b"\x00"  # a different payload, to tell the two images apart
SENDER = "Usage reports <reports@example.com>"
PASSWORD = "s3cret-Pa55word"
ANA, BRUNO, OPS = "ana@example.com", "bruno@example.com", "ops@example.com"


def small_report(client_id: str = "acme", period: str = "2026-11-22") -> RenderedReport:
    """A hand-made report: one chart linked by cid, one image the HTML does not link, a masked phone."""
    return RenderedReport(
        kind="daily", period=period, client_id=client_id, subject=f"{client_id}: $1.50 on {period}",
        email_html=('<html><body><p>Total $1.50, top phone +55 11 9****-1234</p>'
                    '<img src="cid:cost_by_day" alt="cost by day"></body></html>'),
        file_html="<html><body>saved copy</body></html>",
        text="Total $1.50\nTop phone +55 11 9****-1234\n",
        images={"cost_by_day": PNG, "unused_chart": OTHER_PNG},
    )


class RecordingHandler:
    """Keep every message received; refuse some recipients, for good or for a number of tries."""

    def __init__(self):
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: dict[str, str] = {}  # recipient -> reply, every time
        self.refuse_times: dict[str, tuple[int, str]] = {}  # recipient -> (tries left to refuse, reply)
        self.rcpt_tries: dict[str, int] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.rcpt_tries[address] = self.rcpt_tries.get(address, 0) + 1
        if address in self.refuse:
            return self.refuse[address]
        left, reply = self.refuse_times.get(address, (0, ""))
        if left:
            self.refuse_times[address] = (left - 1, reply)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted for delivery"

    def received(self, recipient: str) -> list[EmailMessage]:
        """Return the messages received for one recipient, parsed."""
        return [message_from_bytes(raw, policy=policy.default) for rcpts, raw in self.messages if recipient in rcpts]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reject_password(server, session, envelope, mechanism, auth_data):
    """Refuse every login with a reply that echoes the password, as a careless server might."""
    password = auth_data.password.decode() if isinstance(auth_data.password, bytes) else auth_data.password
    return AuthResult(success=False, handled=False, message=f"535 5.7.8 bad credentials: {password}")


@pytest.fixture
def smtp_server():
    """Start a real SMTP server on 127.0.0.1 and a free port; yield (handler, settings to reach it)."""
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, SmtpSettings(host="127.0.0.1", port=port, starttls=False, SMTP_FROM=SENDER)
    finally:
        controller.stop()


@pytest.fixture
def engine(db_url):
    """Open the usage database (SQLite or PostgreSQL) with its schema."""
    engine = open_usage_db(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def acme_recipients(engine):
    """acme's reports go to Ana and Bruno, the operator's to ops."""
    import_recipients(engine, [Recipient("acme", ANA, "Ana Lima"), Recipient("acme", BRUNO),
                               Recipient("_all", OPS, "Operator")])
    return engine


class Sleeps(list):
    """A no-op sleep that keeps the delays it was asked for."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def delivery_rows(engine) -> dict[tuple[str, str], dict]:
    with engine.connect() as conn:
        rows = conn.execute(select(email_deliveries)).mappings().all()
    return {(r["client_id"], r["recipient"]): dict(r) for r in rows}


def decoded_parts(message: EmailMessage) -> dict[str, list]:
    """Return the leaf parts' decoded contents by content type."""
    parts: dict[str, list] = {}
    for part in message.walk():
        if not part.is_multipart():
            parts.setdefault(part.get_content_type(), []).append(part.get_content())
    return parts


def check_report_message(message: EmailMessage, report: RenderedReport) -> None:
    """Check the structure of one report's email: alternative of text and related(html, linked PNGs)."""
    assert message["Subject"] == report.subject
    assert message["Date"] and re.fullmatch(r"<[^@>]+@example\.com>", message["Message-ID"])
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.get_payload()
    assert text_part.get_content_type() == "text/plain"
    assert text_part.get_content().replace("\r\n", "\n") == report.text
    assert html_part.get_content_type() == "multipart/related"
    html, *images = html_part.get_payload()
    assert html.get_content_type() == "text/html"
    links = set(re.findall(r'cid:([^"\']+)', html.get_content()))
    attached = {image["Content-ID"].strip("<>"): image for image in images}
    assert links and links == set(attached), "every cid link has its image, and only linked images are attached"
    for name, image in attached.items():
        assert image.get_content_type() == "image/png"
        assert image.get_content_disposition() == "inline"
        assert image.get_content() == report.images[name]


def test_report_goes_to_each_recipient_with_text_html_and_its_linked_chart(acme_recipients, smtp_server):
    handler, smtp = smtp_server
    report = small_report()
    sleeps = Sleeps()
    result = deliver_reports([report], acme_recipients, smtp, outbox=None, sleep=sleeps)

    assert (result.sent, result.failed, result.already_sent) == (2, 0, 0)
    assert str(result) == "2 sent"
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == [ANA, BRUNO]
    (to_ana,), (to_bruno,) = handler.received(ANA), handler.received(BRUNO)
    assert to_ana["To"] == "Ana Lima <ana@example.com>" and to_bruno["To"] == BRUNO
    assert to_ana["From"] == SENDER
    for message in (to_ana, to_bruno):
        check_report_message(message, report)
        assert decoded_parts(message)["image/png"] == [PNG]  # unused_chart is not attached
    rows = delivery_rows(acme_recipients)
    assert set(rows) == {("acme", ANA), ("acme", BRUNO)}
    for row in rows.values():
        assert (row["report_kind"], row["period"], row["status"], row["attempts"], row["error"]) == (
            "daily", "2026-11-22", "sent", 1, None)
    assert sleeps == []


def test_real_rendered_report_links_every_chart_and_shows_phones_masked(hand_made, acme_recipients, smtp_server):
    handler, smtp = smtp_server
    report = render_report(client_report(hand_made, daily_period(date(2026, 11, 22)), "acme", "America/Sao_Paulo"),
                           "pt_BR")
    assert report.images, "the real report has charts"

    assert deliver_reports([report], acme_recipients, smtp, outbox=None, sleep=Sleeps()).sent == 2
    (message,) = handler.received(ANA)
    check_report_message(message, report)
    parts = decoded_parts(message)
    assert len(parts["image/png"]) == len(set(re.findall(r'cid:([^"\']+)', report.email_html)))
    for content in parts["text/plain"] + parts["text/html"]:
        assert "+55 11 9****-1234" in content and "+55 21 9****-7766" in content
        for raw_digits in ("987651234", "999887766", "5511987651234", "5521999887766"):
            assert raw_digits not in content
    raw = next(raw for rcpts, raw in handler.messages if ANA in rcpts)
    assert b"987651234" not in raw and b"999887766" not in raw


def test_second_run_does_not_send_again_and_resend_does(acme_recipients, smtp_server):
    handler, smtp = smtp_server
    report = small_report()
    deliver_reports([report], acme_recipients, smtp, outbox=None, sleep=Sleeps())
    first_rows = delivery_rows(acme_recipients)

    again = deliver_reports([report], acme_recipients, smtp, outbox=None, sleep=Sleeps())
    assert (again.sent, again.already_sent) == (0, 2)
    assert str(again) == "0 sent, 2 already sent"
    assert len(handler.messages) == 2
    assert delivery_rows(acme_recipients) == first_rows

    resent = deliver_reports([report], acme_recipients, smtp, outbox=None, resend=True, sleep=Sleeps())
    assert (resent.sent, resent.already_sent) == (2, 0)
    assert len(handler.messages) == 4 and len(handler.received(ANA)) == 2
    rows = delivery_rows(acme_recipients)
    assert len(rows) == 2
    assert all(rows[k]["sent_at"] >= first_rows[k]["sent_at"] and rows[k]["status"] == "sent" for k in rows)


def test_refused_recipient_is_recorded_failed_others_still_get_theirs_and_next_run_retries(acme_recipients,
                                                                                           smtp_server):
    handler, smtp = smtp_server
    handler.refuse[BRUNO] = "554 5.7.1 Bruno's mailbox refuses this message"
    reports = [small_report(), small_report("_all")]
    sleeps = Sleeps()
    result = deliver_reports(reports, acme_recipients, smtp, outbox=None, sleep=sleeps)

    assert (result.sent, result.failed) == (2, 1)
    assert str(result) == "2 sent, 1 failed"
    assert len(handler.received(ANA)) == 1 and len(handler.received(OPS)) == 1 and handler.received(BRUNO) == []
    # 554 is a permanent refusal: not tried again within the run.
    assert handler.rcpt_tries[BRUNO] == 1 and sleeps == []
    failed = delivery_rows(acme_recipients)[("acme", BRUNO)]
    assert (failed["status"], failed["attempts"]) == ("failed", 1)
    assert "554" in failed["error"] and "refuses this message" in failed["error"]
    assert result.failures == [f"acme -> {BRUNO}: {failed['error']}"]

    del handler.refuse[BRUNO]
    next_run = deliver_reports(reports, acme_recipients, smtp, outbox=None, sleep=Sleeps())
    assert (next_run.sent, next_run.already_sent, next_run.failed) == (1, 2, 0)
    assert len(handler.received(BRUNO)) == 1
    retried = delivery_rows(acme_recipients)[("acme", BRUNO)]
    assert (retried["status"], retried["attempts"], retried["error"]) == ("sent", 1, None)


def test_temporary_refusal_is_retried_after_each_delay_until_accepted(acme_recipients, smtp_server):
    handler, smtp = smtp_server
    handler.refuse_times[BRUNO] = (2, "451 4.3.0 Try again later")
    sleeps = Sleeps()
    result = deliver_reports([small_report()], acme_recipients, smtp, outbox=None, sleep=sleeps)

    assert (result.sent, result.failed) == (2, 0)
    assert sleeps == [2, 10]
    assert handler.rcpt_tries[BRUNO] == 3 and len(handler.received(BRUNO)) == 1
    row = delivery_rows(acme_recipients)[("acme", BRUNO)]
    assert (row["status"], row["attempts"], row["error"]) == ("sent", 3, None)


def test_temporary_refusal_that_lasts_fails_after_every_delay(acme_recipients, smtp_server):
    handler, smtp = smtp_server
    handler.refuse[BRUNO] = "451 4.3.0 Try again later"
    sleeps = Sleeps()
    result = deliver_reports([small_report()], acme_recipients, smtp, outbox=None, sleep=sleeps,
                             retry_delays=[1, 5, 7])

    assert (result.sent, result.failed) == (1, 1)
    assert sleeps == [1, 5, 7] and handler.rcpt_tries[BRUNO] == 4
    row = delivery_rows(acme_recipients)[("acme", BRUNO)]
    assert (row["status"], row["attempts"]) == ("failed", 4) and "451" in row["error"]


def test_unreachable_server_is_retried_then_every_recipient_recorded_failed(acme_recipients):
    smtp = SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False, SMTP_FROM=SENDER)
    sleeps = Sleeps()
    result = deliver_reports([small_report(), small_report("_all")], acme_recipients, smtp, outbox=None,
                             sleep=sleeps)

    assert (result.sent, result.failed) == (0, 3)
    assert str(result) == "0 sent, 3 failed"
    assert sleeps == [2, 10, 30] * 3
    rows = delivery_rows(acme_recipients)
    assert {k: (r["status"], r["attempts"]) for k, r in rows.items()} == {
        ("acme", ANA): ("failed", 4), ("acme", BRUNO): ("failed", 4), ("_all", OPS): ("failed", 4)}
    assert all("ConnectionRefusedError" in r["error"] for r in rows.values())


def test_password_is_neither_recorded_nor_logged(acme_recipients, caplog):
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, authenticator=reject_password,
                            auth_require_tls=False)
    controller.start()
    try:
        smtp = SmtpSettings(host="127.0.0.1", port=port, starttls=False, username="reports", password=PASSWORD,
                            SMTP_FROM=SENDER)
        with caplog.at_level(logging.DEBUG):
            result = deliver_reports([small_report()], acme_recipients, smtp, outbox=None, sleep=Sleeps())
    finally:
        controller.stop()

    assert (result.sent, result.failed) == (0, 2)
    rows = delivery_rows(acme_recipients)
    for row in rows.values():
        # 535 is a permanent refusal: one try.
        assert (row["status"], row["attempts"]) == ("failed", 1)
        assert row["error"] == "SMTPAuthenticationError: 535 5.7.8 bad credentials: ***"
        assert PASSWORD not in row["error"]
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("usage_etl"))
    assert "bad credentials: ***" in ours and PASSWORD not in ours  # aiosmtpd's own debug log is not ours
    assert all(PASSWORD not in failure for failure in result.failures)


def test_without_smtp_each_message_is_written_to_the_outbox_and_parses_back(acme_recipients, tmp_path):
    outbox = tmp_path / "outbox"
    report = small_report()
    result = deliver_reports([report], acme_recipients, SmtpSettings(host=None, SMTP_FROM=SENDER), outbox)

    assert (result.outbox, result.sent) == (2, 0)
    assert str(result) == "2 to outbox"
    files = sorted(p.relative_to(outbox).as_posix() for p in outbox.rglob("*") if p.is_file())
    assert files == [f"daily/2026-11-22/acme--{ANA}.eml", f"daily/2026-11-22/acme--{BRUNO}.eml"]
    message = message_from_bytes((outbox / files[0]).read_bytes(), policy=policy.default)
    check_report_message(message, report)
    assert message["To"] == "Ana Lima <ana@example.com>"
    rows = delivery_rows(acme_recipients)
    assert {r["status"] for r in rows.values()} == {"outbox"} and {r["attempts"] for r in rows.values()} == {1}

    again = deliver_reports([report], acme_recipients, SmtpSettings(host=None), outbox)
    assert (again.outbox, again.already_sent) == (0, 2)


def test_outbox_message_is_not_sent_by_smtp_later_unless_resent(acme_recipients, smtp_server, tmp_path):
    handler, smtp = smtp_server
    report = small_report()
    deliver_reports([report], acme_recipients, SmtpSettings(host=None), tmp_path / "outbox")

    assert deliver_reports([report], acme_recipients, smtp, outbox=None, sleep=Sleeps()).already_sent == 2
    assert handler.messages == []
    assert deliver_reports([report], acme_recipients, smtp, outbox=None, resend=True, sleep=Sleeps()).sent == 2
    assert {r["status"] for r in delivery_rows(acme_recipients).values()} == {"sent"}


def test_report_without_recipient_is_counted_not_failed(acme_recipients, smtp_server):
    handler, smtp = smtp_server
    result = deliver_reports([small_report("beta"), small_report()], acme_recipients, smtp, outbox=None,
                             sleep=Sleeps())

    assert (result.sent, result.failed, result.no_recipient) == (2, 0, ["beta"])
    assert str(result) == "2 sent, no recipient for beta"
    assert {client for client, _ in delivery_rows(acme_recipients)} == {"acme"}


def test_result_reads_as_one_line():
    assert str(DeliveryResult(sent=3, outbox=1, failed=1, already_sent=2)) == (
        "3 sent, 1 to outbox, 1 failed, 2 already sent")
    assert str(DeliveryResult()) == "0 sent"


def test_html_linking_a_missing_image_is_refused():
    report = small_report()
    report.email_html += '<img src="cid:missing_chart">'
    with pytest.raises(ValueError, match="cid:missing_chart"):
        build_message(report, SENDER, ANA)


def test_outbox_file_names_cannot_leave_the_outbox(tmp_path):
    report = small_report("../../etc")
    path = outbox_path(tmp_path, report, "a/b@example.com")
    assert path == tmp_path / "daily" / "2026-11-22" / ".._.._etc--a_b@example.com.eml"
    assert path.resolve().is_relative_to(tmp_path.resolve())


@pytest.mark.flows
def test_report_command_with_email_sends_through_the_flow(prefect_harness, hand_made, acme_recipients, db_url,
                                                          smtp_server, tmp_path, monkeypatch, capsys):
    from usage_etl.cli import main

    handler, smtp = smtp_server
    warehouse = hand_made.execute("select path from duckdb_databases() where database_name = current_database()"
                                  ).fetchone()[0]
    hand_made.close()
    for name, value in {"USAGE_ETL_DB_URL": db_url, "USAGE_ETL_WAREHOUSE": warehouse, "USAGE_ETL_LOCALE": "en",
                        "USAGE_ETL_REPORTS_DIR": str(tmp_path / "reports"), "SMTP_HOST": smtp.host,
                        "SMTP_PORT": str(smtp.port), "SMTP_STARTTLS": "false", "SMTP_FROM": SENDER}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SMTP_USERNAME", raising=False)

    assert main(["report", "daily", "--date", "2026-11-22", "--email"]) == 0
    assert "delivery: 3 sent, no recipient for beta" in capsys.readouterr().out
    (to_ops,) = handler.received(OPS)
    assert to_ops["Subject"] and "All clients" in to_ops.get_body(("plain",)).get_content()
    assert len(handler.received(ANA)) == len(handler.received(BRUNO)) == 1

    assert main(["report", "daily", "--date", "2026-11-22", "--email"]) == 0
    assert "delivery: 0 sent, 3 already sent, no recipient for beta" in capsys.readouterr().out
    assert len(handler.messages) == 3
