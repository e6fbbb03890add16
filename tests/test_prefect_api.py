"""The CLI starts Prefect's temporary API server itself, early, only when no Prefect server is configured."""
from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.flows.conftest import cli_env
from usage_etl import prefect_api


def test_the_active_profile_decides_whether_a_server_is_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    assert prefect_api._active_profile_sets_api_url() is False  # no profiles file: Prefect's ephemeral default
    (tmp_path / "profiles.toml").write_text(
        'active = "ephemeral"\n[profiles.ephemeral]\nPREFECT_SERVER_ALLOW_EPHEMERAL_MODE = "true"\n'
        '[profiles.prod]\nPREFECT_API_URL = "http://prefect.internal:4200/api"\n')
    assert prefect_api._active_profile_sets_api_url() is False
    monkeypatch.setenv("PREFECT_PROFILE", "prod")
    assert prefect_api._active_profile_sets_api_url() is True


def test_a_configured_server_gets_the_runs_events(monkeypatch):
    from prefect.events.worker import EventsWorker

    monkeypatch.setattr(prefect_api, "_server_configured", lambda: True)  # a Prefect server, or the test harness
    monkeypatch.setattr(EventsWorker, "_client_override", None)
    assert prefect_api.import_flows("tests.flows.conftest") is not None
    assert prefect_api._server is None
    assert EventsWorker._client_override is None  # only the command's own temporary server goes without events


def _gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def test_ingest_from_the_command_line_starts_and_stops_its_own_server(tmp_path):
    env = cli_env(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "usage_etl.cli", "-v", "ingest"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "total cost       $0.000151700000" in proc.stdout
    started = re.search(r"starting Prefect's temporary API server on port (\d+) \(pid (\d+)\)", proc.stderr)
    assert started, proc.stderr[-3000:]
    assert "the run's events are not sent to the temporary server" in proc.stderr
    assert "stopping Prefect's temporary API server" in proc.stderr
    port, pid = int(started.group(1)), int(started.group(2))
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0  # nothing answers there any more
    assert _gone(pid)


def test_a_killed_command_takes_its_server_down_with_it(tmp_path):
    # SIGKILL (or a SIGTERM from a scheduler) skips atexit: the server must not outlive the command anyway
    proc = subprocess.Popen([sys.executable, "-m", "usage_etl.cli", "-v", "ingest"], cwd=tmp_path,
                            env=cli_env(tmp_path), stderr=subprocess.PIPE, text=True)
    try:
        for text in proc.stderr:
            if started := re.search(r"temporary API server on port \d+ \(pid (\d+)\)", text):
                break
        assert started, "the command did not start its server"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        pid = int(started.group(1))
        deadline = time.monotonic() + 20
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(pid)
    finally:
        proc.kill()
        proc.stderr.close()
