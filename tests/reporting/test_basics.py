"""Periods, phone masking and number formatting."""
from __future__ import annotations

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from usage_etl.reporting.formatting import change_pct, decimal_text, format_usd
from usage_etl.reporting.masking import mask_phone
from usage_etl.reporting.periods import daily_period, default_daily, default_weekly, parse_week


@pytest.mark.parametrize("phone, masked", [
    ("+5511987651234", "+55 11 9****-1234"),
    ("5511987651234", "+55 11 9****-1234"),
    ("+55 (21) 3333-4444", "+55 21 ****-4444"),
    ("+14155550123", "+14 ****-0123"),
    ("123", "****"),
    (None, None),
], ids=["br-mobile", "no-plus", "br-landline", "other-country", "too-short", "none"])
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("amount, en, pt", [
    ("0.0001517", "$0.0001517", "$0,0001517"),
    ("0.00012345678", "$0.000123457", "$0,000123457"),
    ("0.0123456", "$0.0123", "$0,0123"),
    ("1234.567", "$1,234.57", "$1.234,57"),
    ("0", "$0.00", "$0,00"),
], ids=["seed-call", "six-significant", "cents", "dollars", "zero"])
def test_small_costs_never_show_as_zero(amount, en, pt):
    assert format_usd(Decimal(amount), "en") == en
    assert format_usd(Decimal(amount), "pt_BR") == pt


def test_decimal_text_and_change():
    assert decimal_text(Decimal("0.006603400000")) == "0.0066034"
    assert decimal_text(Decimal("100.000")) == "100"
    assert change_pct(Decimal("3"), Decimal("2")) == Decimal("50.0")
    assert change_pct(5, 0) is None


def test_periods():
    week = parse_week("2026-W47")
    assert (week.first_day, week.last_day) == (date(2026, 11, 16), date(2026, 11, 22))
    assert week.previous().label == "2026-W46"
    assert default_weekly(date(2026, 11, 23)).label == "2026-W47"  # a Monday: the week just ended
    assert default_weekly(date(2026, 11, 22)).label == "2026-W46"  # a Sunday: its week is not over
    assert default_daily(date(2026, 11, 23)).label == "2026-11-22"
    start, end = daily_period(date(2026, 11, 22)).utc_bounds("America/Sao_Paulo")
    assert (start, end) == (datetime(2026, 11, 22, 3, tzinfo=timezone.utc), datetime(2026, 11, 23, 3, tzinfo=timezone.utc))
    with pytest.raises(ValueError):
        parse_week("2026-47")
