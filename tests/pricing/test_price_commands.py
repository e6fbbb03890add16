"""`usage-etl prices set / end / list / export / import` end to end, in-process, on SQLite and PostgreSQL.

The history built by `history` below (Groq llama-3.3-70b-versatile, catalogue $0.59 / $0.79 per 1M tokens):
  #1 global $0.59 / $0.79 per_1m_tokens   2026-01-01 .. 2026-03-01 (closed when #3 was set)
  #2 acme   $0.0005 / $0.0006 per_1k_tokens  2026-02-01 .. 2026-04-01 (ended by `prices end`)
  #3 global $0.5 / $0.7 per_1m_tokens     2026-03-01 .. open
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import delete

from tests.pricing.conftest import add_calls, count_prices, table_rows
from usage_etl.db.schema import pricing_changes, pricing_config
from usage_etl.pricing.config import read_prices

LLAMA = ("--provider", "groq", "--model", "llama-3.3-70b-versatile")
EXPORTED = (
    "client_id,provider,model,unit,prompt_price,completion_price,cached_prompt_price,effective_from,effective_to,note\n"
    ",groq,llama-3.3-70b-versatile,per_1m_tokens,0.59,0.79,,2026-01-01T00:00:00Z,2026-03-01T00:00:00Z,"
    "\"list price, 2026\"\n"
    ",groq,llama-3.3-70b-versatile,per_1m_tokens,0.5,0.7,,2026-03-01T00:00:00Z,,\n"
    "acme,groq,llama-3.3-70b-versatile,per_1k_tokens,0.0005,0.0006,,2026-02-01T00:00:00Z,2026-04-01T00:00:00Z,\n"
)


def utc(text: str) -> datetime:
    """Read an RFC 3339 UTC instant."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture
def history(cli):
    """Build the three windows of the module docstring through the CLI; return the cli runner."""
    first = cli("prices", "set", *LLAMA, "--unit", "per_1m_tokens", "--prompt", "0.59", "--completion", "0.79",
                "--from", "2026-01-01T00:00:00Z", "--note", "list price, 2026")
    assert (first.code, first.err) == (0, "")
    assert first.out == ("added price #1 groq/llama-3.3-70b-versatile for all clients from 2026-01-01T00:00:00Z "
                         "to open: $0.59 prompt / $0.79 completion per_1m_tokens\n")
    acme = cli("prices", "set", *LLAMA, "--client", "acme", "--unit", "per_1k_tokens", "--prompt", "0.0005",
               "--completion", "0.0006", "--from", "2026-02-01")
    assert acme.code == 0 and "added price #2" in acme.out and "for client acme" in acme.out
    newer = cli("prices", "set", *LLAMA, "--unit", "per_1m_tokens", "--prompt", "0.50", "--completion", "0.70",
                "--from", "2026-03-01T00:00:00Z")
    assert newer.code == 0
    assert newer.out.splitlines() == [
        "closed price #1 groq/llama-3.3-70b-versatile for all clients from 2026-01-01T00:00:00Z to open "
        "at 2026-03-01T00:00:00Z",
        "added price #3 groq/llama-3.3-70b-versatile for all clients from 2026-03-01T00:00:00Z to open: "
        "$0.5 prompt / $0.7 completion per_1m_tokens",
    ]
    # -03:00 offset: the same instant as 2026-04-01T00:00:00Z
    ended = cli("prices", "end", *LLAMA, "--client", "acme", "--at", "2026-03-31T21:00:00-03:00")
    assert ended.code == 0
    assert ended.out == ("ended price #2 groq/llama-3.3-70b-versatile for client acme from 2026-02-01T00:00:00Z "
                         "to open at 2026-04-01T00:00:00Z\n")
    return cli


def test_set_and_end_store_history_rows(history, engine):
    stored = [(p.id, p.client_id, p.unit, p.prompt_price, p.completion_price, p.effective_from, p.effective_to)
              for p in read_prices(engine)]
    assert stored == [
        (1, None, "per_1m_tokens", Decimal("0.59"), Decimal("0.79"), utc("2026-01-01T00:00:00Z"),
         utc("2026-03-01T00:00:00Z")),
        (3, None, "per_1m_tokens", Decimal("0.5"), Decimal("0.7"), utc("2026-03-01T00:00:00Z"), None),
        (2, "acme", "per_1k_tokens", Decimal("0.0005"), Decimal("0.0006"), utc("2026-02-01T00:00:00Z"),
         utc("2026-04-01T00:00:00Z")),
    ]


def test_export_writes_the_prices_as_set(history, tmp_path):
    path = tmp_path / "prices.csv"
    run = history("prices", "export", str(path))
    assert (run.code, run.out) == (0, f"exported 3 price(s) to {path}\n")
    assert path.read_text() == EXPORTED
    assert history("prices", "export", "-").out == EXPORTED


def test_export_reimports_identically(history, engine, tmp_path):
    path = tmp_path / "prices.csv"
    history("prices", "export", str(path))
    again = history("prices", "import", str(path))
    assert again.code == 0 and again.out.endswith("imported 0 new price(s) from " f"{path} (3 already present)\n")
    assert count_prices(engine) == 3

    with engine.begin() as conn:  # an empty database, then the file
        conn.execute(delete(pricing_changes))
        conn.execute(delete(pricing_config))
    fresh = history("prices", "import", str(path))
    assert fresh.code == 0 and fresh.out.endswith(f"imported 3 new price(s) from {path} (0 already present)\n")
    assert history("prices", "export", "-").out == EXPORTED


def test_list_picks_client_then_global_then_catalogue(history, engine):
    add_calls(engine, [("e1", "groq", "llama-3.3-70b-versatile", "2026-02-15T12:00:00Z"),
                       ("e2", "groq", "mystery-model", "2026-02-15T12:00:00Z")])

    def listed(*args: str) -> list[tuple[str, ...]]:
        run = history("prices", "list", *args)
        assert run.code == 0, run.err
        return [(r["model"], r["client"], r["source"], r["from"], r["until"], r["price"]) for r in table_rows(run.out)]

    catalogue = ("llama-3.3-70b-versatile", "-", "catalogue", "-", "-", "$0.59 in / $0.79 out per 1M tokens")
    unpriced = ("mystery-model", "-", "none", "-", "-", "no price: calls stay unpriced")
    assert listed("--client", "acme", "--at", "2025-12-31T23:59:59Z") == [catalogue, unpriced]
    assert listed("--client", "acme", "--at", "2026-01-15T00:00:00Z") == [
        ("llama-3.3-70b-versatile", "-", "global", "2026-01-01T00:00:00Z", "2026-03-01T00:00:00Z",
         "$0.59 prompt / $0.79 completion per_1m_tokens"), unpriced]
    acme_own = ("llama-3.3-70b-versatile", "acme", "client", "2026-02-01T00:00:00Z", "2026-04-01T00:00:00Z",
                "$0.0005 prompt / $0.0006 completion per_1k_tokens")
    assert listed("--client", "acme", "--at", "2026-02-01T00:00:00Z") == [acme_own, unpriced]
    assert listed("--client", "acme", "--at", "2026-03-31T23:59:59Z") == [acme_own, unpriced]
    newer_global = ("llama-3.3-70b-versatile", "-", "global", "2026-03-01T00:00:00Z", "-",
                    "$0.5 prompt / $0.7 completion per_1m_tokens")
    # effective_to is excluded: at 2026-04-01T00:00:00Z acme's window has ended
    assert listed("--client", "acme", "--at", "2026-04-01T00:00:00Z") == [newer_global, unpriced]
    assert listed("--client", "beta", "--at", "2026-03-15T00:00:00Z") == [newer_global, unpriced]
    assert listed("--at", "2026-03-15T00:00:00Z") == [newer_global, acme_own, unpriced]


def test_list_header_names_time_client_and_catalogue(history):
    run = history("prices", "list", "--client", "acme", "--at", "2026-02-15T09:00:00-03:00")
    assert run.out.splitlines()[0].startswith("prices in force at 2026-02-15T12:00:00Z for client acme (genai-prices ")


def test_list_shows_a_configured_alias_and_an_audio_price(cli, engine):
    add_calls(engine, [("e1", "openai", "gpt-4o-2024-08-06", "2026-02-15T12:00:00Z")])
    assert cli("prices", "set", "--provider", "openai", "--model", "gpt-4o", "--unit", "per_1m_tokens",
               "--prompt", "2", "--completion", "8", "--cached", "1", "--from", "2026-01-01").code == 0
    assert cli("prices", "set", "--provider", "openai", "--model", "whisper-1", "--unit", "per_minute",
               "--prompt", "0.006", "--from", "2026-01-01").code == 0
    rows = table_rows(cli("prices", "list", "--at", "2026-02-01T00:00:00Z").out)
    assert [(r["model"], r["source"], r["price"]) for r in rows] == [
        ("gpt-4o", "global", "$2 prompt / $8 completion / $1 cached prompt per_1m_tokens"),
        ("gpt-4o-2024-08-06", "global", "$2 prompt / $8 completion / $1 cached prompt per_1m_tokens (set for gpt-4o)"),
        ("whisper-1", "global", "$0.006 audio per_minute"),
    ]


REFUSED_SETS = [
    (("--unit", "per_1m_tokens", "--prompt", "-0.1", "--completion", "0.79", "--from", "2026-06-01T00:00:00Z"),
     "usage-etl: prompt_price -0.1 is negative\n"),
    (("--unit", "per_1m_tokens", "--prompt", "0.59", "--completion", "0.79", "--from", "2026-02-01T00:00:00Z"),
     "usage-etl: the new price groq/llama-3.3-70b-versatile for all clients from 2026-02-01T00:00:00Z to open "
     "overlaps the stored price #1 groq/llama-3.3-70b-versatile for all clients from 2026-01-01T00:00:00Z "
     "to 2026-03-01T00:00:00Z\n"),
    (("--unit", "per_1m_tokens", "--prompt", "0.59", "--completion", "0.79", "--from", "2026-03-01T00:00:00Z"),
     "usage-etl: the new price groq/llama-3.3-70b-versatile for all clients from 2026-03-01T00:00:00Z to open "
     "overlaps the stored price #3 groq/llama-3.3-70b-versatile for all clients from 2026-03-01T00:00:00Z "
     "to open\n"),
    (("--unit", "per_1m_tokens", "--prompt", "0.59", "--from", "2026-06-01T00:00:00Z"),
     "usage-etl: a token price (per_1m_tokens) needs a completion price\n"),
    (("--unit", "per_minute", "--prompt", "0.006", "--completion", "0.01", "--from", "2026-06-01T00:00:00Z"),
     "usage-etl: a per_minute price bills audio time: give the prompt price only, no completion or cached "
     "prompt price\n"),
    (("--unit", "per_1m_tokens", "--prompt", "cheap", "--completion", "0.79", "--from", "2026-06-01T00:00:00Z"),
     "usage-etl: --prompt 'cheap' is not a number\n"),
]


@pytest.mark.parametrize(("args", "message"), REFUSED_SETS,
                         ids=["negative", "overlap-closed", "same-start", "no-completion", "audio-completion",
                              "not-a-number"])
def test_refused_set_stores_nothing(history, engine, args, message):
    before = history("prices", "export", "-").out
    run = history("prices", "set", *LLAMA, *args)
    assert (run.code, run.out, run.err) == (2, "", message)
    assert history("prices", "export", "-").out == before == EXPORTED


def test_end_before_the_start_is_refused(history, engine):
    run = history("prices", "end", *LLAMA, "--at", "2026-03-01T00:00:00Z")
    assert (run.code, run.err) == (2, "usage-etl: cannot end price #3 groq/llama-3.3-70b-versatile for all clients "
                                      "from 2026-03-01T00:00:00Z to open at 2026-03-01T00:00:00Z: the end must come "
                                      "after the start\n")
    nothing_open = history("prices", "end", *LLAMA, "--client", "acme", "--at", "2026-06-01T00:00:00Z")
    assert (nothing_open.code, nothing_open.err) == (
        2, "usage-etl: no open price for groq/llama-3.3-70b-versatile for client acme to end\n")
    assert history("prices", "export", "-").out == EXPORTED


@pytest.mark.parametrize(("args", "message"), [
    (("--unit", "per_day", "--prompt", "1", "--completion", "1", "--from", "2026-06-01T00:00:00Z"),
     "argument --unit: invalid choice: 'per_day'"),
    (("--unit", "per_1m_tokens", "--prompt", "1", "--completion", "1", "--from", "2026-06-01T00:00:00"),
     "'2026-06-01T00:00:00' has no UTC offset (write it like 2026-11-01T00:00:00Z)"),
    (("--unit", "per_1m_tokens", "--prompt", "1", "--completion", "1", "--from", "June"),
     "'June' is not an RFC 3339 timestamp"),
], ids=["unit", "no-offset", "not-a-time"])
def test_bad_arguments_exit_2(cli, engine, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        cli("prices", "set", *LLAMA, *args)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
    assert count_prices(engine) == 0


HEADER = "client_id,provider,model,unit,prompt_price,completion_price,cached_prompt_price,effective_from\n"
GOOD_ROW = ",openai,gpt-4o-mini,per_1m_tokens,0.15,0.6,0.075,2026-01-01T00:00:00Z\n"


@pytest.mark.parametrize(("bad_row", "reason"), [
    ("acme,groq,llama-3.3-70b-versatile,per_1m_tokens,0.59,-0.79,,2026-01-01T00:00:00Z\n",
     "completion_price -0.79 is negative"),
    ("acme,groq,llama-3.3-70b-versatile,per_token,0.59,0.79,,2026-01-01T00:00:00Z\n",
     "unknown unit 'per_token'; use one of per_1k_tokens, per_1m_tokens, per_minute, per_hour"),
    ("acme,groq,llama-3.3-70b-versatile,per_1m_tokens,0.59,0.79,,2026-01-01\n", None),
    ("acme,groq,llama-3.3-70b-versatile,per_1m_tokens,0.59,0.79,,\n", "effective_from is missing"),
    ("acme,groq,llama-3.3-70b-versatile,per_1m_tokens,0.59,0.79,,2026-01-01T00:00:00\n",
     "'2026-01-01T00:00:00' has no UTC offset (write it like 2026-11-01T00:00:00Z)"),
    ("acme,groq,llama-3.3-70b-versatile,per_1m_tokens,0.59,0.79,,2026-01-01T00:00:00Z,extra\n",
     "more fields than columns"),
], ids=["negative", "unit", "bare-date-is-fine", "no-start", "no-offset", "extra-field"])
def test_import_refuses_a_file_with_a_bad_row(cli, engine, tmp_path, bad_row, reason):
    path = tmp_path / "prices.csv"
    path.write_text(HEADER + GOOD_ROW + bad_row)
    run = cli("prices", "import", str(path))
    if reason is None:  # a bare date is midnight UTC: both rows are stored
        assert run.code == 0 and count_prices(engine) == 2
        return
    assert (run.code, run.out, run.err) == (2, "", f"usage-etl: {path} line 3: {reason}\n")
    assert count_prices(engine) == 0


def test_import_refuses_an_end_before_the_start(cli, engine, tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("client_id,provider,model,unit,prompt_price,completion_price,effective_from,effective_to\n"
                    ",groq,llama-3.3-70b-versatile,per_1m_tokens,0.59,0.79,2026-03-01T00:00:00Z,2026-02-01T00:00:00Z\n")
    run = cli("prices", "import", str(path))
    assert (run.code, run.err) == (2, f"usage-etl: {path} line 2: the price ends (2026-02-01T00:00:00Z) before it "
                                      "starts (2026-03-01T00:00:00Z)\n")
    assert count_prices(engine) == 0


def test_import_refuses_a_row_overlapping_a_stored_price_by_its_line(history, engine, tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text(HEADER + GOOD_ROW + ",groq,llama-3.3-70b-versatile,per_1m_tokens,1,1,,2026-02-15T00:00:00Z\n")
    run = history("prices", "import", str(path))
    assert run.code == 2
    assert run.err.startswith(f"usage-etl: {path} line 3: the new price groq/llama-3.3-70b-versatile for all "
                              "clients from 2026-02-15T00:00:00Z to open overlaps the stored price #1")
    assert history("prices", "export", "-").out == EXPORTED  # gpt-4o-mini of line 2 was not kept either


def test_import_refuses_rows_overlapping_each_other(cli, engine, tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text(HEADER + GOOD_ROW + GOOD_ROW.replace("0.15", "0.2"))
    run = cli("prices", "import", str(path))
    assert (run.code, run.err) == (2, f"usage-etl: {path} line 3: overlaps line 2 (openai/gpt-4o-mini for all "
                                      "clients from 2026-01-01T00:00:00Z to open)\n")
    assert count_prices(engine) == 0


def test_import_missing_columns_and_missing_file(cli, engine, tmp_path):
    path = tmp_path / "prices.csv"
    path.write_text("provider,model,unit,prompt_price,effective_from\n")
    run = cli("prices", "import", str(path))
    assert (run.code, run.err) == (2, f"usage-etl: {path} line 1: missing column(s) client_id, completion_price\n")
    gone = cli("prices", "import", str(tmp_path / "nope.csv"))
    assert gone.code == 2 and "cannot read" in gone.err and "No such file or directory" in gone.err


def test_the_example_file_imports(cli, engine):
    from tests.conftest import REPO_ROOT

    run = cli("prices", "import", str(REPO_ROOT / "docs" / "examples" / "prices.csv"))
    assert run.code == 0, run.err
    assert run.out.splitlines()[-1].startswith("imported 5 new price(s)")
    # acme's deal ends on 2026-05-01 (excluded): from then on acme pays the global price again
    acme_may = table_rows(cli("prices", "list", "--client", "acme", "--at", "2026-05-01T00:00:00Z").out)
    assert [(r["model"], r["source"], r["price"]) for r in acme_may][:1] == [
        ("llama-3.3-70b-versatile", "global", "$0.59 prompt / $0.79 completion per_1m_tokens")]
