"""pricing_config: the operator's own prices (per client, or global), kept as a history of windows.

A price is a row valid from `effective_from` (included) to `effective_to` (excluded; NULL: still in force).
A new price is always a new row. The only change ever made to a stored row is ending it: setting the
`effective_to` of an open window, when the operator ends it or sets a newer price for the same key, which
closes the open window at the new price's start. Every creation and end is logged in pricing_changes.
"""
from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path

from sqlalchemy import Connection, Engine, insert, or_, select, update

from usage_etl.csv_rows import csv_rows
from usage_etl.db.schema import pricing_changes, pricing_config
from usage_etl.pricing.catalogue import UnitPrices, catalogue_version, per_unit

# unit → (how many tokens or seconds the price is for, whether it prices audio time)
UNITS: dict[str, tuple[int, bool]] = {
    "per_1k_tokens": (1_000, False),
    "per_1m_tokens": (1_000_000, False),
    "per_minute": (60, True),
    "per_hour": (3_600, True),
}
EPOCH_TEXT = "1970-01-01T00:00:00Z"
CSV_COLUMNS = ("client_id", "provider", "model", "unit", "prompt_price", "completion_price",
               "cached_prompt_price", "effective_from", "effective_to", "note")
REQUIRED_CSV_COLUMNS = ("client_id", "provider", "model", "unit", "prompt_price", "completion_price", "effective_from")


class PricingConfigError(ValueError):
    """A price was refused; the message is one sentence for the operator."""


@dataclass(frozen=True)
class ConfigPrice:
    """One pricing_config window; `id` is None until stored."""

    client_id: str | None
    provider: str
    model: str
    unit: str
    prompt_price: Decimal
    completion_price: Decimal | None
    cached_prompt_price: Decimal | None
    effective_from: datetime
    effective_to: datetime | None = None
    note: str | None = None
    id: int | None = None
    created_at: datetime | None = field(default=None, compare=False)
    origin: str | None = field(default=None, compare=False)  # e.g. "prices.csv line 4", for messages

    @property
    def key(self) -> tuple[str | None, str, str]:
        """The (client_id, provider, model) whose windows must not overlap."""
        return (self.client_id, self.provider, self.model)

    @property
    def scope(self) -> str:
        """'client' for a client's own price, 'global' for every client's."""
        return "global" if self.client_id is None else "client"

    def in_force(self, at: datetime) -> bool:
        """Say whether this window covers the instant `at`."""
        return self.effective_from <= at and (self.effective_to is None or at < self.effective_to)

    def overlaps(self, other: "ConfigPrice") -> bool:
        """Say whether two windows share an instant."""
        return (other.effective_to is None or self.effective_from < other.effective_to) and (
            self.effective_to is None or other.effective_from < self.effective_to
        )

    def describe(self) -> str:
        """Name the key and window in words."""
        who = f"client {self.client_id}" if self.client_id else "all clients"
        until = format_time(self.effective_to) if self.effective_to else "open"
        return f"{self.provider}/{self.model} for {who} from {format_time(self.effective_from)} to {until}"


def to_unit_prices(price: ConfigPrice) -> UnitPrices:
    """Convert a configured price to per-token / per-second prices (the prompt price is the audio price of a time unit)."""
    units, by_time = UNITS[price.unit]
    if by_time:
        return UnitPrices(per_second=per_unit(price.prompt_price, units))
    return UnitPrices(
        input_per_token=per_unit(price.prompt_price, units),
        output_per_token=per_unit(price.completion_price, units) if price.completion_price is not None else None,
        cached_input_per_token=(
            per_unit(price.cached_prompt_price, units) if price.cached_prompt_price is not None else None
        ),
    )


def utc(value: datetime) -> datetime:
    """Make a timestamp UTC-aware (SQLite gives back naive UTC)."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def parse_time(text: str) -> datetime:
    """Read an RFC 3339 timestamp (a bare date is midnight UTC); raise ValueError naming the text."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None and ("T" in value or " " in value):
        raise ValueError(f"{text!r} has no UTC offset (write it like 2026-11-01T00:00:00Z)")
    return utc(parsed)


def format_time(value: datetime) -> str:
    """Write a timestamp as RFC 3339 in UTC."""
    return utc(value).isoformat().replace("+00:00", "Z")


def parse_price(text: str | None, what: str, *, required: bool) -> Decimal | None:
    """Read a price as an exact Decimal; None when empty and optional."""
    if text is None or not str(text).strip():
        if required:
            raise ValueError(f"{what} is missing")
        return None
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"{what} {text!r} is not a number") from None
    if not value.is_finite():
        raise ValueError(f"{what} {text!r} is not a number")
    return value


def check_price(price: ConfigPrice) -> None:
    """Refuse a price that cannot be right: unknown unit, negative price, end not after start, missing names."""
    if not price.provider or not price.model:
        raise PricingConfigError("provider and model must not be empty")
    if price.unit not in UNITS:
        raise PricingConfigError(f"unknown unit {price.unit!r}; use one of {', '.join(UNITS)}")
    for name in ("prompt_price", "completion_price", "cached_prompt_price"):
        value = getattr(price, name)
        if value is not None and value < 0:
            raise PricingConfigError(f"{name} {value} is negative")
    by_time = UNITS[price.unit][1]
    if price.completion_price is None and not by_time:
        raise PricingConfigError(f"a token price ({price.unit}) needs a completion price")
    if by_time and (price.completion_price is not None or price.cached_prompt_price is not None):
        raise PricingConfigError(f"a {price.unit} price bills audio time: give the prompt price only, "
                                 "no completion or cached prompt price")
    if price.effective_to is not None and price.effective_to <= price.effective_from:
        raise PricingConfigError(
            f"the price ends ({format_time(price.effective_to)}) before it starts ({format_time(price.effective_from)})"
        )


def read_prices(conn: Connection | Engine, *, client_id: str | None = None) -> list[ConfigPrice]:
    """Read every pricing_config row (only one client's and the global ones when `client_id` is given)."""
    # Global rows first on every dialect (SQLite sorts NULL first, PostgreSQL last), so exports compare equal.
    query = select(pricing_config).order_by(
        pricing_config.c.provider, pricing_config.c.model, pricing_config.c.client_id.nulls_first(),
        pricing_config.c.effective_from,
    )
    if client_id is not None:
        query = query.where(or_(pricing_config.c.client_id == client_id, pricing_config.c.client_id.is_(None)))
    if isinstance(conn, Engine):
        with conn.connect() as c:
            rows = c.execute(query).mappings().all()
    else:
        rows = conn.execute(query).mappings().all()
    return [_from_row(r) for r in rows]


def _from_row(row) -> ConfigPrice:
    return ConfigPrice(
        client_id=row["client_id"], provider=row["provider"], model=row["model"], unit=row["unit"],
        prompt_price=row["prompt_price"], completion_price=row["completion_price"],
        cached_prompt_price=row["cached_prompt_price"], effective_from=utc(row["effective_from"]),
        effective_to=utc(row["effective_to"]) if row["effective_to"] is not None else None,
        note=row["note"], id=row["id"], created_at=utc(row["created_at"]),
    )


def add_prices(engine: Engine, prices: list[ConfigPrice], *, now: datetime | None = None) -> list[str]:
    """Store new prices in one transaction (all or none); return what was done, one line each.

    A new price for a key whose open window started earlier closes that window at the new start. A price
    identical to a stored window (same key, dates and prices) is skipped, so an exported file re-imports.
    Any other overlap is refused with PricingConfigError (naming the price's origin) and nothing is stored.
    """
    now = now or datetime.now(timezone.utc)
    done: list[str] = []
    with engine.begin() as conn:
        for price in sorted(prices, key=lambda p: (p.key[0] or "", p.key[1], p.key[2], p.effective_from)):
            try:
                done.append(_add_price(conn, price, now))
            except PricingConfigError as exc:
                if price.origin is None:
                    raise
                raise PricingConfigError(f"{price.origin}: {exc}") from None
    return done


def _add_price(conn: Connection, price: ConfigPrice, now: datetime) -> str:
    check_price(price)
    stored = [p for p in read_prices(conn) if p.key == price.key]
    if any(_same_window(p, price) for p in stored):
        return f"already present: {price.describe()}"
    closing = next(
        (p for p in stored if p.effective_to is None and p.effective_from < price.effective_from), None
    )
    for other in stored:
        other_now = replace(other, effective_to=price.effective_from) if other is closing else other
        if other_now.overlaps(price):
            raise PricingConfigError(f"the new price {price.describe()} overlaps the stored price #{other.id} "
                                     f"{other.describe()}")
    lines = []
    if closing is not None:
        _end_window(conn, closing, price.effective_from, now)
        lines.append(f"closed price #{closing.id} {closing.describe()} at {format_time(price.effective_from)}")
    new_id = conn.execute(insert(pricing_config).values(
        client_id=price.client_id, provider=price.provider, model=price.model, unit=price.unit,
        prompt_price=price.prompt_price, completion_price=price.completion_price,
        cached_prompt_price=price.cached_prompt_price, effective_from=price.effective_from,
        effective_to=price.effective_to, note=price.note, created_at=now,
    )).inserted_primary_key[0]
    conn.execute(insert(pricing_changes).values(
        pricing_config_id=new_id, action="created", effective_at=price.effective_from, changed_at=now))
    lines.append(f"added price #{new_id} {replace(price, id=new_id).describe()}: {describe_amounts(price)}")
    return "\n".join(lines)


def _same_window(a: ConfigPrice, b: ConfigPrice) -> bool:
    return (a.key, a.unit, a.prompt_price, a.completion_price, a.cached_prompt_price, a.effective_from,
            a.effective_to) == (b.key, b.unit, b.prompt_price, b.completion_price, b.cached_prompt_price,
                                b.effective_from, b.effective_to)


def _end_window(conn: Connection, price: ConfigPrice, at: datetime, now: datetime) -> None:
    conn.execute(update(pricing_config).where(pricing_config.c.id == price.id).values(effective_to=at))
    conn.execute(insert(pricing_changes).values(
        pricing_config_id=price.id, action="ended", effective_at=at, changed_at=now))


def end_price(engine: Engine, *, client_id: str | None, provider: str, model: str, at: datetime,
              now: datetime | None = None) -> str:
    """End the open window of a key at `at`; return what was done."""
    now = now or datetime.now(timezone.utc)
    with engine.begin() as conn:
        stored = [p for p in read_prices(conn) if p.key == (client_id, provider, model)]
        open_window = next((p for p in stored if p.effective_to is None), None)
        who = f"client {client_id}" if client_id else "all clients"
        if open_window is None:
            raise PricingConfigError(f"no open price for {provider}/{model} for {who} to end")
        if at <= open_window.effective_from:
            raise PricingConfigError(f"cannot end price #{open_window.id} {open_window.describe()} at "
                                     f"{format_time(at)}: the end must come after the start")
        _end_window(conn, open_window, at, now)
    return f"ended price #{open_window.id} {open_window.describe()} at {format_time(at)}"


def describe_amounts(price: ConfigPrice) -> str:
    """Write a price's amounts with its unit, e.g. '$0.59 prompt / $0.79 completion per_1m_tokens'."""
    if UNITS.get(price.unit, (0, False))[1]:
        return f"${_plain(price.prompt_price)} audio {price.unit}"
    parts = [f"${_plain(price.prompt_price)} prompt", f"${_plain(price.completion_price)} completion"]
    if price.cached_prompt_price is not None:
        parts.append(f"${_plain(price.cached_prompt_price)} cached prompt")
    return " / ".join(parts) + f" {price.unit}"


# --- change detection, for repricing --------------------------------------------------------------------


def price_changes_since(engine: Engine, since: datetime) -> bool:
    """Say whether any pricing_config window was created or ended at or after `since`."""
    since = utc(since)
    with engine.connect() as conn:
        logged = conn.execute(
            select(pricing_changes.c.id).where(pricing_changes.c.changed_at >= since).limit(1)).first()
        created = conn.execute(
            select(pricing_config.c.id).where(pricing_config.c.created_at >= since).limit(1)).first()
    return logged is not None or created is not None


def prices_fingerprint(engine: Engine) -> str:
    """Hash every configured window and the catalogue version: equal fingerprints price every call alike."""
    digest = hashlib.sha256(f"genai-prices {catalogue_version()}\n".encode())
    for p in read_prices(engine):
        digest.update(repr((p.key, p.unit, str(p.prompt_price), str(p.completion_price), str(p.cached_prompt_price),
                            format_time(p.effective_from),
                            format_time(p.effective_to) if p.effective_to else None)).encode() + b"\n")
    return digest.hexdigest()


# --- CSV ---------------------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[ConfigPrice]:
    """Read a prices CSV; raise PricingConfigError naming the first bad line and why."""
    prices = []
    for line, row in csv_rows(path, REQUIRED_CSV_COLUMNS, PricingConfigError):
        try:
            price = replace(_price_from_csv(row), origin=f"{path} line {line}")
            check_price(price)
        except (ValueError, PricingConfigError) as exc:
            raise PricingConfigError(f"{path} line {line}: {exc}") from None
        prices.append((line, price))
    _check_file_overlaps(path, prices)
    return [p for _, p in prices]


def _price_from_csv(row: dict) -> ConfigPrice:
    def text(name: str) -> str:
        return (row.get(name) or "").strip()

    effective_to = text("effective_to")
    return ConfigPrice(
        client_id=text("client_id") or None,
        provider=text("provider"),
        model=text("model"),
        unit=text("unit"),
        prompt_price=parse_price(row.get("prompt_price"), "prompt_price", required=True),
        completion_price=parse_price(row.get("completion_price"), "completion_price", required=False),
        cached_prompt_price=parse_price(row.get("cached_prompt_price"), "cached_prompt_price", required=False),
        effective_from=parse_time(text("effective_from")) if text("effective_from") else _missing("effective_from"),
        effective_to=parse_time(effective_to) if effective_to else None,
        note=text("note") or None,
    )


def _missing(name: str):
    raise ValueError(f"{name} is missing")


def _check_file_overlaps(path: Path, prices: list[tuple[int, ConfigPrice]]) -> None:
    """Refuse a file whose own rows overlap for one key (an open row followed by a later one is fine)."""
    by_key: dict[tuple, list[tuple[int, ConfigPrice]]] = {}
    for line, price in prices:
        by_key.setdefault(price.key, []).append((line, price))
    for rows in by_key.values():
        rows.sort(key=lambda r: r[1].effective_from)
        for (line_a, a), (line_b, b) in zip(rows, rows[1:]):
            if a.effective_from == b.effective_from or (a.effective_to is not None and a.effective_to > b.effective_from):
                raise PricingConfigError(f"{path} line {line_b}: overlaps line {line_a} ({a.describe()})")


def write_csv(prices: list[ConfigPrice], out: io.TextIOBase) -> int:
    """Write prices as a CSV that `prices import` reads back; return the row count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in prices:
        writer.writerow([
            p.client_id or "", p.provider, p.model, p.unit, _plain(p.prompt_price), _plain(p.completion_price),
            _plain(p.cached_prompt_price), format_time(p.effective_from),
            format_time(p.effective_to) if p.effective_to else "", p.note or "",
        ])
    return len(prices)


def _plain(value: Decimal | None) -> str:
    """Write a Decimal without exponent or trailing zeros."""
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def in_force(prices: list[ConfigPrice], at: datetime) -> list[ConfigPrice]:
    """Keep the windows that cover `at`."""
    return [p for p in prices if p.in_force(at)]


__all__ = [
    "ConfigPrice", "PricingConfigError", "UNITS", "add_prices", "end_price", "price_changes_since",
    "prices_fingerprint", "read_prices", "read_csv", "write_csv", "to_unit_prices", "parse_time", "format_time",
]
