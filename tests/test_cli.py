"""The command line: a flow command's start, and how it ends on an operator's error."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import PG_ADMIN_URL
from tests.flows.conftest import cli_env
from usage_etl import cli


def _heavy_modules_when_the_server_starts(argv: list[str]) -> str:
    """Run the CLI on argv in a fresh interpreter, with start_early replaced by a probe; print what it saw."""
    probe = f"""
import sys
from usage_etl import cli, prefect_api
seen = []
heavy = ("sqlalchemy", "duckdb", "pydantic", "usage_etl.settings", "usage_etl.ingest_commands")
prefect_api.start_early = lambda: seen.append([m for m in heavy if m in sys.modules])
try:
    cli.main({argv!r})
except SystemExit:
    pass
print(seen)
"""
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]


def test_a_flow_command_starts_its_server_before_importing_the_rest():
    # the server's start is what a flow command waits for: the command's own imports (~0.8 s) go on beside it
    assert _heavy_modules_when_the_server_starts(["-v", "ingest", "--help"]) == "[[]]"
    assert _heavy_modules_when_the_server_starts(["report", "daily", "--help"]) == "[[]]"
    assert _heavy_modules_when_the_server_starts(["prices", "list", "--help"]) == "[]"  # no flow, no server


def test_the_sub_command_and_verbosity_are_read_before_the_parser_exists():
    assert cli._peek(["-v", "backfill", "--since", "2026-10-01"]) == ("backfill", True)
    assert cli._peek(["--verbose", "nightly"]) == ("nightly", True)
    assert cli._peek(["prices", "list", "-v"]) == ("prices", False)  # an option of the sub-command, not the top's
    assert cli._peek([]) == (None, False)


PG_NO_SUCH_DATABASE = PG_ADMIN_URL.rsplit("/", 1)[0] + "/usage_etl_no_such_database"


@pytest.mark.parametrize("setting, value, sentence", [
    ("USAGE_ETL_RAW_LOGS", "{tmp}/no-such-folder", "the raw-logs folder {tmp}/no-such-folder does not exist or is not a folder"),
    ("USAGE_ETL_DB_URL", "postgresql+psycopg://usage:s3cret@127.0.0.1:1/usage",
     "cannot connect to the usage database at postgresql+psycopg://usage:***@127.0.0.1:1/usage: connection failed:"),
    ("USAGE_ETL_DB_URL", PG_NO_SUCH_DATABASE,
     f"cannot connect to the usage database at {PG_NO_SUCH_DATABASE}: connection failed:"),
], ids=["missing raw-logs folder", "unreachable server", "missing database"])
def test_an_operators_error_ends_the_command_with_one_sentence(tmp_path, setting, value, sentence):
    env = cli_env(tmp_path)
    env[setting] = value.format(tmp=tmp_path)
    proc = subprocess.run([sys.executable, "-m", "usage_etl.cli", "ingest"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr[-3000:]  # not Prefect's reports of the failed run, with their tracebacks
    assert lines[0].startswith(f"usage-etl: {sentence.format(tmp=tmp_path)}"), lines[0]
    assert "s3cret" not in proc.stderr
    assert not (tmp_path / "w.duckdb").exists()  # nothing written: the warehouse is opened after both checks


def test_with_v_the_failed_run_is_reported_in_full(tmp_path):
    env = cli_env(tmp_path)
    env["USAGE_ETL_RAW_LOGS"] = str(tmp_path / "no-such-folder")
    proc = subprocess.run([sys.executable, "-m", "usage_etl.cli", "-v", "ingest"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "ERROR Encountered exception during execution: RawLogError(" in proc.stderr
    assert "Traceback (most recent call last)" in proc.stderr
    assert (f"usage-etl: the raw-logs folder {tmp_path / 'no-such-folder'} does not exist or is not a folder"
            in proc.stderr.splitlines())
