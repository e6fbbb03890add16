"""The default catalogue of public list prices: the `genai-prices` package, read as price windows.

genai-prices keeps, per provider and model, either one price or a list of prices each starting on a UTC
date. Here that becomes windows [effective_from, effective_to) of per-token (and per-second) Decimal prices,
the shape of usage_etl.columns.PRICE_COLUMNS. Only the standard price is used: batch / service-tier
variants and time-of-day discounts do not apply to the chatbot's calls; a tiered price uses its base tier.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version

from genai_prices import data_snapshot
from genai_prices.types import ConditionalPrice, ModelInfo, ModelPrice, StartDateConstraint, TieredPrices

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
PRICE_SCALE = Decimal("1e-18")  # PRICE_COLUMNS are DECIMAL(38,18)
PER_TOKEN_FIELDS = ("input_per_token", "output_per_token", "cached_input_per_token", "cache_write_per_token",
                    "audio_input_per_token", "audio_output_per_token", "per_second")

# genai-prices price key → (our per-unit field, how many units the catalogue price is for)
CATALOGUE_KEYS: tuple[tuple[str, str, int], ...] = (
    ("input_mtok", "input_per_token", 1_000_000),
    ("output_mtok", "output_per_token", 1_000_000),
    ("cache_read_mtok", "cached_input_per_token", 1_000_000),
    ("cache_write_mtok", "cache_write_per_token", 1_000_000),
    ("input_audio_mtok", "audio_input_per_token", 1_000_000),
    ("output_audio_mtok", "audio_output_per_token", 1_000_000),
    ("audio_hours", "per_second", 3600),
    ("input_audio_hours", "per_second", 3600),
)


@dataclass(frozen=True)
class UnitPrices:
    """One price in per-token / per-second USD; None where the price has no such part."""

    input_per_token: Decimal | None = None
    output_per_token: Decimal | None = None
    cached_input_per_token: Decimal | None = None
    cache_write_per_token: Decimal | None = None
    audio_input_per_token: Decimal | None = None
    audio_output_per_token: Decimal | None = None
    per_second: Decimal | None = None

    @property
    def usable(self) -> bool:
        """Say whether this price can bill tokens or audio time."""
        return self.input_per_token is not None or self.output_per_token is not None or self.per_second is not None

    def as_tuple(self) -> tuple[Decimal | None, ...]:
        """The prices in PER_TOKEN_FIELDS order."""
        return tuple(getattr(self, f) for f in PER_TOKEN_FIELDS)


@dataclass(frozen=True)
class PriceWindow:
    """A price in force from `effective_from` (included) to `effective_to` (excluded; None: still in force)."""

    effective_from: datetime
    effective_to: datetime | None
    prices: UnitPrices


def per_unit(price: Decimal, units: int) -> Decimal:
    """Turn a price for `units` units into the price of one, kept to DECIMAL(38,18)."""
    return (Decimal(price) / Decimal(units)).quantize(PRICE_SCALE, rounding=ROUND_HALF_EVEN)


def catalogue_version() -> str:
    """Name the genai-prices release whose prices are in use."""
    try:
        return version("genai-prices")
    except PackageNotFoundError:  # pragma: no cover - installed as a dependency
        return "unknown"


def find_model(provider: str, model: str) -> ModelInfo | None:
    """Find the catalogue's entry for a model id as a log names it (dated ids included); None if absent."""
    return _find_model(provider.lower(), model.lower())


@lru_cache(maxsize=4096)
def _find_model(provider: str, model: str) -> ModelInfo | None:
    try:
        _, info = data_snapshot.get_snapshot().find_provider_model(model, None, provider, None)
    except LookupError:
        return None
    return info


def canonical_model(provider: str, model: str) -> str | None:
    """Name the catalogue's id for a model (`gpt-4o` for `gpt-4o-2024-08-06`); None if not in the catalogue."""
    info = find_model(provider, model)
    return info.id if info is not None else None


def unit_prices(price: ModelPrice) -> UnitPrices:
    """Convert one catalogue price (per million tokens, per hour of audio) to per-token / per-second prices."""
    values: dict[str, Decimal] = {}
    for key, field, units in CATALOGUE_KEYS:
        raw = getattr(price, key, None)
        if raw is None or field in values:
            continue
        base = raw.base if isinstance(raw, TieredPrices) else raw
        values[field] = per_unit(base, units)
    return UnitPrices(**values)


def price_windows(provider: str, model: str) -> list[PriceWindow]:
    """List the catalogue's price history for a model as non-overlapping windows, oldest first."""
    info = find_model(provider, model)
    if info is None:
        return []
    if isinstance(info.prices, ModelPrice):
        prices = unit_prices(info.prices)
        return [PriceWindow(EPOCH, None, prices)] if prices.usable else []
    starts = sorted({c.constraint.start_date for c in info.prices if isinstance(c.constraint, StartDateConstraint)})
    bounds = [EPOCH] + [datetime(d.year, d.month, d.day, tzinfo=timezone.utc) for d in starts]
    windows: list[PriceWindow] = []
    for i, start in enumerate(bounds):
        end = bounds[i + 1] if i + 1 < len(bounds) else None
        prices = unit_prices(_standard_price_on(info.prices, start.date()))
        if windows and windows[-1].prices == prices:
            windows[-1] = PriceWindow(windows[-1].effective_from, end, prices)
        else:
            windows.append(PriceWindow(start, end, prices))
    return [w for w in windows if w.prices.usable]


def _standard_price_on(prices: list[ConditionalPrice], day: date) -> ModelPrice:
    """Pick the price genai-prices uses on a day: the last one started by then, else the first."""
    for conditional in reversed(prices):
        constraint = conditional.constraint
        if constraint is None or (isinstance(constraint, StartDateConstraint) and constraint.start_date <= day):
            return conditional.prices
    return prices[0].prices


def current_prices(provider: str, model: str, at: datetime | None = None) -> UnitPrices | None:
    """Give the catalogue's price for a model in force at `at` (default now); None if it has none."""
    at = at or datetime.now(timezone.utc)
    for window in price_windows(provider, model):
        if window.effective_from <= at and (window.effective_to is None or at < window.effective_to):
            return window.prices
    return None


def describe_prices(prices: UnitPrices) -> str:
    """Say a price the way people quote it: $ per 1M tokens, or $ per hour of audio."""
    parts = []
    if prices.per_second is not None:
        parts.append(f"${_shown(prices.per_second * 3600)}/hour of audio")
    tokens = []
    for field, name in (("input_per_token", "in"), ("cached_input_per_token", "cached"),
                        ("cache_write_per_token", "cache write"), ("audio_input_per_token", "audio in"),
                        ("output_per_token", "out"), ("audio_output_per_token", "audio out")):
        value = getattr(prices, field)
        if value is not None:
            tokens.append(f"${_shown(value * 1_000_000)} {name}")
    if tokens:
        parts.append(" / ".join(tokens) + " per 1M tokens")
    return "; ".join(parts) or "no price"


def _shown(value: Decimal) -> str:
    """Write an amount for people: at most 9 decimals (per-second prices are kept to 18), no trailing zeros."""
    text = format(value.quantize(Decimal("1e-9"), rounding=ROUND_HALF_EVEN).normalize(), "f")
    return text
