"""Recipients: the CSV (all rows or none, the bad line named), import as upsert, list and remove, on both databases."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from usage_etl.cli import main
from usage_etl.db.engine import open_usage_db
from usage_etl.reporting.recipients import Recipient, RecipientsError, list_recipients, read_recipients_csv

EXAMPLE_CSV = Path(__file__).resolve().parents[2] / "docs" / "examples" / "recipients.csv"
DEMO_CLIENTS = {"acme-clinic", "escola-norte", "padaria-sol"}  # the client_id values of raw_logs' chatbot-demo.jsonl

GOOD = "client_id,email,name\nacme,ana@example.com,Ana Lima\nacme,bruno@example.com,\n_all,ops@example.com,Operator\n"


@pytest.fixture
def cli_db(db_url, monkeypatch):
    """Point the CLI at this test's database (SQLite or PostgreSQL) and return it opened."""
    monkeypatch.setenv("USAGE_ETL_DB_URL", db_url)
    engine = open_usage_db(db_url)
    yield engine
    engine.dispose()


def write(tmp_path: Path, text: str, name: str = "recipients.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_is_read_with_names_and_blank_names_as_none(tmp_path):
    assert read_recipients_csv(write(tmp_path, GOOD)) == [
        Recipient("acme", "ana@example.com", "Ana Lima"),
        Recipient("acme", "bruno@example.com", None),
        Recipient("_all", "ops@example.com", "Operator"),
    ]


@pytest.mark.parametrize("text, message", [
    ("client_id,email\nacme,ana@example.com\n,bruno@example.com\n", "line 3: client_id is empty"),
    ("client_id,email\nacme,ana@example.com\n   ,bruno@example.com\n", "line 3: client_id is empty"),
    ("client_id,email\nacme,ana.example.com\n", "line 2: invalid email 'ana.example.com'"),
    ("client_id,email\nacme,ana@example\n", "line 2: invalid email 'ana@example'"),
    ("client_id,email\nacme,ana lima@example.com\n", "line 2: invalid email 'ana lima@example.com'"),
    ("client_id,email\nacme,\n", "line 2: email is empty"),
    ("client_id,email,name\nacme,a@example.com,Ana,extra\n", "line 2: more fields than columns"),
    ("client_id,name\nacme,Ana\n", "line 1: missing column(s) email"),
    ("client_id,email\nacme,a@example.com\nbeta,b@example.com\nacme,A@example.com\n",
     "line 4: repeats line 2 (acme, A@example.com)"),
], ids=["empty-client", "blank-client", "no-at", "no-dot-in-domain", "space", "empty-email", "extra-field",
        "missing-column", "repeated-row"])
def test_bad_row_is_refused_with_its_line_and_reason(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(RecipientsError) as info:
        read_recipients_csv(path)
    assert str(info.value) == f"{path} {message}"


def test_import_with_a_bad_row_stores_nothing(cli_db, tmp_path, capsys):
    path = write(tmp_path, GOOD + "beta,not-an-email,Beta\n")
    assert main(["recipients", "import", str(path)]) == 2
    assert capsys.readouterr().err == f"usage-etl: {path} line 5: invalid email 'not-an-email'\n"
    assert list_recipients(cli_db) == []


def test_import_adds_new_rows_renames_known_ones_and_removes_nobody(cli_db, tmp_path, capsys):
    assert main(["recipients", "import", str(write(tmp_path, GOOD))]) == 0
    assert "3 added, 0 renamed, 0 unchanged" in capsys.readouterr().out

    second = "client_id,email,name\nacme,ana@example.com,Ana L.\nacme,bruno@example.com,\nbeta,bia@example.com,Bia\n"
    assert main(["recipients", "import", str(write(tmp_path, second, "second.csv"))]) == 0
    assert "3 recipient(s)" in (out := capsys.readouterr().out) and "1 added, 1 renamed, 1 unchanged" in out
    assert list_recipients(cli_db) == [
        Recipient("_all", "ops@example.com", "Operator"),  # not in the second file, still there
        Recipient("acme", "ana@example.com", "Ana L."),
        Recipient("acme", "bruno@example.com", None),
        Recipient("beta", "bia@example.com", "Bia"),
    ]


def test_list_prints_csv_that_import_reads_and_filters_by_client(cli_db, tmp_path, capsys):
    main(["recipients", "import", str(write(tmp_path, GOOD))])
    capsys.readouterr()

    assert main(["recipients", "list", "--client", "acme"]) == 0
    assert capsys.readouterr().out == "client_id,email,name\nacme,ana@example.com,Ana Lima\nacme,bruno@example.com,\n"

    assert main(["recipients", "list"]) == 0
    listed = write(tmp_path, capsys.readouterr().out, "listed.csv")
    assert sorted(read_recipients_csv(listed), key=lambda r: r.email) == read_recipients_csv(tmp_path / "recipients.csv")


def test_remove_takes_one_address_off_one_client(cli_db, tmp_path, capsys):
    main(["recipients", "import", str(write(tmp_path, GOOD))])
    assert main(["recipients", "remove", "acme", "bruno@example.com"]) == 0
    assert [r.email for r in list_recipients(cli_db, "acme")] == ["ana@example.com"]
    capsys.readouterr()
    assert main(["recipients", "remove", "acme", "bruno@example.com"]) == 2
    assert capsys.readouterr().err == "usage-etl: bruno@example.com is not a recipient of acme\n"


def test_example_file_covers_the_demo_clients_and_the_operator(cli_db, capsys):
    recipients = read_recipients_csv(EXAMPLE_CSV)
    assert {r.client_id for r in recipients} == DEMO_CLIENTS | {"_all"}
    assert all(r.email.endswith("example.com") for r in recipients)
    assert main(["recipients", "import", str(EXAMPLE_CSV)]) == 0
    assert len(list_recipients(cli_db)) == len(recipients) == 5
    rows = list(csv.DictReader(io.StringIO(EXAMPLE_CSV.read_text())))
    assert [r["client_id"] for r in rows].count("acme-clinic") == 2
