"""The report flows and the `usage-etl report` command, end to end on a warehouse file under tmp_path."""
from __future__ import annotations

import json

import pytest

from usage_etl.settings import Settings

pytestmark = pytest.mark.flows


@pytest.fixture
def settings(hand_made, tmp_path) -> Settings:
    """Settings pointing at the hand-made warehouse (closed, so the flow opens it) and tmp_path."""
    path = hand_made.execute("select path from duckdb_databases() where database_name = current_database()"
                             ).fetchone()[0]
    hand_made.close()
    return Settings(db_url=f"sqlite:///{tmp_path / 'usage.sqlite'}", warehouse=path,
                    reports_dir=tmp_path / "reports", locale="en")


def test_daily_reports_flow_renders_every_client_and_the_operator(prefect_harness, settings):
    from flows.reports import daily_reports

    result = daily_reports(report_date="2026-11-22", settings=settings)
    folder = settings.reports_dir / "daily" / "2026-11-22"
    assert sorted(p.name for p in folder.iterdir()) == [
        "_all.html", "_all.json", "acme.html", "acme.json", "beta.html", "beta.json"]
    assert result["total_cost_usd"] == {"acme": "0.0066034", "beta": "0.0006", "_all": "0.0072034"}
    assert json.loads((folder / "beta.json").read_text())["total_tokens"] == 2000
    assert result["delivery"] is None


def test_report_command_renders_one_clients_week(prefect_harness, settings, capsys):
    import argparse

    from usage_etl.reporting import commands

    parser = argparse.ArgumentParser(prog="usage-etl")
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["report", "weekly", "--week", "2026-W47", "--client", "acme"])
    assert args.func(args, settings) == 0
    out = capsys.readouterr().out
    assert "weekly reports 2026-W47: 1 rendered" in out and "acme: $0.0069034" in out
    data = json.loads((settings.reports_dir / "weekly" / "2026-W47" / "acme.json").read_text())
    assert [d["cost_usd"] for d in data["by_day"]] == ["0", "0", "0", "0", "0", "0.0003", "0.0066034"]
