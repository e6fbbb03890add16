"""Session-wide test resources: a throwaway PostgreSQL database, the shared fixtures, the Prefect harness."""
from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = REPO_ROOT.parent / "shared"
REAL_FIXTURES = SHARED_DIR / "fixtures" / "real"
LOCAL_FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_ADMIN_URL = os.environ.get("USAGE_ETL_TEST_PG_ADMIN", "postgresql+psycopg://postgres@127.0.0.1:5432/test")

# Keep Prefect quiet and local before anything imports it.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="usage-etl-prefect-"))
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    """Return the folder of real recorded response bodies in ../shared."""
    assert REAL_FIXTURES.is_dir(), f"shared fixtures missing at {REAL_FIXTURES}"
    return REAL_FIXTURES


@pytest.fixture(scope="session")
def pg_server_url() -> str:
    """Create a fresh PostgreSQL database for this test session and drop it afterwards."""
    from sqlalchemy import create_engine, text

    name = f"usage_etl_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(
            text("select pg_terminate_backend(pid) from pg_stat_activity where datname = :n and pid <> pg_backend_pid()"),
            {"n": name},
        )
        conn.execute(text(f'drop database if exists "{name}"'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_server_url: str) -> str:
    """Give each test an empty PostgreSQL schema (tables dropped before the test)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("drop schema public cascade"))
        conn.execute(text("create schema public"))
    engine.dispose()
    return pg_server_url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """Give each test its own SQLite usage database file."""
    return f"sqlite:///{tmp_path / 'usage.sqlite'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path: Path) -> str:
    """Run a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'usage.sqlite'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture(scope="session")
def prefect_harness():
    """Start Prefect's test harness once per session, only for tests that run flows."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness():
        yield
