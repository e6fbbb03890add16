"""Schema versions on PostgreSQL: a new database and one made at version 1 end up with the same usage_logs."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from usage_etl.db.engine import SCHEMA_VERSION, open_usage_db

# usage_logs as version 1 made it (the columns that version 2 changes, and its indexes), with one loaded call
VERSION_1 = [
    """create table usage_logs (
        event_id varchar(128) primary key, client_id varchar(128) not null, source varchar(32) not null,
        provider varchar(32) not null, endpoint varchar(64) not null, cost_status varchar(16) not null,
        is_error boolean not null, created_at timestamptz not null, raw_file varchar(512) not null,
        raw_line bigint not null, ingested_at timestamptz not null)""",
    "create index ix_usage_logs_client_created on usage_logs (client_id, created_at)",
    "create index ix_usage_logs_created on usage_logs (created_at)",
    "create index ix_usage_logs_raw_file on usage_logs (raw_file)",
    "create table schema_version (version integer primary key, applied_at timestamptz not null)",
    "insert into schema_version values (1, now())",
    """insert into usage_logs values ('e1', 'acme', 'groq', 'groq', 'chat.completions', 'priced', false,
        '2026-11-10T12:00:00Z', '2026/11/10/bot-1.jsonl', 7, now())""",
]


def _layout(url: str) -> dict:
    """usage_logs' index methods and identifier collations, and the recorded schema version."""
    engine = create_engine(url)
    with engine.connect() as conn:
        indexes = dict(conn.execute(text(
            "select c.relname, am.amname from pg_index i join pg_class c on c.oid = i.indexrelid "
            "join pg_am am on am.oid = c.relam where i.indrelid = 'usage_logs'::regclass")).all())
        collations = dict(conn.execute(text(
            "select column_name, coalesce(collation_name, 'default') from information_schema.columns "
            "where table_name = 'usage_logs' and column_name in ('event_id', 'client_id', 'raw_file', 'model')")).all())
        version = conn.execute(text("select max(version) from schema_version")).scalar_one()
        calls = conn.execute(text("select event_id, raw_line from usage_logs")).all()
    engine.dispose()
    return {"indexes": indexes, "collations": collations, "version": version, "calls": calls}


EXPECTED_INDEXES = {"usage_logs_pkey": "btree", "ix_usage_logs_client_created": "btree",
                    "ix_usage_logs_created": "brin", "ix_usage_logs_raw_file": "brin"}
EXPECTED_COLLATIONS = {"event_id": "C", "client_id": "C", "raw_file": "C", "model": "default"}


def test_a_new_database_has_brin_indexes_and_byte_order_identifiers(pg_url):
    open_usage_db(pg_url).dispose()
    layout = _layout(pg_url)
    assert (layout["indexes"], layout["collations"], layout["version"]) == (
        EXPECTED_INDEXES, EXPECTED_COLLATIONS, SCHEMA_VERSION)


def test_a_version_1_database_is_migrated_in_place_and_keeps_its_rows(pg_url):
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        for statement in VERSION_1:
            conn.execute(text(statement))
    engine.dispose()
    assert _layout(pg_url)["indexes"]["ix_usage_logs_created"] == "btree"

    open_usage_db(pg_url).dispose()
    open_usage_db(pg_url).dispose()  # a second start finds nothing left to do

    layout = _layout(pg_url)
    assert layout["indexes"] == EXPECTED_INDEXES
    assert {k: v for k, v in layout["collations"].items() if k != "model"} == {
        "event_id": "C", "client_id": "C", "raw_file": "C"}
    assert (layout["version"], layout["calls"]) == (2, [("e1", 7)])
