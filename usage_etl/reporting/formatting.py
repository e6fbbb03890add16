"""How numbers read in a report: exact USD amounts that never show a small cost as $0.00, counts, changes."""
from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

SMALL_COST_SIGNIFICANT_DIGITS = 6


def usd_digits(amount: Decimal) -> Decimal:
    """Round an amount for display: cents from $1, 4 decimals from 1 cent, else 6 significant digits."""
    magnitude = abs(amount)
    if magnitude >= 1:
        places = 2
    elif magnitude >= Decimal("0.01"):
        places = 4
    elif magnitude == 0:
        places = 2
    else:
        places = SMALL_COST_SIGNIFICANT_DIGITS - 1 - magnitude.adjusted()
    rounded = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if places > 2:  # below a dollar, trailing zeros only add noise; keep at least cents
        text = format(rounded, "f").rstrip("0")
        whole, _, frac = text.partition(".")
        rounded = Decimal(f"{whole}.{frac.ljust(2, '0')}")
    return rounded


def _localise(text: str, locale: str) -> str:
    """Swap the separators of an English-formatted number for pt-BR ones."""
    if locale.replace("-", "_").lower().startswith("en"):
        return text
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


def format_usd(amount: Decimal | None, locale: str = "pt_BR") -> str:
    """Format a USD amount: '$1,234.57', '$0.0123', '$0.0001517'; '—' when unknown."""
    if amount is None:
        return "—"
    rounded = usd_digits(Decimal(amount))
    sign = "-" if rounded < 0 else ""
    return f"{sign}${_localise(f'{abs(rounded):,f}', locale)}"


def format_count(value: int | Decimal | None, locale: str = "pt_BR", places: int = 0) -> str:
    """Format a count or quantity with thousands separators."""
    if value is None:
        return "—"
    return _localise(f"{value:,.{places}f}", locale)


def format_change(change_pct: Decimal | None, new_label: str, locale: str = "pt_BR") -> str:
    """Format a change against the previous period: '+12.5%', '-3.0%', or the 'new' label when nothing before."""
    if change_pct is None:
        return new_label
    sign = "+" if change_pct > 0 else ""
    return f"{sign}{_localise(f'{change_pct:,.1f}', locale)}%"


def format_local_time(value: datetime | None, tz: str, with_date: bool = True) -> str:
    """Format an instant in the report's time zone."""
    if value is None:
        return "—"
    local = value.astimezone(ZoneInfo(tz))
    return local.strftime("%Y-%m-%d %H:%M" if with_date else "%H:%M")


def change_pct(current: Decimal | int, previous: Decimal | int) -> Decimal | None:
    """Return the change from previous to current in percent, None when there was nothing before."""
    if not previous:
        return None
    return ((Decimal(current) - Decimal(previous)) * 100 / Decimal(previous)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def decimal_text(value: Decimal) -> str:
    """Return an exact decimal as plain text without trailing zeros or exponent: '0.0001517', '100', '0'."""
    text = format(Decimal(value).normalize(), "f")
    return "0" if text == "-0" else text
