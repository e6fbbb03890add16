"""Start Prefect's temporary API server at the top of a CLI command, while the command imports its code.

With no Prefect server configured, Prefect starts a temporary one at the first flow call: it imports its own
server code in this process (~1 s), then waits for the server subprocess to import it again and answer (~3 s).
Starting that same subprocess first, and pointing PREFECT_API_URL at it, overlaps its start with the command's
imports (Prefect, DuckDB, Arrow, SQLAlchemy). It runs without the services that record task runs and events
(see SERVER_ENV), so the command sends it no events. Anything that configures a server (PREFECT_API_URL, a
profile, a prefect.toml, a .env, the test harness) leaves Prefect to do as it always does.
"""
from __future__ import annotations

import atexit
import ctypes
import importlib
import importlib.util
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

STARTUP_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 5
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# Prefect 3.8's own SubprocessASGIServer runs the server with the first three (prefect/server/api/server.py). The
# others stop the services that turn the run's events into task-run records, event history and automations: for
# one command's temporary server, which nobody watches, they took ~4 of the server's 13 CPU-s in a one-day ingest,
# on the same two cores as the ingest. Flow runs, their states and artifacts are still recorded through the API.
SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_EVENT_PERSISTER_ENABLED": "false",
    "PREFECT_SERVER_SERVICES_TRIGGERS_ENABLED": "false",
}

_server: subprocess.Popen | None = None
log = logging.getLogger(__name__)


class PrefectApiError(RuntimeError):
    """The temporary Prefect API server did not start; the message is one sentence for the operator."""


def import_flows(module: str):
    """Import a flows module while the temporary API server starts; return the module once the server answers."""
    start_early()
    flows = importlib.import_module(module)
    wait_until_ready()
    if _server is not None:
        _send_no_events()
    return flows


def _send_no_events() -> None:
    """Drop the run's events in this process instead of sending them to the temporary server.

    Prefect 3 reports task runs as events. The temporary server runs without the services that read events
    (SERVER_ENV), so nothing would read them; receiving them cost it ~1.2 CPU-s in a one-day ingest.
    """
    from prefect.events.clients import NullEventsClient
    from prefect.events.worker import EventsWorker

    EventsWorker.set_client_override(NullEventsClient)
    log.info("the run's events are not sent to the temporary server (nothing there reads them)")


def start_early() -> None:
    """Start the temporary API server now, unless a Prefect server is configured or one is already started."""
    if _server is not None or _server_configured():
        return
    _spawn()
    atexit.register(stop)


def _spawn() -> None:
    """Run the server on a socket bound here (so no other process can take its port) and point PREFECT_API_URL at it."""
    global _server
    app_dir = Path(importlib.util.find_spec("prefect").submodule_search_locations[0]).parent
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        port = sock.getsockname()[1]
        _server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", str(app_dir), "--factory",
             "prefect.server.api.server:create_app", "--fd", str(sock.fileno()),
             "--log-level", "error", "--lifespan", "on"],
            env={**os.environ, **SERVER_ENV},
            pass_fds=(sock.fileno(),),
            preexec_fn=_stop_with_parent(os.getpid()) if sys.platform == "linux" else None,
        )
    os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
    log.info("starting Prefect's temporary API server on port %d (pid %d)", port, _server.pid)


def _stop_with_parent(parent: int):
    """Make the server's process get SIGTERM when the command dies, even by SIGKILL (atexit does not run then)."""
    def in_child() -> None:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the command died before the line above: stop now
            os.kill(os.getpid(), signal.SIGTERM)
    return in_child


def wait_until_ready() -> None:
    """Block until the server started by start_early answers (a no-op when it started none)."""
    if _server is None:
        return
    health = os.environ["PREFECT_API_URL"] + "/health"
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if _server.poll() is not None:
            raise PrefectApiError(f"Prefect's temporary API server exited with code {_server.returncode} before it answered")
        try:
            with urllib.request.urlopen(health, timeout=1) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise PrefectApiError(f"Prefect's temporary API server did not answer within {STARTUP_TIMEOUT_SECONDS} s")


def stop() -> None:
    """Stop the server started by start_early, if any."""
    global _server
    if _server is None:
        return
    log.info("stopping Prefect's temporary API server (pid %d)", _server.pid)
    _server.terminate()
    try:
        _server.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        _server.kill()
        _server.wait()
    _server = None


def _server_configured() -> bool:
    """Tell whether Prefect would use a configured API (or may not start a temporary one)."""
    if "prefect" in sys.modules:  # already imported (tests under prefect_test_harness): ask Prefect itself
        from prefect.settings import get_current_settings

        return bool(get_current_settings().api.url)
    if os.environ.get("PREFECT_API_URL"):
        return True
    if os.environ.get("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "").lower() in ("0", "false"):
        return True
    if any(Path(name).exists() for name in ("prefect.toml", ".env")) or _pyproject_configures_prefect():
        return True  # settings files Prefect 3 reads from the working folder: let Prefect read them
    return _active_profile_sets_api_url()


def _pyproject_configures_prefect() -> bool:
    try:
        return "prefect" in tomllib.loads(Path("pyproject.toml").read_text()).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False


def _active_profile_sets_api_url() -> bool:
    home = Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect")).expanduser()
    path = Path(os.environ.get("PREFECT_PROFILES_PATH", home / "profiles.toml")).expanduser()
    try:
        profiles = tomllib.loads(path.read_text())
    except FileNotFoundError:
        return False
    except (OSError, tomllib.TOMLDecodeError):
        return True  # unreadable: let Prefect decide (and say why)
    active = os.environ.get("PREFECT_PROFILE") or profiles.get("active", "ephemeral")
    return bool(profiles.get("profiles", {}).get(active, {}).get("PREFECT_API_URL"))
