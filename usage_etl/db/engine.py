"""Open the usage database and bring its schema up to date."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, insert, select, text
from sqlalchemy.exc import OperationalError, ArgumentError

from usage_etl.db.schema import metadata, schema_version

SCHEMA_VERSION = 2
# Version 2 (PostgreSQL only): usage_logs' identifiers compare bytes (COLLATE "C"), created_at and raw_file are
# BRIN-indexed. A database made at version 1 is brought to it in place (its indexes are rebuilt once).
MIGRATE_TO_2 = [
    'alter table usage_logs alter column event_id type varchar(128) collate "C",'
    ' alter column client_id type varchar(128) collate "C", alter column raw_file type varchar(512) collate "C"',
    "drop index ix_usage_logs_created",
    "create index ix_usage_logs_created on usage_logs using brin (created_at)",
    "drop index ix_usage_logs_raw_file",
    "create index ix_usage_logs_raw_file on usage_logs using brin (raw_file)",
]


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
        if engine.dialect.name == "postgresql":  # two jobs starting at once: one migrates, the other then sees it done
            conn.execute(text("lock table schema_version in share row exclusive mode"))
        current = conn.execute(select(schema_version.c.version).order_by(schema_version.c.version.desc())).first()
        if current is not None and current.version < 2 and engine.dialect.name == "postgresql":
            for statement in MIGRATE_TO_2:
                conn.execute(text(statement))
        if current is None or current.version < SCHEMA_VERSION:
            conn.execute(insert(schema_version).values(version=SCHEMA_VERSION, applied_at=datetime.now(timezone.utc)))
