"""Rendering: escaping, masked phones in HTML, text and JSON, the JSON's numbers, email-safe HTML, Chromium."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from datetime import date

import pytest

from usage_etl.reporting.figures import client_report, operator_report
from usage_etl.reporting.periods import daily_period, parse_week
from usage_etl.reporting.render import render_report, save_report

TZ = "America/Sao_Paulo"
DAY_22 = daily_period(date(2026, 11, 22))
EVIL = "<script>alert(1)</script>"


def test_client_id_and_model_name_are_escaped(make_warehouse, make_call):
    con = make_warehouse([make_call(1, EVIL, "2026-11-22T12:00:00Z", model=EVIL)])
    for figures in (client_report(con, DAY_22, EVIL, TZ), operator_report(con, DAY_22, TZ)):
        report = render_report(figures, "en")
        for html in (report.email_html, report.file_html):
            assert EVIL not in html
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
            assert "<script" not in html.lower()


def test_phones_are_masked_in_html_text_and_json(hand_made, tmp_path):
    figures = client_report(hand_made, DAY_22, "acme", TZ)
    report = save_report(render_report(figures, "pt_BR"), figures, tmp_path)
    saved_json = report.json_path.read_text()
    for part in (report.email_html, report.file_html, report.text, saved_json):
        assert "+55 11 9****-1234" in part and "+55 21 9****-7766" in part
        assert "987651234" not in part and "999887766" not in part


def test_saved_json_holds_the_numbers_shown(hand_made, tmp_path):
    figures = client_report(hand_made, DAY_22, "acme", TZ)
    report = save_report(render_report(figures, "en"), figures, tmp_path)
    assert report.html_path == tmp_path / "daily" / "2026-11-22" / "acme.html"
    assert report.json_path == tmp_path / "daily" / "2026-11-22" / "acme.json"
    data = json.loads(report.json_path.read_text())
    assert data["period"] == "2026-11-22" and data["client_id"] == "acme"
    assert data["total_cost_usd"] == "0.0066034"
    assert (data["requests"], data["total_tokens"], data["unpriced_calls"], data["errors"]) == (6, 1960, 1, 1)
    assert data["by_day"][0]["cost_usd"] == "0.0066034"
    assert {m["model"]: m["cost_usd"] for m in data["by_model"]}["whisper-1"] == "0.006"
    assert "$0.0066034" in report.file_html and "$0.0066034" in report.text


def test_operator_report_is_saved_as_all(hand_made, tmp_path):
    figures = operator_report(hand_made, parse_week("2026-W47"), TZ)
    report = save_report(render_report(figures, "en"), figures, tmp_path)
    assert report.html_path == tmp_path / "weekly" / "2026-W47" / "_all.html"
    data = json.loads(report.json_path.read_text())
    assert [(c["client_id"], c["cost_usd"]) for c in data["clients"]] == [("acme", "0.0069034"), ("beta", "0.0006")]
    assert "All clients" in report.text and "acme" in report.file_html


def test_labels_follow_the_locale(hand_made):
    figures = client_report(hand_made, DAY_22, "acme", TZ)
    assert "Relatório diário de custos" in render_report(figures, "pt_BR").file_html
    assert "Daily cost report" in render_report(figures, "en").file_html
    assert "$0,0066034" in render_report(figures, "pt_BR").text


def test_email_html_is_email_safe_and_references_its_images(hand_made):
    report = render_report(client_report(hand_made, DAY_22, "acme", TZ), "en")
    cids = set(re.findall(r'src="cid:([^"]+)"', report.email_html))
    assert cids == set(report.images) == {"period_chart", "evolution_chart"}
    assert all(png.startswith(b"\x89PNG") for png in report.images.values())
    assert report.file_html.count('src="data:image/png;base64,') == 2
    assert "cid:" not in report.file_html
    assert 'style="' in report.email_html  # CSS inlined onto the elements
    assert "max-width: 600px" in report.email_html


@pytest.mark.skipif(shutil.which("chromium") is None and os.environ.get("CI") != "true",
                    reason="chromium missing: run scripts/system-deps.sh (in CI this test runs, and fails without it)")
def test_saved_html_opens_in_headless_chromium(hand_made, tmp_path):
    figures = client_report(hand_made, DAY_22, "acme", TZ)
    report = save_report(render_report(figures, "en"), figures, tmp_path / "reports")
    shot = tmp_path / "shot.png"
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", report.html_path.as_uri()],
        capture_output=True, text=True, timeout=60)
    assert "Daily cost report" in dom.stdout and "$0.0066034" in dom.stdout
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--screenshot={shot}", "--window-size=600,1600", report.html_path.as_uri()],
                   capture_output=True, timeout=60, check=True)
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 10_000
