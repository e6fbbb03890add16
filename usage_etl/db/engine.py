"""Open the usage database and bring its schema up to date."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, insert, select
from sqlalchemy.exc import OperationalError, ArgumentError

from usage_etl.db.schema import metadata, schema_version

SCHEMA_VERSION = 1


class UsageDatabaseError(RuntimeError):
    """The usage database cannot be reached or opened; the message is one sentence for the operator."""


def open_usage_db(url: str, *, create: bool = True) -> Engine:
    """Open the usage database at `url`, creating the SQLite folder and the schema when asked."""
    try:
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
            elif not path.exists():
                raise UsageDatabaseError(f"the usage database {path} does not exist")
        engine = create_engine(url, pool_pre_ping=True)
    except ArgumentError as exc:
        raise UsageDatabaseError(f"USAGE_ETL_DB_URL is not a database URL: {exc}") from exc
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        raise UsageDatabaseError(
            f"cannot connect to the usage database at {engine.url.render_as_string(hide_password=True)}: "
            f"{str(exc.orig).strip().splitlines()[0]}"
        ) from exc
    if create:
        ensure_schema(engine)
    return engine


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("pragma journal_mode=wal")
    cur.execute("pragma busy_timeout=30000")
    cur.execute("pragma foreign_keys=on")
    cur.close()


def ensure_schema(engine: Engine) -> None:
    """Create missing tables and record the schema version (idempotent)."""
    metadata.create_all(engine)
    with engine.begin() as conn:
        current = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc())).first()
        if current is None:
            conn.execute(insert(schema_version).values(version=SCHEMA_VERSION, applied_at=datetime.now(timezone.utc)))
