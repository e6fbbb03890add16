"""Catalogue prices seen per genai-prices version, and `usage-etl prices catalogue` listing what an upgrade changed.

Catalogue prices used here (genai-prices as installed): Groq llama-3.3-70b-versatile $0.59 in / $0.79 out per 1M
tokens (5.9e-7 / 7.9e-7 per token); OpenAI whisper-1 $0.36 per hour of audio (0.0001 per second).
The upgrade is simulated: another version name, and llama at $0.69 in per 1M tokens.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from tests.pricing.conftest import add_calls, table_rows
from usage_etl.db.schema import catalogue_prices_seen
from usage_etl.pricing import catalogue
from usage_etl.pricing.catalogue import UnitPrices
from usage_etl.pricing.upgrades import CatalogueChange, models_seen, record_seen_prices, versions_recorded

LLAMA = ("groq", "llama-3.3-70b-versatile")
MYSTERY = ("groq", "mystery-model")
WHISPER = ("openai", "whisper-1")
LISTED = UnitPrices(input_per_token=Decimal("0.00000059"), output_per_token=Decimal("0.00000079"))
RAISED = UnitPrices(input_per_token=Decimal("0.00000069"), output_per_token=Decimal("0.00000079"))
T1 = datetime(2026, 11, 1, tzinfo=timezone.utc)
T2 = datetime(2026, 11, 2, tzinfo=timezone.utc)
INSTALLED = catalogue.catalogue_version()
NO_EARLIER = "no earlier genai-prices version recorded: after an upgrade this command lists what changed"


def seen(engine) -> list[tuple]:
    """(version, provider, model, input_per_token, output_per_token) of catalogue_prices_seen, in order."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(
            catalogue_prices_seen.c.catalogue_version, catalogue_prices_seen.c.provider, catalogue_prices_seen.c.model,
            catalogue_prices_seen.c.input_per_token, catalogue_prices_seen.c.output_per_token,
        ).order_by(catalogue_prices_seen.c.catalogue_version, catalogue_prices_seen.c.model))]


def test_the_catalogue_reads_as_the_docstring_says():
    assert catalogue.current_prices(*LLAMA) == LISTED
    assert catalogue.current_prices(*WHISPER) == UnitPrices(per_second=Decimal("0.0001"))
    assert catalogue.current_prices(*MYSTERY) is None


def test_first_record_lists_no_change_and_stores_the_prices(engine):
    assert record_seen_prices(engine, "0.2.3", {LLAMA: LISTED, MYSTERY: None}, now=T1) == []
    assert seen(engine) == [("0.2.3", "groq", "llama-3.3-70b-versatile", Decimal("0.00000059"), Decimal("0.00000079")),
                            ("0.2.3", "groq", "mystery-model", None, None)]
    assert record_seen_prices(engine, "0.2.3", {LLAMA: LISTED, MYSTERY: None}, now=T2) == []  # same version again
    assert len(seen(engine)) == 2
    assert versions_recorded(engine) == ["0.2.3"]


def test_a_changed_price_under_a_new_version_is_listed(engine):
    record_seen_prices(engine, "0.2.3", {LLAMA: LISTED, MYSTERY: None, WHISPER: catalogue.current_prices(*WHISPER)},
                       now=T1)
    changes = record_seen_prices(engine, "0.3.0", {LLAMA: RAISED, MYSTERY: None, WHISPER: None}, now=T2)
    assert changes == [
        CatalogueChange("groq", "llama-3.3-70b-versatile", "0.2.3", LISTED, RAISED),
        CatalogueChange("openai", "whisper-1", "0.2.3", UnitPrices(per_second=Decimal("0.0001")), None),
    ]
    assert versions_recorded(engine) == ["0.2.3", "0.3.0"]
    # the next run under 0.3.0 still compares with 0.2.3, the latest other version
    assert [c.model for c in record_seen_prices(engine, "0.3.0", {LLAMA: RAISED}, now=T2)] == [
        "llama-3.3-70b-versatile"]


def test_an_edited_record_stands_for_an_older_catalogue(engine):
    record_seen_prices(engine, INSTALLED, {LLAMA: catalogue.current_prices(*LLAMA)}, now=T1)
    with engine.begin() as conn:  # as if an older genai-prices had listed llama at $0.49 in per 1M tokens
        conn.execute(update(catalogue_prices_seen).values(catalogue_version="0.0.1",
                                                          input_per_token=Decimal("0.00000049")))
    [change] = record_seen_prices(engine, INSTALLED, {LLAMA: catalogue.current_prices(*LLAMA)}, now=T2)
    assert (change.old_version, change.old.input_per_token, change.new.input_per_token) == (
        "0.0.1", Decimal("0.00000049"), Decimal("0.00000059"))


def test_models_seen_since(engine):
    add_calls(engine, [("e1", *LLAMA, "2026-11-10T12:00:00Z"), ("e2", *LLAMA, "2026-11-11T12:00:00Z"),
                       ("e3", *MYSTERY, "2026-10-01T12:00:00Z"), ("e4", *WHISPER, "2026-11-01T00:00:00Z")])
    assert models_seen(engine) == [LLAMA, MYSTERY, WHISPER]
    assert models_seen(engine, datetime(2026, 11, 1, tzinfo=timezone.utc)) == [LLAMA, WHISPER]
    assert models_seen(engine, datetime(2026, 11, 1, 0, 0, 1, tzinfo=timezone.utc)) == [LLAMA]


@pytest.fixture
def calls(engine):
    """Calls of llama and whisper-1 in November, and of a model the catalogue does not know in October."""
    add_calls(engine, [("e1", *LLAMA, "2026-11-10T12:00:00Z"), ("e2", *WHISPER, "2026-11-12T12:00:00Z"),
                       ("e3", *MYSTERY, "2026-10-01T12:00:00Z")])
    return engine


def test_catalogue_command_lists_the_prices_of_the_models_seen(cli, calls):
    run = cli("prices", "catalogue")
    assert run.code == 0, run.err
    lines = run.out.splitlines()
    assert lines[0] == f"genai-prices {INSTALLED}: current list prices of the 3 model(s) seen in usage_logs"
    assert [(r["model"], r["catalogue id"], r["price"]) for r in table_rows(run.out)] == [
        ("llama-3.3-70b-versatile", "llama-3.3-70b-versatile", "$0.59 in / $0.79 out per 1M tokens"),
        ("mystery-model", "-", "not in the catalogue"),
        ("whisper-1", "whisper-1", "$0.36/hour of audio"),
    ]
    assert lines[-1] == NO_EARLIER
    assert [row[:3] for row in seen(calls)] == [(INSTALLED, *LLAMA), (INSTALLED, *MYSTERY), (INSTALLED, *WHISPER)]

    recent = cli("prices", "catalogue", "--models-seen-since", "2026-11-01")
    assert recent.out.splitlines()[0] == (f"genai-prices {INSTALLED}: current list prices of the 2 model(s) seen "
                                          "since 2026-11-01T00:00:00Z")
    assert recent.out.splitlines()[-1] == NO_EARLIER


def test_catalogue_command_after_an_upgrade_lists_what_changed(cli, calls, monkeypatch):
    assert cli("prices", "catalogue").code == 0
    real_prices = catalogue.current_prices

    def upgraded(provider: str, model: str, at=None):
        """The installed catalogue, except llama at $0.69 in per 1M tokens and whisper-1 gone."""
        if (provider, model) == LLAMA:
            return RAISED
        if (provider, model) == WHISPER:
            return None
        return real_prices(provider, model, at)

    monkeypatch.setattr(catalogue, "catalogue_version", lambda: "9.0.0")
    monkeypatch.setattr(catalogue, "current_prices", upgraded)
    run = cli("prices", "catalogue")
    assert run.code == 0, run.err
    assert run.out.split("\n\n", 1)[1].splitlines() == [
        "2 price(s) changed since an earlier catalogue version:",
        f"  groq/llama-3.3-70b-versatile: $0.59 in / $0.79 out per 1M tokens (genai-prices {INSTALLED}) -> "
        "$0.69 in / $0.79 out per 1M tokens (genai-prices 9.0.0)",
        f"  openai/whisper-1: $0.36/hour of audio (genai-prices {INSTALLED}) -> no price (genai-prices 9.0.0)",
        "calls already loaded keep their cost until they are repriced (usage-etl reprice)",
    ]
    assert versions_recorded(calls) == [INSTALLED, "9.0.0"]


def test_catalogue_command_with_no_change_names_the_earlier_version(cli, calls, monkeypatch):
    assert cli("prices", "catalogue").code == 0
    monkeypatch.setattr(catalogue, "catalogue_version", lambda: "9.0.0")
    run = cli("prices", "catalogue")
    assert run.out.splitlines()[-1] == f"no price changed since genai-prices {INSTALLED}"
