"""The warehouse file: a usage_logs made with the old event_id key is rebuilt without it, rows kept."""
from __future__ import annotations

import duckdb
import pytest

from usage_etl import warehouse
from usage_etl.settings import Settings


def test_a_warehouse_with_the_old_event_id_key_is_rebuilt_without_it(tmp_path):
    path = tmp_path / "old.duckdb"
    old = duckdb.connect(str(path))
    old.execute(warehouse.read_sql("create_usage_logs.sql").replace("event_id varchar not null", "event_id varchar primary key"))
    old.execute("""insert into usage_logs (event_id, client_id, source, provider, endpoint, created_at, has_usage,
                   is_error, raw_file, raw_line, cost_usd, cost_status, ingested_at)
                   values ('e1', 'acme', 'groq', 'groq', 'chat.completions', '2026-11-10 12:00:00+00', true, false,
                           '2026/11/10/bot-1.jsonl', 1, 0.0001517, 'priced', '2026-11-11 00:00:00+00')""")
    assert old.execute("select count(*) from duckdb_constraints() where constraint_type = 'PRIMARY KEY'").fetchone() == (1,)
    old.close()

    con = warehouse.open_warehouse(path)
    assert con.execute("select count(*) from duckdb_constraints() where table_name = 'usage_logs' "
                       "and constraint_type = 'PRIMARY KEY'").fetchone() == (0,)
    assert con.execute("select event_id, cost_usd::varchar from usage_logs").fetchall() == [("e1", "0.000151700000")]
    con.close()


def test_the_memory_limit_is_applied_and_a_bad_one_is_one_sentence(tmp_path, monkeypatch):
    con = warehouse.open_warehouse(tmp_path / "w.duckdb", "300MB")
    limit = con.execute("select value from duckdb_settings() where name = 'memory_limit'").fetchone()[0]
    assert limit == "286.1 MiB"  # 300 MB, printed in DuckDB's binary unit
    con.close()

    monkeypatch.setenv("USAGE_ETL_WAREHOUSE_MEMORY", "lots")
    monkeypatch.setenv("USAGE_ETL_WAREHOUSE", str(tmp_path / "w.duckdb"))
    with pytest.raises(warehouse.WarehouseError, match="USAGE_ETL_WAREHOUSE_MEMORY is not a memory size"):
        warehouse.open_warehouse(tmp_path / "w.duckdb", Settings().warehouse_memory)
