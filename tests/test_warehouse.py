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


@pytest.mark.parametrize("keep, row_groups", [(True, 6), (False, 5)])
def test_an_insert_only_run_keeps_each_batchs_partial_row_group(tmp_path, keep, row_groups):
    # three batches of 150,000 rows: each is one full row group (122,880 rows) and one partial one. Merging
    # the partials rewrites compressed row groups at the checkpoint; ingest keeps them as they are.
    con = warehouse.open_warehouse(tmp_path / "w.duckdb")
    if keep:
        warehouse.keep_partial_row_groups(con)
    con.execute("create table batches (n bigint, s varchar)")
    for _ in range(3):
        with warehouse.transaction(con):
            con.execute("insert into batches select i, i::varchar from range(150000) r(i)")
    warehouse.checkpoint(con)
    assert con.execute("select count(distinct row_group_id) from pragma_storage_info('batches')").fetchone() == (row_groups,)
    assert con.execute("select count(*), sum(n) from batches").fetchone() == (450_000, 3 * 149_999 * 150_000 // 2)
    con.close()


def test_another_connection_sees_committed_rows_works_in_utc_and_keeps_its_own_temp_tables(tmp_path):
    con = warehouse.open_warehouse(tmp_path / "w.duckdb")
    con.execute("set global TimeZone = 'America/Sao_Paulo'")  # what a new connection would start with
    other = warehouse.another_connection(con)
    con.execute("create temp table batch_calls as select 1 as n")
    con.execute("insert into rejected_lines values ('2026/11/10/bot-1.jsonl', 7, 'not JSON', 'x', now())")
    assert other.execute("select count(*) from rejected_lines").fetchone() == (1,)
    local_time = "select strftime(timestamptz '2026-11-10 00:30:00+00', '%d %H:%M')"
    assert other.execute(local_time).fetchone() == ("10 00:30",)
    with pytest.raises(duckdb.CatalogException):
        other.execute("select * from batch_calls")
    other.close()
    con.close()
