"""Adopt the chatbot's old pricing_config: one row per client, provider and model, with no dates.

The old table has columns client_id, provider, model, prompt_price, completion_price and optionally
cached_prompt_price and unit. Whisper prices sit under provider `whisper`. Each row becomes a history row
of the new pricing_config, effective from a given time, after a check against the catalogue.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import MetaData, Table, create_engine, select
from sqlalchemy.exc import ArgumentError, NoSuchTableError, OperationalError

from usage_etl.pricing import catalogue
from usage_etl.pricing.config import (
    UNITS,
    ConfigPrice,
    PricingConfigError,
    check_price,
    parse_price,
    to_unit_prices,
)

GROQ_WHISPER_MARK = "whisper-large"  # whisper-large-v3, whisper-large-v3-turbo, distil-whisper-large-v3-en
OPENAI_WHISPER = "whisper-1"
REQUIRED_COLUMNS = ("client_id", "provider", "model", "prompt_price", "completion_price")


@dataclass(frozen=True)
class LegacyRow:
    """One row of the old table as read, with its place (line or row number) for messages."""

    where: str
    client_id: str | None
    provider: str
    model: str
    prompt_price: str | None
    completion_price: str | None
    cached_prompt_price: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class Adoption:
    """What adopting the old rows gives: the prices to store and the findings to show."""

    prices: list[ConfigPrice]
    findings: list[str]


def read_legacy_csv(path: Path) -> list[LegacyRow]:
    """Read an export of the old table."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            _check_columns(reader.fieldnames or [], f"{path} line 1")
            return [_legacy(f"{path} line {reader.line_num}", row) for row in reader]
    except OSError as exc:
        raise PricingConfigError(f"cannot read {path}: {exc.strerror}") from None


def read_legacy_db(url: str, table: str = "pricing_config") -> list[LegacyRow]:
    """Read the old table from the chatbot's database (never creating it)."""
    try:
        engine = create_engine(url)
    except ArgumentError:
        raise PricingConfigError("--from-url is not a database URL") from None
    shown = engine.url.render_as_string(hide_password=True)
    # SQLite would create an empty file at a mistyped path and then report a missing table.
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:") \
            and not Path(engine.url.database).is_file():
        raise PricingConfigError(f"the old database {engine.url.database} does not exist")
    try:
        with engine.connect() as conn:
            old = Table(table, MetaData(), autoload_with=conn)
            _check_columns([c.name for c in old.columns], f"table {table} of {shown}")
            rows = conn.execute(select(old)).mappings().all()
    except NoSuchTableError:
        raise PricingConfigError(f"the database {shown} has no table {table}") from None
    except OperationalError as exc:
        raise PricingConfigError(f"cannot read the old pricing table at {shown}: "
                                 f"{str(exc.orig).strip().splitlines()[0]}") from None
    finally:
        engine.dispose()
    return [_legacy(f"{table} row {i}", dict(row)) for i, row in enumerate(rows, start=1)]


def _check_columns(names: list[str], where: str) -> None:
    """Refuse an old table without the columns a price needs."""
    missing = [c for c in REQUIRED_COLUMNS if c not in names]
    if missing:
        raise PricingConfigError(f"{where}: missing column(s) {', '.join(missing)}")


def _legacy(where: str, row: dict) -> LegacyRow:
    def text(name: str) -> str | None:
        value = row.get(name)
        return None if value is None or str(value).strip() == "" else str(value).strip()

    return LegacyRow(
        where=where, client_id=text("client_id"), provider=(text("provider") or "").lower(),
        model=text("model") or "", prompt_price=text("prompt_price"), completion_price=text("completion_price"),
        cached_prompt_price=text("cached_prompt_price"), unit=text("unit"),
    )


def adopt(rows: list[LegacyRow], *, effective_from: datetime, token_unit: str, audio_unit: str) -> Adoption:
    """Turn old rows into history rows, checking each against the catalogue's current price.

    A row priced at zero where the catalogue has a price is not adopted (the catalogue then applies):
    a free model is a mistake in the old table, not a deal. Other differences are adopted and reported.
    """
    prices: list[ConfigPrice] = []
    findings: list[str] = []
    for row in rows:
        provider, model = _provider_model(row)
        unit = row.unit or (audio_unit if row.provider == "whisper" else token_unit)
        label = f"{row.where} ({row.client_id or 'all clients'}, {provider}/{model})"
        if unit not in UNITS:
            raise PricingConfigError(f"{label}: unknown unit {unit!r}; use one of {', '.join(UNITS)}")
        by_time = UNITS[unit][1]
        try:  # a time unit bills audio seconds only: the old completion and cached columns do not apply
            price = ConfigPrice(
                client_id=row.client_id, provider=provider, model=model, unit=unit,
                prompt_price=parse_price(row.prompt_price, "prompt_price", required=True),
                completion_price=None if by_time
                else parse_price(row.completion_price, "completion_price", required=True),
                cached_prompt_price=None if by_time
                else parse_price(row.cached_prompt_price, "cached_prompt_price", required=False),
                effective_from=effective_from, note=f"adopted from the legacy pricing_config ({row.where})",
                origin=label,
            )
            check_price(price)
        except ValueError as exc:
            raise PricingConfigError(f"{label}: {exc}") from None
        listed = catalogue.current_prices(provider, model)
        mine = to_unit_prices(price)
        if listed is None:
            zero = " and priced at zero: its calls will cost $0" if _is_zero(mine) else ""
            findings.append(f"{label}: not in the catalogue{zero}; adopted as configured")
        elif _is_zero(mine) and not _is_zero(listed):
            findings.append(f"{label}: priced at zero but the catalogue lists {catalogue.describe_prices(listed)}; "
                            "not adopted, the catalogue price applies")
            continue
        elif _differs(mine, listed):
            findings.append(f"{label}: {catalogue.describe_prices(mine)} differs from the catalogue's {catalogue.describe_prices(listed)}; adopted")
        prices.append(price)
    return Adoption(prices, findings)


def _provider_model(row: LegacyRow) -> tuple[str, str]:
    """Place old `whisper` rows under the provider that serves the model (OpenAI's whisper-1 by default)."""
    if row.provider != "whisper":
        return row.provider, row.model
    model = row.model if row.model.lower() not in ("", "whisper") else OPENAI_WHISPER
    if GROQ_WHISPER_MARK in model.lower():
        return "groq", model
    return "openai", model


def _is_zero(prices: catalogue.UnitPrices) -> bool:
    return all(v is None or v == 0 for v in prices.as_tuple())


def _differs(mine: catalogue.UnitPrices, listed: catalogue.UnitPrices) -> bool:
    """Compare the parts both prices have (a config price has no audio-token or cache-write part)."""
    return any(a is not None and b is not None and a != b for a, b in zip(mine.as_tuple(), listed.as_tuple())) or (
        (mine.per_second is None) != (listed.per_second is None)
    )
